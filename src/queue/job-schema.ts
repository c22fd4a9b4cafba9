/**
 * The job payload: what any BullMQ producer puts in `queue.add(name, data)`. Validated with zod at the
 * edge; a payload that does not parse fails the job at once (UnrecoverableError) naming every bad
 * field. Every value runc, conmon or the kernel would refuse is refused here first (NUL bytes, env
 * keys, path and argument lengths, id ranges, a memory floor), so no payload reaches the runtime only
 * to fail there. What the node allows (rootfs, host network, maxima) is its policy's (src/policy).
 */
import { z } from 'zod';
import { errors } from '../errors.js';
import { byteSizeSchema, cpusSchema, durationOrZeroSchema, durationSchema } from '../config/units.js';
import { ImageRefString } from '../image/reference.js';

/** PATH_MAX: the longest path (in bytes, with its NUL) the kernel takes. */
export const PATH_MAX = 4096;
/** NAME_MAX: the longest path component. */
export const NAME_MAX = 255;
/** MAX_ARG_STRLEN: the longest single argument or environment string. */
export const MAX_ARG_BYTES = 128 * 1024;
/** argv + env together stay well under the kernel's ARG_MAX (a quarter of an 8 MiB stack). */
export const MAX_ARGV_ENV_BYTES = 1024 * 1024;
/** The smallest memory limit (as docker: runc and the kernel cannot run a container in less). */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
/** The largest uid/gid a payload may name (ids at and above 2^31 break runc and many tools). */
export const MAX_ID = 2 ** 31 - 2;
/** Annotations: at most this many, keys up to 253 bytes, values up to 4 KiB, 64 KiB in all. */
export const ANNOTATION_LIMITS = { count: 64, keyBytes: 253, valueBytes: 4096, totalBytes: 64 * 1024 } as const;

const bytes = (s: string) => Buffer.byteLength(s);
const noNul = (what: string) => (s: string) => !s.includes('\0') || `Expected ${what} to contain no NUL byte`;

/** A string without NUL bytes and at most `max` bytes; `what` names the field in messages. */
function text(what: string, max: number) {
  return z.string().superRefine((s, ctx) => {
    const field = ctx.path.length ? ctx.path.join('.') : what;
    const nul = noNul(`\`${field}\``)(s);
    if (nul !== true) ctx.addIssue({ code: z.ZodIssueCode.custom, message: nul });
    else if (bytes(s) > max) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `Expected \`${field}\` to be at most ${max} bytes, got ${bytes(s)}` });
  });
}

/** An absolute path the kernel can take: no NUL, under PATH_MAX, every component under NAME_MAX. */
function absolutePath(what: string) {
  return text(what, PATH_MAX - 1).superRefine((p, ctx) => {
    const field = ctx.path.length ? ctx.path.join('.') : what;
    if (!p.startsWith('/')) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `Expected \`${field}\` to be an absolute path, got \`${p.slice(0, 80)}\`` });
    const long = p.split('/').find((c) => bytes(c) > NAME_MAX);
    if (long !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `Expected every component of \`${field}\` to be at most ${NAME_MAX} bytes` });
  });
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ANNOTATION_KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]*$/;

const id = (what: string) => z.number().int().min(0, `Expected \`${what}\` to be at least 0`).max(MAX_ID, `Expected \`${what}\` to be at most ${MAX_ID}`);

