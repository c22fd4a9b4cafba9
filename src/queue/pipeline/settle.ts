/**
 * Stage 5 of a job attempt: what the task's end means for the job. A task that ended by its final
 * checkpoint (migrate, drain) hands the job over: to the target node directly when it takes it,
 * else back to the queue; a drain sends its jobs back (to start over, or to resume from their last
 * checkpoint); a lost lock means another node holds the job: nothing is posted here.
 */
import { WaitingError } from 'bullmq';
import { errors } from '../../errors.js';
import type { TaskCheckpoint, TaskOutcome } from '../../pool/protocol.js';
import type { JobAttempt } from '../attempt.js';
import type { PipelineDeps } from './deps.js';
import { FencedError } from './fenced.js';
import { countLostRun } from '../lost-runs.js';
import type { Lineage } from '../lineage.js';
import { handedBackEvent, migratedEvent } from './events.js';

/**
 * The task's monitor died without recording an exit (lost-runs.ts): unless that happened too often,
 * the job goes back to the queue, to resume from its last committed checkpoint or to start over.
 */
async function lostRun(a: JobAttempt, d: PipelineDeps, l: Lineage | undefined): Promise<void> {
  const n = await countLostRun(d.redis, d.ref, a.jobId);
  if (n > d.config.maxStalledCount) return; // post the `lost` result
  const why = `the monitor of its container on node ${d.config.nodeId} died without recording an exit (${n} of ${d.config.maxStalledCount} such runs)`;
  d.events(handedBackEvent(a, 'lost', why));
  if (l) await d.flow.requeued(a.job, a.token, l, true, why);
  await a.job.log(`[stasis] ${why}; the job starts over`).catch(() => 0);
  await a.job.moveToWait(a.token);
  throw new WaitingError();
}

/**
 * The task ended by its final checkpoint: record it, hand the job to the target (which restores it at
 * once under this lock token) or, if it does not answer, back to the queue; answer the migrate or drain
 * request either way, with the error when the job could not be handed on.
 */
async function handOn(a: JobAttempt, d: PipelineDeps, l: Lineage, ck: TaskCheckpoint): Promise<never> {
  const to = a.preemptTarget;
  let handed = false;
  try {
    await d.flow.preempted(a.job, l, ck, to);
    handed = to !== null && (await d.handOff(to, a.jobId, a.token, 'target'));
    if (!handed) await a.job.moveToWait(a.token);
  } catch (e) {
    a.handOffFailed(errors.unavailable(`job ${a.jobId} was checkpointed (#${ck.seq}) on node ${d.config.nodeId} but could not be handed on: ${(e as Error).message}`, { jobId: a.jobId }));
    throw e;
  }
  d.events(migratedEvent(a, ck.reason, ck.seq, handed ? to : null));
  a.handedBack(ck);
  throw new WaitingError();
}

/** Settles the job after its task ended; throws a BullMQ move (WaitingError) or FencedError when no result is posted. */
export async function settle(a: JobAttempt, d: PipelineDeps, outcome: TaskOutcome): Promise<void> {
  if (outcome.lockLost) {
    a.handOffFailed(errors.unavailable(`job ${a.jobId} lost its lock on node ${d.config.nodeId} while it was checkpointed; another node holds it now`, { jobId: a.jobId }));
    throw new FencedError(`lost the lock of job ${a.jobId}; its container was killed and no result is posted here`);
  }
  const l = a.lineage;
  if (outcome.cause === 'lost') await lostRun(a, d, l);
  if (!l) return;
  const ck = outcome.preempted;
  if (ck) await handOn(a, d, l, ck);
  // A final checkpoint ended the task, but the node died before the store committed it (found after a
  // restart): the process is gone by our hand, not by its own; resume from the last committed checkpoint.
  if (outcome.exit.reason === 'checkpointed') {
    d.events(handedBackEvent(a, 'crash'));
    await d.flow.requeued(a.job, a.token, l, true, `its final checkpoint on node ${d.config.nodeId} was cut short by a crash`);
  }
  if (a.ending) d.events(handedBackEvent(a, a.ending));
  if (a.ending === 'requeue') await d.flow.requeued(a.job, a.token, l);
  if (a.ending === 'abandon') await d.flow.requeued(a.job, a.token, l, true);
}
