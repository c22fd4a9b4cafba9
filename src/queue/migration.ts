/**
 * The 'migrate' control verb (docs/migration.md) on top of the node control channel (control.ts):
 * the node that runs the job checkpoints it into the store (not leaving it running), hands the SAME
 * BullMQ job back to the queue with its checkpoint as the resume marker, reserved for `to` when given,
 * and answers with the checkpoint. Any node (or the one named) then restores it and finishes the job.
 */
import { z } from 'zod';
import { errors } from '../errors.js';
import type { VerbHandler } from './control-server.js';
import type { ControlTimeouts } from './control-client.js';
import type { JobConsumer } from './consumer.js';
import type { JobControl } from './job-control.js';

/** Arguments of 'migrate'. */
export const MigrateArgsSchema = z
  .object({
    /** Only this node may take the job next. */
    to: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'Expected `to` to be a node id')
      .optional(),
  })
  .strict();

/** The answer to 'migrate'. */
export interface MigrateResult {
  jobId: string;
  /** The node that checkpointed the job. */
  from: string;
  /** The node the job is reserved for, or null (any node). */
  to: string | null;
  /** The checkpoint in the store the job resumes from. */
  seq: number;
  path: string;
  at: string;
}

/** The node-side handler of 'migrate' (registered on the node's ControlServer). */
export function migrateVerb(consumer: JobConsumer): VerbHandler<typeof MigrateArgsSchema> {
  return {
    args: MigrateArgsSchema,
    async run(req, ctx): Promise<MigrateResult> {
      ctx.job(req.jobId); // ERR_FAILED_PRECONDITION when it does not run here
      if (req.args.to === ctx.nodeId) {
        // Reserved for itself, the job would wait for a hand-off this node cannot take while it gives the job up.
        throw errors.failedPrecondition(`job ${req.jobId} already runs on node ${ctx.nodeId}; name another node with --to`, { jobId: req.jobId, nodeId: ctx.nodeId });
      }
      const ck = await consumer.preempt(req.jobId, {
        ...(req.args.to ? { to: req.args.to } : {}),
        reason: 'migrate',
        timeoutMs: Math.max(1_000, ctx.timeLeft() - 500),
      });
      return { jobId: req.jobId, from: ctx.nodeId, to: req.args.to ?? null, seq: ck.seq, path: ck.path, at: ck.at };
    },
  };
}

/** Asks the node running `jobId` to migrate it (client side; StasisClient.migrate and `stasis job migrate`). */
export async function migrateJob(control: JobControl, jobId: string, o: { to?: string } & ControlTimeouts = {}): Promise<MigrateResult> {
  const { to, ...t } = o;
  return (await control.send(jobId, 'migrate', to ? { to } : {}, t)) as MigrateResult;
}
