import { describe, expect, it } from 'vitest';
import { parseJobPayload } from '../../../src/queue/job-schema.js';
import { hasCode, StasisError } from '../../../src/errors.js';

function failure(data: unknown): StasisError {
  try {
    parseJobPayload(data);
  } catch (e) {
    if (hasCode(e, 'ERR_INVALID_ARGUMENT')) return e as StasisError;
    throw e;
  }
  throw new Error('expected a failure');
}

describe('parseJobPayload', () => {
  it('ignores the envelope a failOnNonZero failure left in the data (a retry re-parses it)', () => {
    const p = parseJobPayload({ command: ['false'], failOnNonZero: true, stasisResult: { exitStatus: 1 } });
    expect(p).toEqual({ command: ['false'], failOnNonZero: true });
  });

  it('accepts a minimal payload and parses byte sizes and cpus', () => {
    const p = parseJobPayload({ command: ['true'], limits: { memory: '256m', cpus: '0.5', outputBytes: 1024 } });
    expect(p.command).toEqual(['true']);
    expect(p.limits).toEqual({ memory: 256 * 1024 * 1024, cpus: 0.5, outputBytes: 1024 });
  });

  it('lists every bad field by path in one error', () => {
    const e = failure({ command: [], limits: { memory: -1, cpus: 'lots', pids: 1.5 }, network: 'bridge' });
    expect(e.details.fields).toEqual(expect.arrayContaining(['command', 'limits.memory', 'limits.cpus', 'limits.pids', 'network']));
    expect(e.message).toContain('Expected `limits.memory` to be a byte size like `256m`, got `-1`');
    expect(e.message).toContain('limits.cpus');
  });

  it('rejects unknown keys, naming them', () => {
    const e = failure({ command: ['true'], imagee: 'alpine', limits: { swap: 1 } });
    expect(e.message).toContain('Unknown field: `imagee`');
    expect(e.message).toContain('`swap`');
  });

  it('rejects a missing command and non-object data', () => {
    expect(failure({}).message).toContain('`command`');
    expect(failure('true').code).toBe('ERR_INVALID_ARGUMENT');
    expect(failure(null).code).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('parseJobPayload refuses at the door what runc or the kernel would refuse later', () => {
  it.each([
    ['a NUL byte in argv', { command: ['echo', 'a\0b'] }, 'command.1'],
    ['a NUL byte in an env value', { command: ['x'], env: { A: 'x\0y' } }, 'env.A'],
    ['an env key with `=`', { command: ['x'], env: { 'PATH=/evil:': '1' } }, 'env'],
    ['an env key starting with a digit', { command: ['x'], env: { '1A': '1' } }, 'env'],
    ['a cwd longer than PATH_MAX', { command: ['x'], cwd: `/${'a'.repeat(5000)}` }, 'cwd'],
    ['a cwd component longer than NAME_MAX', { command: ['x'], cwd: `/${'a'.repeat(300)}` }, 'cwd'],
    ['a relative cwd', { command: ['x'], cwd: 'tmp' }, 'cwd'],
    ['a 1k memory limit', { command: ['x'], limits: { memory: '1k' } }, 'limits.memory'],
    ['a 4k memory limit', { command: ['x'], limits: { memory: '4k' } }, 'limits.memory'],
    ['a 1m memory limit', { command: ['x'], limits: { memory: '1m' } }, 'limits.memory'],
    ['a uid of 2^31', { command: ['x'], user: { uid: 2 ** 31, gid: 0 } }, 'user.uid'],
    ['a negative gid', { command: ['x'], user: { uid: 0, gid: -1 } }, 'user.gid'],
    ['an empty program name', { command: [''] }, 'command'],
    ['an argument over 128 KiB', { command: ['echo', 'x'.repeat(200 * 1024)] }, 'command.1'],
    ['argv and env over 1 MiB together', { command: ['echo', ...Array.from({ length: 12 }, () => 'x'.repeat(100 * 1024))] }, 'command'],
    ['a relative rootfs', { command: ['x'], rootfs: '../..' }, 'rootfs'],
    ['a NUL byte in rootfs', { command: ['x'], rootfs: '/srv/a\0b' }, 'rootfs'],
    ['an annotation key with spaces', { command: ['x'], annotations: { 'a b': '1' } }, 'annotations'],
    ['an annotation value over 4 KiB', { command: ['x'], annotations: { a: 'v'.repeat(5000) } }, 'annotations.a'],
    ['cpus below the kernel quota floor', { command: ['x'], limits: { cpus: 0.001 } }, 'limits.cpus'],
    ['a disk below 1 MiB', { command: ['x'], limits: { disk: '64k' } }, 'limits.disk'],
    ['a negative kill grace', { command: ['x'], limits: { killGrace: -1 } }, 'limits.killGrace'],
  ])('refuses %s naming the field', (_what, data, field) => {
    const e = failure(data);
    expect(e.details.fields).toContain(field);
  });

  it('takes durations with units and a zero kill grace', () => {
    const p = parseJobPayload({ command: ['x'], limits: { timeout: '1.5s', cpuTime: '2m', killGrace: 0, disk: '1g' } });
    expect(p.limits).toEqual({ timeout: 1.5, cpuTime: 120, killGrace: 0, disk: 1024 ** 3 });
  });

  it('refuses a payload above the node maximum size', () => {
    expect(() => parseJobPayload({ command: ['x'], stdin: 'y'.repeat(2000) }, 1000)).toThrow(/at most 1000 bytes/);
  });
});