/** Limits of one job (defaults and maxima come from the node policy). */
export const JobLimitsSchema = z
  .object({
    /** Memory limit (no swap), at least 6 MiB. */
    memory: byteSizeSchema.pipe(z.number().min(MIN_MEMORY_BYTES, `Expected \`limits.memory\` to be at least 6m (${MIN_MEMORY_BYTES} bytes)`)).optional(),
    /** CPU limit as a number of CPUs (at least 0.01: the kernel's smallest CFS quota). */
    cpus: cpusSchema.pipe(z.number().min(0.01, 'Expected `limits.cpus` to be at least 0.01')).optional(),
    /** Maximum number of processes/threads. */
    pids: z.number().int().positive().max(4_194_304, 'Expected `limits.pids` to be at most 4194304').optional(),
    /** Wall clock from the first start, seconds or `'30s'`/`'2m'`; at most 24 days (a Node timer's range). */
    timeout: durationSchema.pipe(z.number().max(24 * 24 * 3600, 'Expected `limits.timeout` to be at most 2073600 seconds (24 days)')).optional(),
    /** CPU time of the job's cgroup, seconds or `'30s'`. */
    cpuTime: durationSchema.pipe(z.number().max(24 * 24 * 3600, 'Expected `limits.cpuTime` to be at most 2073600 seconds')).optional(),
    /** SIGTERM → SIGKILL grace on timeout, cpu-time and cancel (0 = KILL at once). */
    killGrace: durationOrZeroSchema.pipe(z.number().max(3600, 'Expected `limits.killGrace` to be at most 3600 seconds')).optional(),
    /** The writable layer's size (everything the job writes to its filesystem), at least 1 MiB. */
    disk: byteSizeSchema.pipe(z.number().min(1024 * 1024, 'Expected `limits.disk` to be at least 1m')).optional(),
    /** Cap of stdout and of stderr each in the result envelope and job.log. */
    outputBytes: byteSizeSchema.optional(),
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

/** A stored checkpoint to seed a new job from (template restore); only of the job's own namespace. */
export const RestoreFromSchema = z.union([
  z
    .object({
      jobId: text('restoreFrom.jobId', 200).pipe(z.string().min(1)),
      seq: z.number().int().positive().optional(),
      /** Namespace of the checkpointed job (default and only allowed value: this job's namespace). */
      namespace: z.string().min(1).optional(),
    })
    .strict(),
  z.object({ path: absolutePath('restoreFrom.path') }).strict(),
]);

/** The job payload schema (input → parsed). */
export const JobPayloadSchema = z
  .object({
    /** The argv to run; the first element is the program. Optional with an `image` whose Entrypoint/Cmd says what to run. */
    command: z
      .array(text('command[]', MAX_ARG_BYTES))
      .min(1, 'Expected `command` to be a non-empty argv array')
      .refine((a) => a[0] !== '', 'Expected `command[0]` to be a program name, got an empty string')
      .optional(),
    /** An OCI image by reference (`registry:5000/team/tool:1.4`, `name@sha256:…`, `oci:/dir:tag`); excludes `rootfs`. */
    image: ImageRefString.optional(),
    /** Read-only lower rootfs directory under one of the node's allowed roots (default: the node's busybox rootfs). */
    rootfs: absolutePath('rootfs').optional(),
    env: z
      .record(text('env value', MAX_ARG_BYTES))
      .superRefine((env, ctx) => {
        for (const k of Object.keys(env)) {
          if (!ENV_KEY.test(k)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `Expected \`env\` keys to match [A-Za-z_][A-Za-z0-9_]*, got \`${k.replace(/\0/g, '\\0')}\`` });
        }
      })
      .optional(),
    cwd: absolutePath('cwd').optional(),
    user: z.object({ uid: id('user.uid'), gid: id('user.gid') }).strict().optional(),
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
    annotations: z
      .record(text('annotations value', ANNOTATION_LIMITS.valueBytes))
      .superRefine((a, ctx) => {
        const keys = Object.keys(a);
        if (keys.length > ANNOTATION_LIMITS.count) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `Expected at most ${ANNOTATION_LIMITS.count} \`annotations\`, got ${keys.length}` });
        for (const k of keys) {
          if (!ANNOTATION_KEY.test(k) || bytes(k) > ANNOTATION_LIMITS.keyBytes) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, message: `Expected \`annotations\` keys to be up to ${ANNOTATION_LIMITS.keyBytes} letters, digits, \`_./-\`, got \`${k.slice(0, 80).replace(/\0/g, '\\0')}\`` });
          }
        }
        const total = keys.reduce((n, k) => n + bytes(k) + bytes(a[k]!), 0);
        if (total > ANNOTATION_LIMITS.totalBytes) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `Expected \`annotations\` to be at most ${ANNOTATION_LIMITS.totalBytes} bytes in all, got ${total}` });
      })
      .optional(),
    /** Fail the BullMQ job (instead of completing it) when the command does not exit 0 on its own. */
    failOnNonZero: z.boolean().optional(),
    /** Checkpoint policy (periodic checkpoints, drain behaviour, corrupt images). */
    checkpoint: JobCheckpointSchema.optional(),
    /** Start from a stored checkpoint instead of a fresh process (template restore). */
    restoreFrom: RestoreFromSchema.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (!p.command && !p.image) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['command'], message: 'Expected `command` (a non-empty argv array), it is missing (it may only be left out with an `image` that has an Entrypoint or Cmd)' });
    }
    if (p.image !== undefined && p.rootfs !== undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rootfs'], message: 'Expected either `image` or `rootfs`, not both' });
    }
    const argvEnv = (p.command ?? []).reduce((n, a) => n + bytes(a) + 1, 0) + Object.entries(p.env ?? {}).reduce((n, [k, v]) => n + bytes(k) + bytes(v) + 2, 0);
    if (argvEnv > MAX_ARGV_ENV_BYTES) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['command'], message: `Expected \`command\` and \`env\` together to be at most ${MAX_ARGV_ENV_BYTES} bytes (ARG_MAX), got ${argvEnv}` });
    }
  });

