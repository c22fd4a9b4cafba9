/**
 * Stage 6 of a job attempt: the result is posted only by the holder of the job's lock (the fencing
 * rule, docs/queue.md). While Redis is unreachable the attempt waits; a lock that expired meanwhile
 * is taken back if the job is still active and nobody else holds it; a job another node holds now is
 * not posted from here; a job a stalled check put back in the queue waits, with its finished result,
 * for this node to be given it again (attempt.reowned). failOnNonZero turns an ending other than a
 * clean exit into a failed job, its envelope kept in the job's data.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError } from 'bullmq';
import type { JobAttempt } from '../attempt.js';
import { clearCancelRequest } from '../cancel.js';
import { FAILED_RESULT_KEY } from '../job-schema.js';
import type { JobResult } from '../result.js';
import type { PipelineDeps } from './deps.js';
import { FencedError } from './fenced.js';

/**
 * Holds the job's lock before posting: waits out Redis outages, takes back an expired lock, parks when
 * the job left. A lock set or renewed moments ago needs no round trip: it cannot have expired, and
 * BullMQ's own move checks the token in the same script that posts.
 */
export async function holdLock(a: JobAttempt, d: PipelineDeps): Promise<void> {
  if (a.lock.fresh()) return;
  for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
    let state;
    try {
      state = await a.lock.reacquire();
    } catch {
      await sleep(delay); // Redis unreachable: the result waits for it
      continue;
    }
    if (state === 'ours') return;
    if (state === 'taken') throw new FencedError(`job ${a.jobId} is held by another node now; its result here is not posted`);
    // Back in the queue (a stalled check while Redis was away): wait to be given the job again.
    await a.detach();
    delay = 200;
  }
}

/** Posts the attempt's result (see the module comment); resolves to it, or throws how the job ends instead. */
export async function post(a: JobAttempt, d: PipelineDeps, result: JobResult): Promise<JobResult> {
  await holdLock(a, d);
  if (result.reason === 'cancelled') await clearCancelRequest(d.redis, d.ref, a.jobId).catch(d.onError);
  if (a.payload?.failOnNonZero && !(result.reason === 'exited' && result.exitStatus === 0)) {
    // Only a job that exited 0 on its own succeeded: a timeout, oom, cpu-time or cancel fails whatever its status.
    await a.job.updateData({ ...(a.job.data as object), [FAILED_RESULT_KEY]: result });
    const what = result.reason === 'exited' ? `command exited with status ${result.exitStatus}` : `the job ended by ${result.reason} (status ${result.exitStatus})`;
    throw new UnrecoverableError(`${what}; failOnNonZero is set`);
  }
  return result;
}
