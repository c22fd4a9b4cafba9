/**
 * Stage 2 of a job attempt: who runs it and from what. A draining node sends it straight back; a task
 * this node left running for the job is attached to, unless the job moved on since (a newer hop); a
 * node that still holds the job's hop is asked to take it back (fencing after a Redis outage); else
 * the lineage claim decides: hand back (wrong node, incompatible host), fail, or run (maybe restoring).
 */
import { UnrecoverableError, WaitingError } from 'bullmq';
import type { JobAttempt } from '../attempt.js';
import { readLineage } from '../lineage.js';
import type { PipelineDeps } from './deps.js';
import { handedBackEvent } from './events.js';

/** The node's drain policy of a payload: its own, or 'wait' when it cannot be checkpointed. */
function drainPolicyOf(a: JobAttempt, d: PipelineDeps): JobAttempt['drainPolicy'] {
  const onDrain = a.payload!.checkpoint?.onDrain;
  if (a.checkpointable) return onDrain ?? 'checkpoint';
  return onDrain === 'requeue' ? 'requeue' : 'wait';
}

/** Claims the attempt for this node (sets lineage, restore, pinDigest, drain policy) or throws a BullMQ move. */
export async function claim(a: JobAttempt, d: PipelineDeps): Promise<void> {
  const payload = a.payload!;
  if (d.draining()) {
    await a.job.moveToWait(a.token);
    throw new WaitingError();
  }
  // The lineage as stored is needed here only to check an orphan's hop; a claim reads it itself.
  let lineage = a.orphan?.hop !== undefined ? await readLineage(d.redis, d.ref, a.jobId) : undefined;
  if (a.orphan && a.orphan.hop !== undefined && a.orphan.hop !== lineage!.hop) {
    await d.pool.discard(a.orphan.taskId, a.orphan.namespace).catch(d.onError);
    a.orphan = undefined;
  }
  if (!a.orphan) {
    let c = await d.flow.claim(a.jobId, payload, a.attempt);
    if (c.kind === 'holder') {
      // Its holder still runs (or finished) the hop: it posts, under this take's lock token.
      if (await d.handOff(c.node, a.jobId, a.token, 'holder')) throw new WaitingError();
      c = await d.flow.claim(a.jobId, payload, a.attempt, { takeOver: true });
    }
    if (c.kind === 'fail') throw new UnrecoverableError(c.message);
    if (c.kind === 'hand-back') {
      d.events(handedBackEvent(a, 'refused', c.why));
      return d.flow.handBack(a.job, a.token, c.lineage, c.why);
    }
    if (c.kind === 'holder') throw new Error('unreachable: a take-over claim has no holder');
    lineage = c.lineage;
    a.restore = c.restore;
    a.pinDigest = c.pinDigest;
    // Only a job that moved (or restores) gets a line: a plain first run's job.log is the command's output alone.
    if (c.restore || lineage.nodes.length > 1) {
      const what = c.restore ? `, restoring ${c.restoreWhy} checkpoint #${c.restore.seq}` : '';
      await a.job.log(`[stasis] node ${d.config.nodeId} takes the job (hop ${lineage.hop}${what})`).catch(() => 0);
    }
  }
  // An orphan attached to: its hop's lineage as stored (read above when it carries a hop).
  a.lineage = lineage ?? (await readLineage(d.redis, d.ref, a.jobId));
  a.checkpointable = d.flow.settings(payload, a.jobId, a.attempt, 0) !== undefined;
  a.drainPolicy = drainPolicyOf(a, d);
}
