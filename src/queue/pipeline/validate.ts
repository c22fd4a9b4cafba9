/**
 * Stage 1 of a job attempt: the payload is checked at the door and put under the node policy; a
 * cancel requested before the job started ends it here, without a container.
 */
import { UnrecoverableError } from 'bullmq';
import { hasCode } from '../../errors.js';
import { applyPolicy } from '../../policy/apply.js';
import type { JobAttempt } from '../attempt.js';
import { clearCancelRequest, readCancelRequest } from '../cancel.js';
import { failureMessage, toJobError } from '../failure.js';
import { parseJobPayload } from '../job-schema.js';
import { policyRequest } from '../policy-request.js';
import { buildNotStartedResult, type JobResult } from '../result.js';
import { DEFAULT_JOB_NAMESPACE, taskIdFor } from '../run-spec.js';
import type { PipelineDeps } from './deps.js';

/** Errors that retrying cannot fix: a bad payload, a refusal, a rootfs that is not there. */
function final(e: unknown): boolean {
  return hasCode(e, 'ERR_INVALID_ARGUMENT') || hasCode(e, 'ERR_PERMISSION_DENIED') || hasCode(e, 'ERR_NOT_FOUND');
}

/** Validates the attempt's payload and policy (sets payload, decision, meta); resolves to a result when the job ends here. */
export async function validate(a: JobAttempt, d: PipelineDeps): Promise<JobResult | null> {
  // The cancel key is read while the payload is checked (one Redis round trip less on the job's way to its start).
  const cancelled = readCancelRequest(d.redis, d.ref, a.jobId);
  // Awaited below; a payload refused first must not leave its failure unhandled meanwhile.
  cancelled.catch(() => undefined);
  try {
    a.payload = parseJobPayload(a.job.data, d.policy.maxPayloadBytes);
    a.decision = await applyPolicy(policyRequest(a.payload), d.policy, d.userns, d.rootfs);
  } catch (e) {
    throw final(e) ? new UnrecoverableError(failureMessage(e)) : toJobError(e);
  }
  a.meta = {
    jobId: a.jobId,
    attempt: a.attempt,
    nodeId: d.config.nodeId,
    taskId: taskIdFor(a.jobId, a.attempt),
    namespace: a.payload.namespace ?? DEFAULT_JOB_NAMESPACE,
  };
  const cancel = await cancelled;
  if (!cancel) return null;
  await clearCancelRequest(d.redis, d.ref, a.jobId);
  return buildNotStartedResult(a.meta, { name: 'StasisError', code: 'ERR_UNAVAILABLE', message: `cancelled before start: ${cancel.reason}` }, 'cancelled');
}
