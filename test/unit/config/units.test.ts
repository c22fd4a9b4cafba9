import { describe, expect, it } from 'vitest';
import { formatBytes, parseByteSize, parseCpus, parseDuration } from '../../../src/config/units.js';
import { cpuQuota } from '../../../src/sandbox/limits.js';

describe('parseByteSize', () => {
  it.each([
    ['256m', 256 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['512k', 512 * 1024],
    ['1.5G', 1.5 * 1024 ** 3],
    ['64MiB', 64 * 1024 ** 2],
    ['100', 100],
    [1048576, 1048576],
  ])('parses %j as %d bytes', (v, bytes) => {
    expect(parseByteSize(v, 'limits.memory')).toBe(bytes);
  });

  it.each(['-1', '', 'abc', '12x', '0', '1..5m'])('rejects %j with ERR_INVALID_ARGUMENT naming the field', (v) => {
    expect(() => parseByteSize(v, 'limits.memory')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', details: expect.objectContaining({ field: 'limits.memory' }) }),
    );
  });

  it('says what was expected and what came', () => {
    expect(() => parseByteSize(-1, 'limits.memory')).toThrow('Expected `limits.memory` to be a byte size like `256m`, got `-1`');
  });

  it('rejects non-integer and unsafe numbers', () => {
    expect(() => parseByteSize(1.5, 'x')).toThrow(/byte size/);
    expect(() => parseByteSize(Number.MAX_VALUE, 'x')).toThrow(/byte size/);
  });
});

describe('parseCpus', () => {
  it.each([
    ['0.5', 0.5],
    [2, 2],
    ['.25', 0.25],
    ['1024', 1024],
  ])('parses %j as %d CPUs', (v, n) => {
    expect(parseCpus(v, 'limits.cpus')).toBe(n);
  });

  it.each(['0', 0, -1, '1025', 'two', '', Number.NaN])('rejects %j', (v) => {
    expect(() => parseCpus(v, 'limits.cpus')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0B'],
    [1023, '1023B'],
    [1536, '1.5KiB'],
    [256 * 1024 ** 2, '256MiB'],
    [1024 ** 3, '1GiB'],
  ])('formats %d as %s', (n, s) => {
    expect(formatBytes(n)).toBe(s);
  });
});

describe('cpuQuota', () => {
  it('maps half a CPU to 50000 of a 100000 period, and never goes below the kernel minimum', () => {
    expect(cpuQuota(0.5)).toBe(50_000);
    expect(cpuQuota(2)).toBe(200_000);
    expect(cpuQuota(0.001)).toBe(1000);
  });
});

describe('parseDuration', () => {
  it.each([
    ['30', 30],
    [30, 30],
    ['1.5', 1.5],
    ['1.5s', 1.5],
    ['500ms', 0.5],
    ['2m', 120],
    ['1h', 3600],
    ['1d', 86400],
    [' 10 s ', 10],
  ])('parses %j as %d seconds', (v, n) => {
    expect(parseDuration(v, 'limits.timeout')).toBe(n);
  });

  it.each(['', 'abc', '-1', '1y', '1.2.3', 'Infinity'])('refuses %j naming the field', (v) => {
    expect(() => parseDuration(v, 'limits.timeout')).toThrow(/limits\.timeout/);
  });

  it('refuses 0 unless zero is allowed', () => {
    expect(() => parseDuration(0, 'x')).toThrow(/`x`/);
    expect(parseDuration('0s', 'x', { allowZero: true })).toBe(0);
  });
});
