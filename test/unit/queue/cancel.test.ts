import { describe, expect, it } from 'vitest';
import { cancelChannel, cancelKey, parseCancelRequest } from '../../../src/queue/cancel.js';

describe('cancel requests', () => {
  it('use a per-queue channel and a per-job key under the BullMQ prefix', () => {
    expect(cancelChannel({ queue: 'stasis' })).toBe('bull:stasis:stasis:cancel');
    expect(cancelKey({ queue: 'q', prefix: 'p' }, '42')).toBe('p:q:stasis:cancel:42');
  });
  it('parse only well-formed requests', () => {
    expect(parseCancelRequest('{"jobId":"1","reason":"x","requestedAt":"t"}')).toEqual({ jobId: '1', reason: 'x', requestedAt: 't' });
    expect(parseCancelRequest('{"jobId":1}')).toBeNull();
    expect(parseCancelRequest('nope')).toBeNull();
    expect(parseCancelRequest(null)).toBeNull();
  });
});
