import { describe, expect, it } from 'vitest';
import { isStale, parseLock, STALE_MS } from '../../../src/image/lock.js';

describe('image store lock files', () => {
  it('parse "pid threadId time"', () => {
    expect(parseLock('12 3 1700000000000\n')).toEqual({ pid: 12, threadId: 3, at: 1700000000000 });
    expect(parseLock('')).toBeUndefined();
  });

  it('are stale when the owner is dead or stopped touching them', () => {
    const alive = () => true;
    const dead = () => false;
    expect(isStale({ pid: 1 }, 1000, 1000 + STALE_MS - 1, alive)).toBe(false);
    expect(isStale({ pid: 1 }, 1000, 1000 + STALE_MS + 1, alive)).toBe(true);
    expect(isStale({ pid: 1 }, 1000, 1001, dead)).toBe(true);
  });

  it('are held while being written (empty) unless old', () => {
    expect(isStale(undefined, 1000, 2000)).toBe(false);
    expect(isStale(undefined, 1000, 7000)).toBe(true);
  });
});
