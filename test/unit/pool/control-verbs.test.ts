import { describe, expect, it } from 'vitest';
import { TaskCallSchema, parseTaskCall } from '../../../src/pool/control-verbs.js';

describe('control calls (control-verbs.ts)', () => {
  it('fills defaults: kill is SIGTERM to the main process, exec has a 60 s timeout and a 1 MiB cap', () => {
    expect(parseTaskCall({ verb: 'kill', args: {} })).toEqual({ verb: 'kill', args: { signal: 'SIGTERM', all: false } });
    expect(parseTaskCall({ verb: 'exec', args: { args: ['true'] } })).toEqual({
      verb: 'exec',
      args: { args: ['true'], tty: false, timeoutMs: 60_000, outputBytes: 1 << 20 },
    });
    expect(parseTaskCall({ verb: 'pause' })).toEqual({ verb: 'pause', args: {} });
  });

  it('accepts signals by name or number and refuses others', () => {
    expect(parseTaskCall({ verb: 'kill', args: { signal: 9, all: true } }).args).toEqual({ signal: 9, all: true });
    expect(TaskCallSchema.safeParse({ verb: 'kill', args: { signal: 'KILL; rm -rf /' } }).success).toBe(false);
    expect(TaskCallSchema.safeParse({ verb: 'kill', args: { signal: 99 } }).success).toBe(false);
  });

  it('refuses an empty exec command, a relative cwd and unknown fields', () => {
    expect(TaskCallSchema.safeParse({ verb: 'exec', args: { args: [] } }).success).toBe(false);
    expect(TaskCallSchema.safeParse({ verb: 'exec', args: { args: ['ls'], cwd: 'tmp' } }).success).toBe(false);
    expect(TaskCallSchema.safeParse({ verb: 'exec', args: { args: ['ls'], shell: true } }).success).toBe(false);
    expect(TaskCallSchema.safeParse({ verb: 'pause', args: { now: true } }).success).toBe(false);
  });

  it('update needs at least one resource; resize needs a positive size; checkpoint an absolute path', () => {
    expect(TaskCallSchema.safeParse({ verb: 'update', args: { resources: {} } }).success).toBe(false);
    expect(parseTaskCall({ verb: 'update', args: { resources: { memoryBytes: 64 << 20, pids: 20 } } }).args).toEqual({
      resources: { memoryBytes: 64 << 20, pids: 20 },
    });
    expect(TaskCallSchema.safeParse({ verb: 'resize', args: { width: 0, height: 10 } }).success).toBe(false);
    expect(TaskCallSchema.safeParse({ verb: 'checkpoint', args: { path: 'rel/dir' } }).success).toBe(false);
    expect(parseTaskCall({ verb: 'checkpoint', args: { path: '/x', leaveRunning: true } }).args).toEqual({ path: '/x', leaveRunning: true });
  });

  it('refuses an unknown verb', () => {
    expect(TaskCallSchema.safeParse({ verb: 'format-disk', args: {} }).success).toBe(false);
  });
});
