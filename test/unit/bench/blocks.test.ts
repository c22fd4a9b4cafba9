import { describe, expect, it } from 'vitest';
import { lanes, steady } from '../../../bench/blocks.js';

describe('bench blocks', () => {
  it('steady() counts the completions after the first `skip`, over the time since the skip-th', () => {
    // Completions at 0, 10, 20 (a start-up), then every 5 ms: 25 … 45.
    expect(steady([20, 0, 10, 25, 30, 35, 40, 45], 3)).toEqual({ jobs: 5, ms: 25 });
    expect(steady([0, 10], 1)).toEqual({ jobs: 1, ms: 10 });
  });
  it('steady() keeps at least one completion when the block is shorter than `skip`', () => {
    expect(steady([0, 4, 8], 5)).toEqual({ jobs: 1, ms: 4 });
    expect(steady([7], 3)).toEqual({ jobs: 0, ms: 0 });
  });
  it('lanes() runs n calls, at most `parallel` at once, each on its own lane', async () => {
    let running = 0;
    let most = 0;
    const seen = new Set<number>();
    const r = await lanes(7, 2, async (lane) => {
      seen.add(lane);
      most = Math.max(most, ++running);
      await new Promise((res) => setTimeout(res, 2));
      running--;
      return lane;
    });
    expect(r.latencies).toHaveLength(7);
    expect(r.done).toHaveLength(7);
    expect(most).toBe(2);
    expect([...seen].sort()).toEqual([0, 1]);
  });
});
