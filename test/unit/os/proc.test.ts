import { describe, expect, it } from 'vitest';
import { isExitedState, parseProcStat } from '../../../src/os/proc.js';

describe('parseProcStat', () => {
  it('reads state, parent, times and start time after a command name with spaces and parentheses', () => {
    const stat = '4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 270142 1234 56 18446744073709551615';
    expect(parseProcStat(stat)).toEqual({ comm: 'my (odd) cmd', state: 'S', ppid: 1, utime: 1, stime: 2, startTime: '270142' });
  });

  it('gives undefined for text that is not a stat line', () => {
    expect(parseProcStat('1 (x) Z 0')).toBeUndefined();
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('counts zombies and dead processes as exited', () => {
    expect(isExitedState('Z')).toBe(true);
    expect(isExitedState('X')).toBe(true);
    expect(isExitedState('S')).toBe(false);
  });
});
