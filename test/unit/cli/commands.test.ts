import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { commands } from '../../../src/cli/commands/index.js';
import type { CommandEntry, LazyCommand } from '../../../src/cli/command.js';
import { runCli } from '../../../src/cli/dispatch.js';

const io = () => ({ stdout: new PassThrough(), stderr: new PassThrough(), env: {} });

describe('the command list', () => {
  it('loads every command lazily, and each module matches its entry', { timeout: 30_000 }, async () => {
    for (const e of commands) {
      expect('load' in e, `${e.name} is lazy`).toBe(true);
      const c = await (e as LazyCommand).load();
      expect({ name: c.name, summary: c.summary }).toEqual({ name: e.name, summary: e.summary });
      expect(typeof c.run).toBe('function');
    }
  });

  it('lists commands for --help and a group without loading any module', async () => {
    const loaded: string[] = [];
    const spied: CommandEntry[] = commands.map((e) => ({
      name: e.name,
      summary: e.summary,
      load: async () => {
        loaded.push(e.name);
        return (e as LazyCommand).load();
      },
    }));
    expect(await runCli(spied, ['--help'], io())).toBe(0);
    expect(await runCli(spied, ['task', '--help'], io())).toBe(0);
    expect(loaded).toEqual([]);
  });
});
