import { describe, expect, it } from 'vitest';
import { assertTransition, canTransition, STATUSES, transitions } from '../../../src/runtime/transitions.js';
import type { Status } from '../../../src/runtime/task.js';

function reachable(from: Status): Set<Status> {
  const seen = new Set<Status>([from]);
  const queue: Status[] = [from];
  while (queue.length) for (const n of transitions[queue.shift()!] as readonly Status[]) if (!seen.has(n)) seen.add(n), queue.push(n);
  return seen;
}

describe('transitions', () => {
  it('lists every status exactly once as a key', () => {
    expect(Object.keys(transitions).sort()).toEqual([...STATUSES].sort());
  });

  it('agrees with canTransition and assertTransition for every pair of statuses', () => {
    for (const from of STATUSES) {
      for (const to of STATUSES) {
        const allowed = (transitions[from] as readonly Status[]).includes(to);
        expect(canTransition(from, to)).toBe(allowed);
        if (allowed) expect(() => assertTransition(from, to)).not.toThrow();
        else expect(() => assertTransition(from, to)).toThrow(expect.objectContaining({ code: 'ERR_INTERNAL' }));
      }
    }
  });

  it('lets every status reach deleted, and nothing leave deleted', () => {
    for (const s of STATUSES) expect(reachable(s).has('deleted')).toBe(true);
    expect(transitions.deleted).toEqual([]);
  });

  it('has no self-loops', () => {
    for (const s of STATUSES) expect(canTransition(s, s)).toBe(false);
  });

  it('only goes from created to running through start, and never back to created', () => {
    for (const s of STATUSES) expect(canTransition(s, 'created')).toBe(false);
    expect(canTransition('created', 'running')).toBe(true);
    expect(canTransition('stopped', 'running')).toBe(false);
  });
});
