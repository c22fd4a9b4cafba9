import { describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import { postedEvent, queueWaitMs } from '../../../src/queue/pipeline/events.js';
import { keepJobsOptions } from '../../../src/queue/keep-jobs.js';
import { fanOut, type NodeEvent } from '../../../src/events/node-events.js';

const job = (o: Partial<Job>) => ({ id: '5', data: {}, attemptsMade: 1, attemptsStarted: 1, ...o }) as unknown as Job;

describe('lifecycle events of the queue side', () => {
  it("queue wait is processedOn - timestamp - delay, on a job's first take only", () => {
    expect(queueWaitMs({ attemptsStarted: 1, processedOn: 1500, timestamp: 1000, delay: 200 })).toBe(300);
    expect(queueWaitMs({ attemptsStarted: 2, processedOn: 1500, timestamp: 1000, delay: 0 })).toBeUndefined();
    expect(queueWaitMs({ attemptsStarted: 1, processedOn: undefined, timestamp: 1000, delay: 0 })).toBeUndefined();
  });

  it('a completed post takes its ids and reason from the envelope', () => {
    const e = postedEvent(job({ processedOn: 10, finishedOn: 60 }), 'completed', { result: { jobId: '5', taskId: '5-0', namespace: 'ns', reason: 'oom' } });
    expect(e).toEqual({ event: 'posted', jobId: '5', taskId: '5-0', namespace: 'ns', state: 'completed', reason: 'oom', totalMs: 50 });
  });

  it('a failed post without an envelope is reason error, its namespace from a valid payload, its task from the attempt that failed', () => {
    const e = postedEvent(job({ data: { namespace: 'team-b' }, attemptsMade: 2 }), 'failed', { error: new Error('invalid job payload') });
    expect(e).toMatchObject({ taskId: '5-1', namespace: 'team-b', reason: 'error', state: 'failed', error: 'invalid job payload' });
    expect(postedEvent(job({ data: { namespace: '../../x' } }), 'failed', { error: new Error('x') })).toMatchObject({ namespace: 'default' });
  });

  it('a failOnNonZero failure takes its reason from the envelope kept in the data', () => {
    const e = postedEvent(job({ data: { stasisResult: { taskId: '5-0', namespace: 'n', reason: 'exited' } } }), 'failed', { error: new Error('command exited with status 3') });
    expect(e).toMatchObject({ reason: 'exited', namespace: 'n', taskId: '5-0' });
  });

  it('fanOut hands every event to every sink; a sink that throws goes to onError and stops nothing', () => {
    const seen: string[] = [];
    const errors: unknown[] = [];
    const s = fanOut([() => { throw new Error('bad observer'); }, (e) => seen.push(e.event)], (e) => errors.push(e));
    const ev: NodeEvent = { event: 'recovered', adopted: [], orphaned: [], discarded: [], durationMs: 0 };
    s(ev);
    expect(seen).toEqual(['recovered']);
    expect(errors).toHaveLength(1);
  });
});

describe('retention of finished jobs', () => {
  it('ages become whole seconds rounded up, counts pass', () => {
    expect(keepJobsOptions({ keepCompletedMs: 1500, keepCompletedCount: 0, keepFailedMs: 7 * 24 * 3600_000, keepFailedCount: 5000 })).toEqual({
      removeOnComplete: { age: 2, count: 0 },
      removeOnFail: { age: 604800, count: 5000 },
    });
  });
});
