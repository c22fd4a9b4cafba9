import { describe, expect, it } from 'vitest';
import { templateOf, warmIneligible, warmKey } from '../../../src/runtime/warm/key.js';
import type { CreateTaskOptions } from '../../../src/runtime/task.js';

const base: CreateTaskOptions = { id: 't', rootfs: '/r', process: { args: ['true'] }, limits: { memoryBytes: 64 << 20 } };

describe('prepared-sandbox keys', () => {
  it('terminal and stdin tasks are eligible, each with a key of its own; a console size or a hostname is not', () => {
    const plain = warmKey(templateOf(base, '/r'));
    const stdin = warmKey(templateOf({ ...base, stdin: true }, '/r'));
    const tty = warmKey(templateOf({ ...base, process: { args: ['sh'], terminal: true } }, '/r'));
    expect(new Set([plain, stdin, tty]).size).toBe(3);
    expect(warmIneligible({ ...base, stdin: true })).toBeNull();
    expect(warmIneligible({ ...base, process: { args: ['sh'], terminal: true } })).toBeNull();
    expect(warmIneligible({ ...base, process: { args: ['sh'], terminal: true, consoleSize: { width: 80, height: 24 } } })).toBe('console size');
    expect(warmIneligible({ ...base, hostname: 'h' })).toBe('hostname');
  });

  it('argv, env, cwd and a timeout do not change the key; limits and the rootfs do', () => {
    const k = warmKey(templateOf(base, '/r'));
    expect(warmKey(templateOf({ ...base, process: { args: ['sh', '-c', 'x'], env: ['A=1'], cwd: '/tmp' }, timeoutSeconds: 5 }, '/r'))).toBe(k);
    expect(warmKey(templateOf({ ...base, limits: { memoryBytes: 128 << 20 } }, '/r'))).not.toBe(k);
    expect(warmKey(templateOf(base, '/other'))).not.toBe(k);
  });
});
