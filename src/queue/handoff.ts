/**
 * Handing an active job from one node to another without a round trip through the queue
 * (docs/queue.md): the giver keeps the job active and sends the taker its lock token ('take' on the
 * taker's control channel); the taker runs the job outside its BullMQ processor (JobConsumer.adopt)
 * and posts under that token. Used for `migrate --to` (the target restores the checkpoint at once, no
 * other node can grab the job first) and for fencing after a Redis outage (a node that took a job
 * whose holder still runs it gives it back to the holder). A taker that does not answer: the giver
 * falls back (the queue, or running the job itself).
 */
import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { errors } from '../errors.js';
import type { QueueRef } from './cancel.js';
import { reacquireLock } from './bullmq-keys.js';
import { sendControl } from './control-client.js';
import type { VerbHandler } from './control-server.js';
import type { JobConsumer } from './consumer.js';

/** Arguments of 'take'. */
export const TakeArgsSchema = z
  .object({
    token: z.string().min(1),
    /** 'holder': this node still runs (or finished) the job's hop; 'target': the job was checkpointed for this node. */
    why: z.enum(['holder', 'target']),
  })
  .strict();

/** How long a giver waits for the taker's answer. */
const TAKE_TIMEOUT_MS = 5_000;

/** The taker's side of 'take': adopts the job under the token when it is really the lock's (and, for 'holder', runs here). */
export function takeVerb(
  consumer: JobConsumer,
  queue: Queue,
  redis: Redis,
  q: QueueRef,
  lockDurationMs: number,
  track: (p: Promise<void>) => void,
): VerbHandler<typeof TakeArgsSchema> {
  return {
    args: TakeArgsSchema,
    async run(req) {
      if (req.args.why === 'holder' && !consumer.attempt(req.jobId)) {
        throw errors.notFound(`job ${req.jobId} has no attempt on this node`, { jobId: req.jobId });
      }
      const job = await Job.fromId(queue, req.jobId);
      if (!job) throw errors.notFound(`job ${req.jobId} does not exist`, { jobId: req.jobId });
      // Checked and renewed in one step: the lock may be as old as the job's first take (a job moved
      // faster than its holders' renewal ticks), and the taker's own renewal only starts a third of a
      // lock duration from now.
      const lock = await reacquireLock(redis, q, req.jobId, req.args.token, lockDurationMs);
      if (lock !== 'ours') {
        throw errors.failedPrecondition(`the lock of job ${req.jobId} is not held by the token offered (${lock === 'taken' ? 'another token holds it' : 'the job is not active'})`, { jobId: req.jobId });
      }
      track(consumer.adopt(job, req.args.token));
      return { taken: true };
    },
  };
}

/** The giver's side: resolves true when `nodeId` took the job under `token`. */
export async function handOff(redis: Redis, q: QueueRef, nodeId: string, jobId: string, token: string, why: 'holder' | 'target'): Promise<boolean> {
  try {
    await sendControl(redis, q, { nodeId, jobId, verb: 'take', args: { token, why } }, { ackTimeoutMs: TAKE_TIMEOUT_MS, timeoutMs: TAKE_TIMEOUT_MS * 2 });
    return true;
  } catch {
    // Down, not listening, or it refused: the caller falls back (docs/queue.md).
    return false;
  }
}
