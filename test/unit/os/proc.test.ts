import { describe, expect, it } from 'vitest';
import { parseProcStat } from '../../../src/runtime/runc-state.js';

describe('parseProcStat', () => {
  it('reads state and start time after a command name with spaces and parentheses', () => {
    const stat = '4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 270142 1234 56 18446744073709551615';
    expect(parseProcStat(stat)).toEqual({ state: 'S', startTime: '270142' });
    expect(parseProcStat('1 (x) Z 0')).toBeNull();
  });
});
