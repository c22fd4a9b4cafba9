import { describe, expect, it } from 'vitest';
import { parseCgroupMounts, versionLine } from '../../../src/host/parse.js';
import { HYBRID, UNIFIED } from './fixtures.js';

describe('parseCgroupMounts', () => {
  it('finds the v1 controllers and the unified mount of a hybrid host', () => {
    const m = parseCgroupMounts(HYBRID);
    expect([...m.v1].sort()).toEqual(['cpu', 'cpuacct', 'freezer', 'memory', 'pids']);
    expect(m.v2Path).toBe('/sys/fs/cgroup/unified');
  });

  it('finds combined controllers like cpu,cpuacct', () => {
    const m = parseCgroupMounts('32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n');
    expect(m.v1.has('cpu')).toBe(true);
    expect(m.v1.has('cpuacct')).toBe(true);
  });

  it('recognises a pure cgroup v2 host', () => {
    const m = parseCgroupMounts(UNIFIED);
    expect(m.v1.size).toBe(0);
    expect(m.v2Path).toBe('/sys/fs/cgroup');
  });

  it('finds nothing in an empty mount table', () => {
    expect(parseCgroupMounts('')).toEqual({ v1: new Set(), v2Path: null });
  });
});

describe('versionLine', () => {
  it('extracts versions from the tools stasis uses', () => {
    expect(versionLine('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\n')).toBe('1.1.5+ds1');
    expect(versionLine('conmon version 2.1.6\ncommit: unknown\n')).toBe('2.1.6');
    expect(versionLine('Version: 4.1.1\n')).toBe('4.1.1');
    expect(versionLine('Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64')).toBe('7.0.15');
    expect(versionLine('umoci version 0.4.7')).toBe('0.4.7');
    expect(versionLine('')).toBe('version unknown');
  });
});
