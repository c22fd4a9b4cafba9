import { describe, expect, it } from 'vitest';
import { shellQuote, shimScript, SHIM_ARGS } from '../../../src/warm/shim.js';
import { templateOf, warmIneligible, warmKey } from '../../../src/warm/key.js';
import { warmOptionsFromEnv } from '../../../src/warm/pool.js';

describe('shim script', () => {
  it('quotes every word for sh, including quotes, $ and newlines', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('$HOME `x` "y"\nz')).toBe(`'$HOME \`x\` "y"\nz'`);
  });

  it('cds, drops what sh exports, exports the env and execs the argv', () => {
    const s = shimScript({ args: ['sh', '-c', 'echo "$A"; exit 3'], env: ['A=b c', 'PATH=/bin'], cwd: '/tmp' });
    expect(s.split('\n')).toEqual([
      '# written by stasis at adoption of a prepared sandbox',
      "cd '/tmp' || exit 127",
      'unset SHLVL OLDPWD PWD',
      "export A='b c'",
      "export PATH='/bin'",
      `exec 'sh' '-c' 'echo "$A"; exit 3'`,
      '',
    ]);
    expect(shimScript({ args: ['/bin/true'] })).toContain("cd '/' || exit 127\nunset SHLVL OLDPWD PWD\nexec '/bin/true'\n");
    expect(SHIM_ARGS).toEqual(['/bin/sh', '/.stasis/run']);
  });
});

describe('warm keys', () => {
  const base = { id: 'a', rootfs: '/r', process: { args: ['true'] } };
  it('depends on rootfs, user, network and limits, not on argv, env or cwd', () => {
    const k = warmKey(templateOf(base, '/r'));
    expect(k).toMatch(/^[0-9a-f]{12}$/);
    expect(warmKey(templateOf({ ...base, process: { args: ['x'], env: ['A=1'], cwd: '/tmp' } }, '/r'))).toBe(k);
    expect(warmKey(templateOf(base, '/other'))).not.toBe(k);
    expect(warmKey(templateOf({ ...base, network: 'host' }, '/r'))).not.toBe(k);
    expect(warmKey(templateOf({ ...base, limits: { memoryBytes: 1 << 20 } }, '/r'))).not.toBe(k);
    expect(warmKey(templateOf({ ...base, process: { args: ['true'], user: { uid: 1, gid: 1 } } }, '/r'))).not.toBe(k);
  });

  it('sends terminal, stdin, monitor-timeout and hostname tasks down the normal path', () => {
    expect(warmIneligible(base)).toBeNull();
    expect(warmIneligible({ ...base, process: { args: ['sh'], terminal: true } })).toBe('terminal');
    expect(warmIneligible({ ...base, stdin: true })).toBe('stdin');
    expect(warmIneligible({ ...base, timeoutSeconds: 5 })).toBe('monitor timeout');
    expect(warmIneligible({ ...base, hostname: 'h' })).toBe('hostname');
    expect(warmIneligible({ ...base, process: { args: ['-x'] } })).toBe('argv');
  });

  it('reads the pool size from STASIS_WARM_POOL (unset or 0 = off)', () => {
    expect(warmOptionsFromEnv({})).toEqual({ size: 0 });
    expect(warmOptionsFromEnv({ STASIS_WARM_POOL: '0' })).toEqual({ size: 0 });
    expect(warmOptionsFromEnv({ STASIS_WARM_POOL: '5' })).toEqual({ size: 5 });
    expect(warmOptionsFromEnv({ STASIS_WARM_POOL: 'x' })).toEqual({ size: 0 });
  });
});
