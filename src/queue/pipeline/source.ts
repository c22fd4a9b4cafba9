/**
 * Stage 3 of a job attempt: what its task is. An image is resolved (pinned to the digest a checkpoint
 * was taken on) and its config becomes the process; then the pool gets a RunSpec (create, or restore
 * a stored checkpoint) or the task this node left running to attach to.
 */
import { UnrecoverableError } from 'bullmq';
import { hasCode } from '../../errors.js';
import { JOB_ANNOTATIONS, type RestoreSource } from '../../pool/protocol.js';
import type { JobAttempt } from '../attempt.js';
import { failureMessage, toJobError } from '../failure.js';
import { resolveJobImage } from '../job-image.js';
import type { JobTaskSource } from './task-source.js';
import { runSpecFor } from '../run-spec.js';
import { attachToOrphan } from '../orphans.js';
import type { PipelineDeps } from './deps.js';

/** Resolves the attempt's image, if it names one: the decision's rootfs and the process come from it. */
export async function resolveImage(a: JobAttempt, d: PipelineDeps): Promise<void> {
  const payload = a.payload!;
  if (!payload.image || a.orphan) return;
  if (!d.images) throw new UnrecoverableError('ERR_FAILED_PRECONDITION: this node has no image store');
  try {
    const img = await resolveJobImage(d.images, { ...payload, image: payload.image }, d.policy.images, d.userns, a.pinDigest);
    a.decision = { ...a.decision!, rootfs: img.rootfs, image: img.image };
    a.process = img.process;
    a.meta!.image = img.image;
  } catch (e) {
    // A registry that is down is worth a retry; a forbidden, missing or malformed image is not.
    if (hasCode(e, 'ERR_UNAVAILABLE') || hasCode(e, 'ERR_RUNTIME') || hasCode(e, 'ERR_INTERNAL')) throw toJobError(e);
    throw new UnrecoverableError(failureMessage(e));
  }
}

/** The pool request that creates (or, with `from`, restores) the attempt's task. */
export function runSource(a: JobAttempt, d: PipelineDeps, from?: RestoreSource): JobTaskSource {
  const c = d.config;
  const owner = { jobId: a.jobId, queue: c.queue, prefix: c.prefix, nodeId: c.nodeId, attempt: a.attempt, token: a.token };
  const lineage = a.lineage!;
  const run = runSpecFor(a.payload!, owner, a.decision!, {
    ...(lineage.firstStartedAt ? { firstStartedAt: lineage.firstStartedAt } : {}),
    maxLogBytes: c.maxLogBytes,
    ...(a.process ? { process: a.process } : {}),
  });
  run.spec.annotations[JOB_ANNOTATIONS.hop] = String(lineage.hop);
  const limits = { killGraceMs: run.killGraceMs, outputBytes: run.outputBytes, deadlines: run.deadlines };
  return { kind: 'run', spec: from ? { ...run.spec, restore: from } : run.spec, limits };
}

/** Where the attempt's task comes from: the orphan it attaches to, or a new (or restored) task. */
export function taskSource(a: JobAttempt, d: PipelineDeps): JobTaskSource {
  return a.orphan ? attachToOrphan(a.orphan) : runSource(a, d, a.restore);
}
