import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { commands } from '../../../src/cli/commands/index.js';
import { loadCommand, type Command } from '../../../src/cli/command.js';
import { runCli } from '../../../src/cli/dispatch.js';
import { isAlias } from '../../../src/cli/options.js';

/** The image commands keep hand-written usage (they belong to the image store). */
const tableCommands = commands.filter((c) => !c.name.startsWith('image '));

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  return { io: { stdout, stderr, env: {} }, out: () => out, err: () => err };
}

async function loaded(): Promise<Command[]> {
  return Promise.all(tableCommands.map((e) => loadCommand(e)));
}

describe('usage generated from the option tables', () => {
  it('every command but the image ones has an option table', async () => {
    for (const c of await loaded()) expect(c.options, c.name).toBeDefined();
  }, 30_000);

  it("every command's usage lists every flag of its table: long names, aliases, short forms and env", async () => {
    for (const c of await loaded()) {
      for (const [name, s] of Object.entries(c.options ?? {})) {
        if (!isAlias(s) && s.hidden) {
          expect(c.usage, `${c.name}: hidden --${name}`).not.toMatch(new RegExp(`--${name}\\b`));
          continue;
        }
        expect(c.usage, `${c.name}: --${name}`).toMatch(new RegExp(`--${name}\\b`));
        if (isAlias(s)) continue;
        if (s.short) expect(c.usage, `${c.name}: -${s.short}`).toContain(`-${s.short}, --`);
        if (s.env) expect(c.usage, `${c.name}: ${s.env}`).toContain(`[env: ${s.env}]`);
        if (s.default) expect(c.usage, `${c.name}: default of --${name}`).toContain(`[default: ${s.default}]`);
      }
    }
  }, 30_000);

  it('every flag of a table has help, and every alias names a flag of the same type in its table', async () => {
    for (const c of await loaded()) {
      const table = c.options ?? {};
      for (const [name, s] of Object.entries(table)) {
        if (isAlias(s)) {
          const target = table[s.aliasOf];
          expect(target && !isAlias(target) ? target.type : undefined, `${c.name}: --${name}`).toBe(s.type);
        } else {
          expect(s.help.length, `${c.name}: --${name}`).toBeGreaterThan(0);
        }
      }
    }
  }, 30_000);

  it('usage lines stay within 110 columns', async () => {
    for (const c of await loaded()) {
      for (const line of c.usage.split('\n')) expect(line.length, `${c.name}: ${line}`).toBeLessThanOrEqual(110);
    }
  }, 30_000);

  it('`stasis run --help` and `stasis serve --help` print the generated usage', async () => {
    const run = io();
    expect(await runCli(commands, ['run', '--help'], run.io)).toBe(0);
    expect(run.out()).toMatch(/^Usage: stasis run \[options\] -- COMMAND/);
    expect(run.out()).toContain('-t, --tty');
    expect(run.out()).toContain('--pids, --pids-limit N');
    const serve = io();
    expect(await runCli(commands, ['serve', '--help'], serve.io)).toBe(0);
    expect(serve.out()).toContain('a plain number is milliseconds');
    expect(serve.out()).toContain('[env: STASIS_DRAIN_TIMEOUT]');
  }, 30_000);

  it('bad timings, --rm on submit and -t with a value are refused with exit 2 before anything starts', async () => {
    for (const args of [
      ['serve', '--drain-timeout', 'soon'],
      ['serve', '--stalled-interval', '1.5'],
      ['submit', '--rm', '--', 'true'],
      ['run', '-t', '30', '--', 'sleep', '1'],
      ['job', 'ps', '7', '--ack-timeout', '2h'],
    ]) {
      const h = io();
      expect(await runCli(commands, args, h.io), args.join(' ')).toBe(2);
      expect(h.err()).toMatch(/^stasis: /);
      expect(h.err()).toContain('Usage: stasis ');
    }
  }, 30_000);
});
