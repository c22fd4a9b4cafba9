import { describe, expect, it } from 'vitest';
import { compilable, loaderArgs, usesLoader, validFilter } from '../../../src/sandbox/seccomp/loader.js';
import { DEFAULT_SECCOMP_PROFILE } from '../../../src/sandbox/seccomp/profile.js';

describe('the seccomp loader', () => {
  it('runs an argv behind the loader and its filter', () => {
    expect(loaderArgs(['/.stasis/init', '-g', '--', 'x'])).toEqual(['/.stasis/seccomp', '/.stasis/seccomp.bpf', '--', '/.stasis/init', '-g', '--', 'x']);
  });

  it('tells a spec with the loader mount from one without', () => {
    expect(usesLoader({ mounts: [{ destination: '/.stasis/init' }, { destination: '/.stasis/seccomp' }] })).toBe(true);
    expect(usesLoader({ mounts: [{ destination: '/.stasis/init' }] })).toBe(false);
    expect(usesLoader({})).toBe(false);
  });

  it('compiles the default profile; one with filter flags or a notify action stays runc’s', () => {
    expect(compilable(DEFAULT_SECCOMP_PROFILE as unknown as Record<string, unknown>)).toBe(true);
    expect(compilable({ defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [] })).toBe(false);
    expect(compilable({ defaultAction: 'SCMP_ACT_ERRNO', flags: [], syscalls: [] })).toBe(true);
    expect(compilable({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] })).toBe(false);
    expect(compilable({ defaultAction: 'SCMP_ACT_ERRNO', listenerPath: '/run/agent.sock', syscalls: [] })).toBe(false);
  });

  it('accepts whole 8-byte instructions, 1 to 4096 of them', () => {
    expect(validFilter(new Uint8Array(8))).toBe(true);
    expect(validFilter(new Uint8Array(4096 * 8))).toBe(true);
    expect(validFilter(new Uint8Array(0))).toBe(false);
    expect(validFilter(new Uint8Array(12))).toBe(false);
    expect(validFilter(new Uint8Array(4097 * 8))).toBe(false);
  });
});
