/**
 * A job attempt's pipeline, stage by stage: validate → (room on the node) → claim → source → run →
 * settle → post (each in its own file here). Resolves to the result envelope the attempt posts; throws how the job
 * ends otherwise (a BullMQ move a stage made, UnrecoverableError, FencedError, or a retryable error).
 */
import { DelayedError, UnrecoverableError, WaitingError } from 'bullmq';
import { hasCode } from '../../errors.js';
import { failpoint } from '../../os/failpoint.js';
import type { JobAttempt } from '../attempt.js';
import { failureMessage } from '../failure.js';
import type { JobResult } from '../result.js';
import { claim } from './claim.js';
import type { PipelineDeps } from './deps.js';
import { post } from './post.js';
import { runTask } from './run.js';
import { settle } from './settle.js';
import { resolveImage, runSource, taskSource } from './source.js';
import { validate } from './validate.js';
import { exitedEvent, takenEvent } from './events.js';

/** Runs the attempt's task, with the retries its failures call for (see the comments inside). */
async function runWithRetries(a: JobAttempt, d: PipelineDeps): ReturnType<typeof runTask> {
  try {
    return await runTask(a, d, taskSource(a, d));
  } catch (e) {
    if (e instanceof WaitingError || e instanceof DelayedError || e instanceof UnrecoverableError) throw e;
    // A checkpoint that was refused (tampered, missing, incompatible) or could not be restored: the
    // job's policy says start over or fail.
    if (a.restore && hasCode(e, 'ERR_CHECKPOINT')) {
      if (a.payload!.checkpoint?.onCorrupt !== 'restart') throw new UnrecoverableError(failureMessage(e));
      await d.flow.restartFresh(a.job, a.lineage!, failureMessage(e));
      a.restore = undefined;
      return runTask(a, d, runSource(a, d));
    }
    // A task of this attempt already exists here (a crash between create and posting): attach to it.
    if (!a.orphan && hasCode(e, 'ERR_ALREADY_EXISTS')) {
      return runTask(a, d, { kind: 'attach', taskId: a.meta!.taskId, namespace: a.meta!.namespace, limits: runSource(a, d, a.restore).limits });
    }
    // An orphan that vanished meanwhile: run the attempt afresh.
    if (a.orphan && hasCode(e, 'ERR_NOT_FOUND')) {
      a.orphan = undefined;
      return runTask(a, d, runSource(a, d, a.restore));
    }
    throw e;
  }
}

/** The whole pipeline of one attempt. `cancelRequested` reads a job's cancel request (re-attached jobs). */
export async function runPipeline(a: JobAttempt, d: PipelineDeps, cancelRequested: (jobId: string) => Promise<boolean>): Promise<JobResult> {
  const early = await validate(a, d);
  d.events(takenEvent(a));
  if (early) return early;
  await d.room?.(a);
  await claim(a, d);
  await resolveImage(a, d);
  // A re-attached job may have been cancelled while no node listened: the request key says so.
  if (a.orphan && (await cancelRequested(a.jobId))) a.stop('cancelled');
  const { result, outcome } = await runWithRetries(a, d);
  d.events(exitedEvent(a, result));
  failpoint('exit:before-post');
  await settle(a, d, outcome);
  return post(a, d, result);
}
