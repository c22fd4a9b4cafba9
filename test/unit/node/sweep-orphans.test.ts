import { describe, expect, it } from 'vitest';
import { sweepOrphans, type RecoveryContext } from '../../../src/node/recovery.js';
import type { OrphanTask } from '../../../src/queue/orphans.js';

/** A sweep over one orphan of job 7, whose job is in `state` with `lock` (fakes: pure logic). */
async function sweep(state: string, lock: string | null, o: { activeHere?: boolean } = {}): Promise<{ dropped: string[]; discarded: string[] }> {
  const orphan = { jobId: '7', taskId: 'job-7-0', namespace: 'stasis' } as OrphanTask;
  const discarded: string[] = [];
  const ctx = {
    config: { queue: 'q', prefix: 'bull' },
    consumer: {
      orphans: new Map([[orphan.taskId, orphan]]),
      activeJobs: () => (o.activeHere ? ['7'] : []),
      ownsLockToken: (t: string) => t.startsWith('this-worker:'),
    },
    queue: { getJob: async () => ({ getState: async () => state }) },
    redis: { get: async () => lock },
    pool: { discard: async (taskId: string) => void discarded.push(taskId) },
  } as unknown as RecoveryContext;
  return { dropped: await sweepOrphans(ctx), discarded };
}

describe('sweepOrphans', () => {
  it('keeps the orphan of a job this node is taking right now (active under its worker\'s token, processor not run yet)', async () => {
    expect(await sweep('active', 'this-worker:3')).toEqual({ dropped: [], discarded: [] });
  });

  it('keeps orphans of waiting jobs, of jobs active here, and of active jobs whose lock lapsed', async () => {
    expect((await sweep('waiting', null)).dropped).toEqual([]);
    expect((await sweep('active', 'this-worker:3', { activeHere: true })).dropped).toEqual([]);
    expect((await sweep('active', null)).dropped).toEqual([]);
  });

  it('drops (and kills) the orphan of a job another node runs, or that finished', async () => {
    expect(await sweep('active', 'other-worker:0')).toEqual({ dropped: ['job-7-0'], discarded: ['job-7-0'] });
    expect((await sweep('completed', null)).discarded).toEqual(['job-7-0']);
  });
});
