import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIO, Command } from '../../../src/cli/command.js';
import { findCommand, formatHelp, runCli } from '../../../src/cli/dispatch.js';
import { usageError } from '../../../src/cli/args.js';
import { errors } from '../../../src/errors.js';

function capture(env: NodeJS.ProcessEnv = {}): CliIO & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d) => (o += String(d)));
  stderr.on('data', (d) => (e += String(d)));
  return { stdout, stderr, env, out: () => o, err: () => e };
}

const calls: { name: string; args: string[]; env: NodeJS.ProcessEnv }[] = [];
function cmd(name: string, run?: Command['run']): Command {
  return {
    name,
    summary: `does ${name}`,
    usage: `Usage: stasis ${name}`,
    run:
      run ??
      (async (args, io) => {
        calls.push({ name, args, env: io.env });
        return 0;
      }),
  };
}

const commands = [
  cmd('task'),
  cmd('task create'),
  cmd('task list'),
  cmd('doctor'),
  cmd('fail', async () => {
    throw errors.runtime('runc start failed', { runtimeError: 'container not running', criuLog: '/x/dump.log' });
  }),
  cmd('bad', async () => {
    throw usageError('missing --id');
  }),
  cmd('invalid', async () => {
    throw errors.invalidArgument('Expected `--memory` to be a byte size like `256m`, got `x`');
  }),
  cmd('crash', async () => {
    throw new TypeError('boom');
  }),
];

describe('findCommand', () => {
  it('picks the longest matching name', () => {
    expect(findCommand(commands, ['task', 'create', '--id', 'a'])).toMatchObject({ command: { name: 'task create' }, args: ['--id', 'a'] });
    expect(findCommand(commands, ['task', 'other'])).toMatchObject({ command: { name: 'task' }, args: ['other'] });
    expect(findCommand(commands, ['nope'])).toBeNull();
  });
});

describe('formatHelp', () => {
  it('lists every command with its summary, or one group', () => {
    const all = formatHelp(commands);
    expect(all).toContain('task create  does task create');
    expect(all).toContain('doctor');
    const group = formatHelp(commands, 'task');
    expect(group).toContain('task list');
    expect(group).not.toContain('doctor');
  });
});

describe('runCli', () => {
  it('runs the matching command with the arguments after its name', async () => {
    const io = capture();
    expect(await runCli(commands, ['task', 'list', '--json'], io)).toBe(0);
    expect(calls.at(-1)).toMatchObject({ name: 'task list', args: ['--json'] });
  });

  it('passes leading global flags to the command through its environment', async () => {
    const io = capture({ KEEP: '1' });
    await runCli(commands, ['--state-dir', '/tmp/s', '-n', 'ns', 'doctor'], io);
    expect(calls.at(-1)!.env).toMatchObject({ KEEP: '1', STASIS_STATE_DIR: '/tmp/s', STASIS_NAMESPACE: 'ns' });
  });

  it('prints help on stdout for --help and exits 0', async () => {
    const io = capture();
    expect(await runCli(commands, ['--help'], io)).toBe(0);
    expect(io.out()).toContain('Commands:');
  });

  it("prints a command's usage for `<cmd> --help`", async () => {
    const io = capture();
    expect(await runCli(commands, ['task', 'create', '--help'], io)).toBe(0);
    expect(io.out()).toBe('Usage: stasis task create\n');
  });

  it('does not treat --help after -- as a help request', async () => {
    const io = capture();
    expect(await runCli(commands, ['task', 'create', '--', 'ls', '--help'], io)).toBe(0);
    expect(calls.at(-1)).toMatchObject({ name: 'task create', args: ['--', 'ls', '--help'] });
  });

  it('answers an unknown command with usage on stderr and exit 2', async () => {
    const io = capture();
    expect(await runCli(commands, ['frobnicate'], io)).toBe(2);
    expect(io.err()).toContain("stasis: unknown command 'frobnicate'");
    expect(io.err()).toContain('Commands:');
    expect(io.out()).toBe('');
  });

  it('answers no arguments with usage on stderr and exit 2', async () => {
    const io = capture();
    expect(await runCli(commands, [], io)).toBe(2);
    expect(io.err()).toContain('Usage: stasis');
  });

  it('prints a StasisError with its runtime error line and CRIU log, exit 1', async () => {
    const io = capture();
    expect(await runCli(commands, ['fail'], io)).toBe(1);
    expect(io.err()).toBe('stasis: runc start failed\n  runtime error: container not running\n  CRIU log: /x/dump.log\n');
  });

  it('prints usage after a usage error, exit 2', async () => {
    const io = capture();
    expect(await runCli(commands, ['bad'], io)).toBe(2);
    expect(io.err()).toBe('stasis: missing --id\nUsage: stasis bad\n');
  });

  it('exits 2 on ERR_INVALID_ARGUMENT without repeating the usage', async () => {
    const io = capture();
    expect(await runCli(commands, ['invalid'], io)).toBe(2);
    expect(io.err()).toBe('stasis: Expected `--memory` to be a byte size like `256m`, got `x`\n');
  });

  it('reports an unexpected error as internal, exit 1', async () => {
    const io = capture();
    expect(await runCli(commands, ['crash'], io)).toBe(1);
    expect(io.err()).toBe('stasis: internal error: boom\n');
  });

  it('prints the version', async () => {
    const io = capture();
    expect(await runCli(commands, ['--version'], io, '1.2.3')).toBe(0);
    expect(io.out()).toBe('stasis 1.2.3\n');
  });
});
