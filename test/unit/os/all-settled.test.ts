import { describe, expect, it } from 'vitest';
import { allSettledOrThrow } from '../../../src/os/all-settled.js';

describe('allSettledOrThrow', () => {
  it('resolves with every value in order', async () => {
    await expect(allSettledOrThrow([Promise.resolve(1), Promise.resolve('a')])).resolves.toEqual([1, 'a']);
  });

  it('rejects with the first failure only after the slower steps ended', async () => {
    let slowDone = false;
    const slow = new Promise<void>((r) => setTimeout(() => ((slowDone = true), r()), 30));
    await expect(allSettledOrThrow([Promise.reject(new Error('first')), slow, Promise.reject(new Error('second'))])).rejects.toThrow('first');
    expect(slowDone).toBe(true);
  });
});
