import { describe, expect, it } from 'vitest';
import { DEFAULT_PATH_VALUE } from '../../../src/sandbox/launcher.js';
import { starterArgs, starterSpec, STARTER_PATHS, usesStarter } from '../../../src/sandbox/starter.js';

/** The spec's fields, split at their NULs (the last one ends the file). */
const fields = (b: Buffer) => {
  const s = b.toString('utf8');
  expect(s.endsWith('\0')).toBe(true);
  return s.slice(0, -1).split('\0');
};

describe('starterSpec', () => {
  it('writes the format, cwd, no CPU limit, the counted argv and the job environment with PATH added', () => {
    expect(fields(starterSpec({ args: ['echo', "it's $x", ''], env: ['A=1'], cwd: '/work dir' }))).toEqual([
      'stasis-start 1',
      '/work dir',
      '',
      '3',
      'echo',
      "it's $x",
      '',
      '2',
      `PATH=${DEFAULT_PATH_VALUE}`,
      'A=1',
    ]);
  });

  it('defaults the directory to / and adds TERM for a terminal, as the launch script does', () => {
    expect(fields(starterSpec({ args: ['sh'], env: ['PATH=/bin'], terminal: true }))).toEqual(['stasis-start 1', '/', '', '1', 'sh', '2', 'PATH=/bin', 'TERM=xterm']);
  });

  it('sets RLIMIT_CPU a second above the limit, at least 1 (the script\'s `ulimit -t`)', () => {
    expect(fields(starterSpec({ args: ['x'], cpuSeconds: 2.5 }))[2]).toBe('4');
    expect(fields(starterSpec({ args: ['x'], cpuSeconds: 0 }))[2]).toBe('1');
  });

  it('keeps newlines, quotes and non-ASCII bytes of arguments as they are', () => {
    expect(fields(starterSpec({ args: ['a\nb', '"', 'é'] })).slice(4, 7)).toEqual(['a\nb', '"', 'é']);
  });
});

describe('starterArgs and usesStarter', () => {
  it('passes the compiled filter only when the task has one', () => {
    expect(starterArgs(false)).toEqual([STARTER_PATHS.program, STARTER_PATHS.spec]);
    expect(starterArgs(true)).toEqual([STARTER_PATHS.program, '--seccomp', '/.stasis/seccomp.bpf', STARTER_PATHS.spec]);
  });

  it('tells a spec under the native start from one under tini', () => {
    expect(usesStarter({ process: { args: starterArgs(true) } })).toBe(true);
    expect(usesStarter({ process: { args: ['/.stasis/init', '-g', '--'] } })).toBe(false);
    expect(usesStarter({})).toBe(false);
  });
});