/** A parsed, validated job payload (byte sizes in bytes, cpus as a number, durations in seconds). */
export type JobPayload = z.output<typeof JobPayloadSchema>;
/** What a producer may send (byte sizes may be strings like `'256m'`, durations like `'30s'`). */
export type JobPayloadInput = z.input<typeof JobPayloadSchema>;

/** Job data key holding the result envelope of a job failed by `failOnNonZero` (set by the runner). */
export const FAILED_RESULT_KEY = 'stasisResult';

/** Default cap of stdout/stderr each in the result envelope (the node policy's default wins). */
export const DEFAULT_OUTPUT_BYTES = 1024 * 1024;

function describeIssue(i: z.ZodIssue): string {
  const field = i.path.join('.') || '(payload)';
  if (i.code === z.ZodIssueCode.custom) return i.message;
  if (i.code === z.ZodIssueCode.unrecognized_keys) {
    const where = i.path.length ? ` in \`${field}\`` : '';
    return `Unknown field${i.keys.length > 1 ? 's' : ''}${where}: ${i.keys.map((k) => `\`${k}\``).join(', ')}`;
  }
  if (i.code === z.ZodIssueCode.invalid_type) {
    return i.received === 'undefined' ? `Expected \`${field}\` (${i.expected}), it is missing` : `Expected \`${field}\` to be ${i.expected}, got ${i.received}`;
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
 * `maxBytes` caps the payload's JSON size (the node policy's maxPayloadBytes).
 */
export function parseJobPayload(data: unknown, maxBytes?: number): JobPayload {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw errors.invalidArgument(`Expected the job data to be an object like {"command":["true"]}, got ${JSON.stringify(data)?.slice(0, 200)}`, {
      field: '(payload)',
    });
  }
  // A previous attempt failed by failOnNonZero left its envelope in the data; it is not payload.
  const { [FAILED_RESULT_KEY]: _previous, ...payload } = data as Record<string, unknown>;
  if (maxBytes !== undefined) {
    const size = Buffer.byteLength(JSON.stringify(payload));
    if (size > maxBytes) {
      throw errors.invalidArgument(`Expected the job payload to be at most ${maxBytes} bytes of JSON, got ${size}`, { field: '(payload)' });
    }
  }
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
