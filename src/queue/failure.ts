/** The one place where stasis errors become BullMQ outcomes: unrecoverable, or retried. */
import { UnrecoverableError } from 'bullmq';
import { hasCode, toErrorData } from '../errors.js';

/** Codes that retrying cannot fix: the job fails at once. */
const UNRECOVERABLE = new Set(['ERR_INVALID_ARGUMENT', 'ERR_FAILED_PRECONDITION', 'ERR_PERMISSION_DENIED']);

/** The message a failed job shows: code, message, and the runtime's own error line when there is one. */
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
