import { z } from 'zod';

/** The error categories of stasis; every StasisError carries exactly one. */
export const ErrorCode = z.enum([
  'ERR_NOT_FOUND',
  'ERR_ALREADY_EXISTS',
  'ERR_FAILED_PRECONDITION',
  'ERR_INVALID_ARGUMENT',
  'ERR_UNAVAILABLE',
  'ERR_RUNTIME',
  'ERR_CHECKPOINT',
  'ERR_INTERNAL',
  'ERR_PERMISSION_DENIED',
]);
/** One of the error categories. */
export type ErrorCode = z.infer<typeof ErrorCode>;

/** Context carried by an error as fields, never pasted only into the message. */
export interface ErrorDetails {
  /** The runtime's own last error line (runc `level=error msg=…`, conmon's sync message). */
  runtimeError?: string;
  /** Path of CRIU's dump.log / restore.log when CRIU was involved. */
  criuLog?: string;
  /** The argv that failed (binary first). */
  argv?: string[];
  /** Exit code of the failed command. */
  exitCode?: number;
  /** The field of a payload or option that was bad, dotted (`limits.memory`). */
  field?: string;
  [key: string]: unknown;
}

/** An error with a category code and structured context. */
export class StasisError extends Error {
  override name = 'StasisError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Errors as plain data, for postMessage, JSON and Redis. */
export interface ErrorData {
  name: string;
  code: ErrorCode;
  message: string;
  stack?: string;
  details?: ErrorDetails;
}

/** Shorthand constructors, one per category. */
export const errors = {
  notFound: (m: string, d?: ErrorDetails) => new StasisError('ERR_NOT_FOUND', m, d),
  alreadyExists: (m: string, d?: ErrorDetails) => new StasisError('ERR_ALREADY_EXISTS', m, d),
  failedPrecondition: (m: string, d?: ErrorDetails) => new StasisError('ERR_FAILED_PRECONDITION', m, d),
  invalidArgument: (m: string, d?: ErrorDetails) => new StasisError('ERR_INVALID_ARGUMENT', m, d),
  unavailable: (m: string, d?: ErrorDetails) => new StasisError('ERR_UNAVAILABLE', m, d),
  runtime: (m: string, d?: ErrorDetails) => new StasisError('ERR_RUNTIME', m, d),
  checkpoint: (m: string, d?: ErrorDetails) => new StasisError('ERR_CHECKPOINT', m, d),
  internal: (m: string, d?: ErrorDetails) => new StasisError('ERR_INTERNAL', m, d),
  permissionDenied: (m: string, d?: ErrorDetails) => new StasisError('ERR_PERMISSION_DENIED', m, d),
};

/** True when `e` carries a stasis error code (works across threads: checks `code`, not the class). */
export function hasCode(e: unknown, code?: ErrorCode): e is { code: ErrorCode; message: string } {
  if (typeof e !== 'object' || e === null) return false;
  const c = (e as { code?: unknown }).code;
  if (!ErrorCode.safeParse(c).success) return false;
  return code === undefined || c === code;
}

/** Flattens any thrown value into plain data (unknown errors become ERR_INTERNAL). */
export function toErrorData(e: unknown): ErrorData {
  if (hasCode(e)) {
    const err = e as unknown as StasisError;
    return { name: err.name ?? 'StasisError', code: err.code, message: err.message, stack: err.stack, details: err.details };
  }
  if (e instanceof Error) return { name: e.name, code: 'ERR_INTERNAL', message: e.message, stack: e.stack };
  return { name: 'Error', code: 'ERR_INTERNAL', message: String(e) };
}

/** Rebuilds a StasisError from plain data received from another thread or process. */
export function fromErrorData(d: ErrorData): StasisError {
  const err = new StasisError(d.code, d.message, d.details ?? {});
  if (d.stack) err.stack = d.stack;
  return err;
}

/** Exhaustiveness helper for `switch` statements over unions. */
export function assertNever(x: never): never {
  throw errors.internal(`unexpected value ${JSON.stringify(x)}`);
}
