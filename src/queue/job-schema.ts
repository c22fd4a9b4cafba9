/**
 * The job payload: what any BullMQ producer puts in `queue.add(name, data)`. Validated with zod at the
 * edge; a payload that does not parse fails the job at once (UnrecoverableError) naming every bad field.
 */
import { z } from 'zod';
import { errors, hasCode } from '../errors.js';
import { parseByteSize, parseCpus } from '../sandbox/limits.js';

/** A byte size given as `'256m'` or a number of bytes; parsed into bytes. */
const byteSize = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseByteSize(v, ctx.path.join('.'));
  } catch (e) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: hasCode(e) ? e.message : String(e) });
    return z.NEVER;
  }
});

/** A CPU count given as `0.5` or `'0.5'`; parsed into a number. */
const cpus = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseCpus(v, ctx.path.join('.'));
  } catch (e) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: hasCode(e) ? e.message : String(e) });
    return z.NEVER;
  }
});

/** Limits of one job. */
export const JobLimitsSchema = z
  .object({
    /** Memory limit (no swap). */
    memory: byteSize.optional(),
    /** CPU limit as a number of CPUs. */
    cpus: cpus.optional(),
    /** Maximum number of processes/threads. */
    pids: z.number().int().positive().optional(),
    /** Wall-clock timeout in seconds (TERM, grace period, KILL); at most 24 days (a Node timer's range). */
    timeout: z.number().positive().max(24 * 24 * 3600, 'Expected `limits.timeout` to be at most 2073600 seconds (24 days)').optional(),
    /** Cap of stdout and of stderr each in the result envelope (default 1 MiB). */
    outputBytes: byteSize.optional(),
  })
  .strict();

/** Checkpoint policy of one job (see docs/migration.md). */
export const JobCheckpointSchema = z
  .object({
    /** Checkpoint the running job every N seconds (leave running) into the node's checkpoint store. */
    everySeconds: z.number().min(1, 'Expected `checkpoint.everySeconds` to be at least 1').max(24 * 3600).optional(),
    /** May the job be checkpointed at all (migrate, drain, periodic)? Default true. */
    allow: z.boolean().optional(),
    /** What a draining node does with it: checkpoint and hand back (default), wait for it, or requeue it to start over. */
    onDrain: z.enum(['checkpoint', 'wait', 'requeue']).optional(),
    /** A checkpoint that fails verification: start the job over, or fail it (default). */
    onCorrupt: z.enum(['restart', 'fail']).optional(),
  })
  .strict();

/** A stored checkpoint to seed a new job from (template restore). */
export const RestoreFromSchema = z.union([
  z
    .object({
      jobId: z.string().min(1),
      seq: z.number().int().positive().optional(),
      /** Namespace of the checkpointed job (default: this job's namespace). */
      namespace: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ path: z.string().startsWith('/', 'Expected `restoreFrom.path` to be an absolute path') }).strict(),
]);

/** The job payload schema (input → parsed). */
export const JobPayloadSchema = z
  .object({
    /** The argv to run; the first element is the program. */
    command: z.array(z.string()).min(1, 'Expected `command` to be a non-empty argv array'),
    /** Read-only lower rootfs directory (default: the busybox rootfs of the node). */
    rootfs: z.string().min(1).optional(),
    env: z.record(z.string()).optional(),
    cwd: z.string().startsWith('/', 'Expected `cwd` to be an absolute path').optional(),
    user: z.object({ uid: z.number().int().nonnegative(), gid: z.number().int().nonnegative() }).strict().optional(),
    /** Written to the process' stdin, which is then closed. */
    stdin: z.string().optional(),
    tty: z.boolean().optional(),
    limits: JobLimitsSchema.optional(),
    network: z.enum(['none', 'host']).optional(),
    /** Tenant namespace of the task. */
    namespace: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'Expected `namespace` to be letters, digits, `_`, `.`, `-` (max 63)')
      .optional(),
    annotations: z.record(z.string()).optional(),
    /** Fail the BullMQ job (instead of completing it) when the command exits non-zero. */
    failOnNonZero: z.boolean().optional(),
    /** Checkpoint policy (periodic checkpoints, drain behaviour, corrupt images). */
    checkpoint: JobCheckpointSchema.optional(),
    /** Start from a stored checkpoint instead of a fresh process (template restore). */
    restoreFrom: RestoreFromSchema.optional(),
  })
  .strict();

/** A parsed, validated job payload (byte sizes in bytes, cpus as a number). */
export type JobPayload = z.output<typeof JobPayloadSchema>;
/** What a producer may send (byte sizes may be strings like `'256m'`). */
export type JobPayloadInput = z.input<typeof JobPayloadSchema>;

/** Job data key holding the result envelope of a job failed by `failOnNonZero` (set by the runner). */
export const FAILED_RESULT_KEY = 'stasisResult';

/** Default cap of stdout/stderr each in the result envelope. */
export const DEFAULT_OUTPUT_BYTES = 1024 * 1024;

function describeIssue(i: z.ZodIssue): string {
  const field = i.path.join('.') || '(payload)';
  if (i.code === z.ZodIssueCode.custom) return i.message;
  if (i.code === z.ZodIssueCode.unrecognized_keys) {
    const where = i.path.length ? ` in \`${field}\`` : '';
    return `Unknown field${i.keys.length > 1 ? 's' : ''}${where}: ${i.keys.map((k) => `\`${k}\``).join(', ')}`;
  }
  if (i.code === z.ZodIssueCode.invalid_type) {
    return i.received === 'undefined'
      ? `Expected \`${field}\` (${i.expected}), it is missing`
      : `Expected \`${field}\` to be ${i.expected}, got ${i.received}`;
  }
  if (i.message.startsWith('Expected `')) return i.message;
  return `\`${field}\`: ${i.message}`;
}

/** Every issue of a failed parse as one line per field. */
export function formatIssues(issues: z.ZodIssue[]): string[] {
  return issues.map(describeIssue);
}

/**
 * Validates a job's data. Throws StasisError ERR_INVALID_ARGUMENT whose message lists every bad field
 * (one per line after the first) and whose details carry `fields` (dotted paths) and `issues`.
 */
export function parseJobPayload(data: unknown): JobPayload {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw errors.invalidArgument(`Expected the job data to be an object like {"command":["true"]}, got ${JSON.stringify(data)}`, {
      field: '(payload)',
    });
  }
  // A previous attempt failed by failOnNonZero left its envelope in the data; it is not payload.
  const { [FAILED_RESULT_KEY]: _previous, ...payload } = data as Record<string, unknown>;
  const r = JobPayloadSchema.safeParse(payload);
  if (r.success) return r.data;
  const lines = formatIssues(r.error.issues);
  const fields = r.error.issues.map((i) => i.path.join('.') || '(payload)');
  throw errors.invalidArgument(`invalid job payload: ${lines.join('; ')}`, {
    field: fields[0],
    fields,
    issues: lines,
  });
}
