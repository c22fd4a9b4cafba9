import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { execOptionsFromFlags } from '../../../src/cli/commands/job-exec.js';
import { commands } from '../../../src/cli/commands/index.js';
import { runCli } from '../../../src/cli/dispatch.js';

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  return { io: { stdout, stderr, env: {} }, out: () => out, err: () => err };
}

describe('stasis job <verb> flags', () => {
  it('exec flags become exec options: env list, cwd, user, tty, timeout in ms, output cap in bytes', () => {
    expect(execOptionsFromFlags({ env: ['A=1', 'B=x=y'], cwd: '/tmp', user: '1000:100', tty: true, timeout: '1.5', 'output-bytes': '64k' })).toEqual({
      env: ['A=1', 'B=x=y'],
      cwd: '/tmp',
      user: { uid: 1000, gid: 100 },
      tty: true,
      timeoutMs: 1500,
      outputBytes: 64 * 1024,
    });
    expect(execOptionsFromFlags({ user: '7' })).toEqual({ user: { uid: 7, gid: 7 } });
    expect(execOptionsFromFlags({})).toEqual({});
  });

  it('exec flags that do not parse are usage errors naming the flag', () => {
    expect(() => execOptionsFromFlags({ user: 'root' })).toThrow(/--user/);
    expect(() => execOptionsFromFlags({ timeout: '-1' })).toThrow(/--timeout/);
    expect(() => execOptionsFromFlags({ env: ['novalue'] })).toThrow(/--env/);
  });

  it('usage errors are caught before any Redis is touched (exit 2)', async () => {
    for (const args of [['job', 'exec', '7'], ['job', 'update', '7'], ['job', 'resize', '7', '--width', '80'], ['job', 'kill', '7', '--signal', 'NO SUCH'], ['job', 'ps']]) {
      const h = io();
      expect(await runCli(commands, args, h.io), args.join(' ')).toBe(2);
      expect(h.err()).toMatch(/^stasis: /);
    }
  });

  it('`stasis job --help` lists every control verb', async () => {
    const h = io();
    expect(await runCli(commands, ['job', '--help'], h.io)).toBe(0);
    for (const v of ['pause', 'resume', 'kill', 'exec', 'ps', 'stats', 'update', 'resize', 'checkpoint']) expect(h.out()).toContain(`job ${v}`);
  });
});
