import { describe, expect, it } from 'vitest';
import { jobEnv, launchScript, shellQuote, START_FAILURE_PREFIX, DEFAULT_PATH_VALUE } from '../../../src/sandbox/launcher.js';

describe('shellQuote', () => {
  it.each([
    ['plain', "'plain'"],
    ["it's", `'it'\\''s'`],
    ['$HOME `x` "y"', `'$HOME \`x\` "y"'`],
    ['a\nb', "'a\nb'"],
  ])('quotes %j so a shell reads it back unchanged', (s, q) => {
    expect(shellQuote(s)).toBe(q);
  });
});

describe('jobEnv', () => {
  it('adds the default PATH when the job sets none, and TERM for a terminal', () => {
    expect(jobEnv({ args: ['x'], env: ['A=1'] })).toEqual([`PATH=${DEFAULT_PATH_VALUE}`, 'A=1']);
    expect(jobEnv({ args: ['x'], env: ['PATH=/bin'], terminal: true })).toEqual(['PATH=/bin', 'TERM=xterm']);
  });
});

describe('launchScript', () => {
  it('changes to the working directory, checks it, and reports a missing one as a start failure (127)', () => {
    const s = launchScript({ args: ['true'], cwd: '/work dir' });
    expect(s).toContain("cd -- '/work dir' || fail 126");
    expect(s).toContain("[ -d '/work dir' ] || fail 127");
    expect(s).toContain(START_FAILURE_PREFIX);
  });

  it('looks a bare program up on the job PATH as execvp does: 127 when missing, 126 when not executable', () => {
    const s = launchScript({ args: ['prog'], env: ['PATH=/a::/b'] });
    expect(s).toContain("for d in '/a' '.' '/b'; do");
    expect(s).toContain("fail 126 'prog: permission denied'");
    expect(s).toContain("fail 127 'prog: command not found'");
  });

  it('checks a program given as a path directly', () => {
    const s = launchScript({ args: ['/opt/x'] });
    expect(s).toContain("[ -e '/opt/x' ] || fail 127");
    expect(s).not.toContain('for d in');
  });

  it('exports exactly the job environment and execs its argv, quoted', () => {
    const s = launchScript({ args: ['echo', "it's", '$HOME'], env: ['A=x y', 'B='] });
    const lines = s.trim().split('\n');
    expect(lines.slice(-4)).toEqual([`export PATH='${DEFAULT_PATH_VALUE}'`, "export A='x y'", "export B=''", `exec 'echo' 'it'\\''s' '$HOME'`]);
    expect(s).toContain('unset OLDPWD PWD SHLVL');
  });

  it('sets a CPU-time rlimit a second above the limit when asked', () => {
    expect(launchScript({ args: ['x'], cpuSeconds: 2.5 })).toContain('ulimit -t 4');
  });
});
