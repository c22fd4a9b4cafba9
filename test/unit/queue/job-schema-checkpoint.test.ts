import { describe, expect, it } from 'vitest';
import { parseJobPayload } from '../../../src/queue/job-schema.js';
import { emptyLineage, lineageKey, parseLineage } from '../../../src/queue/lineage.js';
import { storeJobIdFor } from '../../../src/queue/checkpoint-flow.js';

describe('checkpoint payload fields', () => {
  it('accepts a checkpoint policy and both forms of restoreFrom', () => {
    const p = parseJobPayload({
      command: ['true'],
      checkpoint: { everySeconds: 30, allow: true, onDrain: 'requeue', onCorrupt: 'restart' },
      restoreFrom: { jobId: '17', seq: 2 },
    });
    expect(p.checkpoint).toEqual({ everySeconds: 30, allow: true, onDrain: 'requeue', onCorrupt: 'restart' });
    expect(parseJobPayload({ command: ['true'], restoreFrom: { path: '/srv/ck/default/q:1/00000001' } }).restoreFrom).toEqual({ path: '/srv/ck/default/q:1/00000001' });
  });

  it('names bad checkpoint fields', () => {
    expect(() => parseJobPayload({ command: ['true'], checkpoint: { everySeconds: 0, onDrain: 'later' } })).toThrow(/checkpoint.everySeconds.*at least 1/);
    expect(() => parseJobPayload({ command: ['true'], checkpoint: { every: 5 } })).toThrow(/Unknown field in `checkpoint`: `every`/);
    expect(() => parseJobPayload({ command: ['true'], restoreFrom: { path: 'relative' } })).toThrow(/restoreFrom/);
  });
});

describe('lineage', () => {
  it('round-trips and rejects junk', () => {
    const l = { ...emptyLineage(2), hop: 3, nodes: ['A', 'B', 'A'], target: 'B' };
    expect(parseLineage(JSON.stringify(l))).toEqual(l);
    expect(parseLineage('{"hop":-1}')).toBeNull();
    expect(parseLineage('not json')).toBeNull();
    expect(parseLineage(null)).toBeNull();
    expect(lineageKey({ queue: 'q', prefix: 'bull' }, '9')).toBe('bull:q:stasis:lineage:9');
  });

  it('store keys include the queue and only use characters the store accepts', () => {
    expect(storeJobIdFor('builds', '42')).toBe('builds:42');
    expect(storeJobIdFor('q', 'a/b c')).toBe('q:a_b_c');
  });
});
