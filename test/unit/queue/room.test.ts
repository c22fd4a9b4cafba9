import { describe, expect, it } from 'vitest';
import type { JobAttempt } from '../../../src/queue/attempt.js';
import { NodeRoom } from '../../../src/queue/room.js';

/** A processor's attempt as NodeRoom sees it. */
const attempt = (o: Partial<Pick<JobAttempt, 'owner' | 'stopReason'>> = {}) => ({ owner: 'processor', stopReason: undefined, ...o }) as JobAttempt;

describe('NodeRoom', () => {
  it('gives the worker what jobs outside the processors leave of the concurrency, at least one', () => {
    let outside = 0;
    const set: number[] = [];
    const room = new NodeRoom(2, () => outside, (n) => set.push(n));
    for (const n of [0, 1, 2, 3]) {
      outside = n;
      room.balance();
    }
    expect(set).toEqual([2, 1, 1, 1]);
  });

  it('lets a processor through at once while there is room, and holds it while the outside jobs fill the node', async () => {
    let outside = 1;
    const room = new NodeRoom(2, () => outside, () => undefined);
    await room.waitFor(attempt());
    outside = 2;
    let through = false;
    const waiting = room.waitFor(attempt()).then(() => (through = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(through).toBe(false);
    outside = 1;
    room.balance();
    await waiting;
    expect(through).toBe(true);
  });

  it('never holds an adopted attempt, and lets a stopped one go (it looks again without being woken)', async () => {
    const room = new NodeRoom(1, () => 5, () => undefined);
    await room.waitFor(attempt({ owner: 'adopted' }));
    const a = attempt();
    const waiting = room.waitFor(a);
    (a as { stopReason?: string }).stopReason = 'cancelled';
    await waiting;
  });
});
