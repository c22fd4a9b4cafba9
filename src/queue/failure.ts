/** The one place where stasis errors become BullMQ outcomes: unrecoverable, or retried. */
import { UnrecoverableError } from 'bullmq';
import { ErrorCode, hasCode, StasisError, toErrorData } from '../errors.js';
import type { JobResult } from './result.js';

/** Codes that retrying cannot fix: the job fails at once. */
const UNRECOVERABLE = new Set(['ERR_INVALID_ARGUMENT', 'ERR_FAILED_PRECONDITION', 'ERR_PERMISSION_DENIED']);

/**
 * The message a failed job shows (BullMQ's failedReason): `<code>: <message>`, plus the runtime's own
 * error line when there is one. codeOfFailure() reads the code back; both ends of the format are here.
 */
export function failureMessage(e: unknown): string {
  const d = toErrorData(e);
  const line = d.details?.runtimeError;
  const rt = typeof line === 'string' && !d.message.includes(line) ? ` (runtime: ${line})` : '';
  return `${d.code}: ${d.message}${rt}`;
}

/** Maps an error to what the processor throws: UnrecoverableError for argument/precondition errors. */
export function toJobError(e: unknown): Error {
  if (e instanceof UnrecoverableError) return e;
  const msg = failureMessage(e);
  if (hasCode(e) && UNRECOVERABLE.has(e.code)) return new UnrecoverableError(msg);
  const err = new Error(msg);
  if (e instanceof Error && e.stack) err.stack = `${msg}\n${e.stack.split('\n').slice(1).join('\n')}`;
  return err;
}

/** The stasis error code at the head of a failedReason written by failureMessage(), or null. */
export function codeOfFailure(failedReason: string): ErrorCode | null {
  const m = /^(ERR_[A-Z_]+): /.exec(failedReason);
  const code = m ? ErrorCode.safeParse(m[1]) : null;
  return code?.success ? code.data : null;
}

/**
 * The error of a failed job. Runner nodes write `failedReason` as `<code>: <message>` (failure.ts), so
 * the error keeps the runner's category (ERR_INVALID_ARGUMENT for a bad payload); ERR_RUNTIME otherwise.
 * `details.failedReason` is always set.
 */
export function failedJobError(jobId: string, failedReason: string, attemptsMade: number, result?: JobResult | null): StasisError {
  return new StasisError(codeOfFailure(failedReason) ?? 'ERR_RUNTIME', `job ${jobId} failed: ${failedReason || 'no reason recorded'}`, {
    jobId,
    failedReason,
    attemptsMade,
    // A job failed by failOnNonZero ran: its envelope (job.data.stasisResult).
    ...(result ? { result } : {}),
  });
}
