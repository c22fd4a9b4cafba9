/**
 * Flags of `stasis run` and `stasis submit` mapped to a job payload, BullMQ job options and the
 * Redis/queue to use. Pure: no I/O, so the mapping is unit-tested flag by flag.
 */
import path from 'node:path';
import { parseCommandArgs, parseIntFlag, parseKeyValues, resolveGlobals, usageError, GLOBAL_OPTIONS } from './args.js';
import { JobPayloadSchema, formatIssues, type JobPayloadInput } from '../queue/job-schema.js';
import { parseDuration } from '../config/units.js';
import type { SubmitOptions } from '../queue/client.js';

/** The option table shared by `run` and `submit`. */
export const JOB_OPTIONS = {
  ...GLOBAL_OPTIONS,
  memory: { type: 'string', short: 'm' },
  cpus: { type: 'string' },
  pids: { type: 'string' },
  timeout: { type: 'string', short: 't' },
  'cpu-time': { type: 'string' },
  'kill-grace': { type: 'string' },
  disk: { type: 'string' },
  'output-bytes': { type: 'string' },
  env: { type: 'string', short: 'e', multiple: true },
  cwd: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  net: { type: 'string' },
  rootfs: { type: 'string' },
  annotation: { type: 'string', multiple: true },
  'fail-on-non-zero': { type: 'boolean' },
  name: { type: 'string' },
  'job-id': { type: 'string' },
  priority: { type: 'string' },
  attempts: { type: 'string' },
  redis: { type: 'string' },
  queue: { type: 'string', short: 'q' },
} as const;

/** Usage lines of the job flags (appended to run/submit usage). */
export const JOB_FLAGS_USAGE = `Limits and sandbox:
  -m, --memory SIZE       memory limit, e.g. 256m (no swap)
      --cpus N            CPU limit, e.g. 0.5
      --pids N            maximum number of processes
  -t, --timeout DURATION  wall-clock timeout from the first start, e.g. 30, 1.5s, 2m (TERM, grace, KILL)
      --cpu-time DURATION CPU time of the job's processes together (reason cpu-time)
      --kill-grace DURATION  SIGTERM → SIGKILL grace on timeout, cpu-time and cancel (default 2s)
      --disk SIZE         the writable layer: everything the job writes to its filesystem
      --output-bytes SIZE cap of stdout and of stderr in the result and the streamed output (default 1m)
  -e, --env K=V           environment variable (repeatable)
  -w, --cwd DIR           working directory inside the container (absolute)
  -u, --user UID[:GID]    run as this user
      --net none|host     network (default none: loopback only)
      --rootfs DIR        read-only rootfs directory (default: the node's busybox rootfs)
  -n, --namespace NAME    tenant namespace (default "default")
      --annotation K=V    annotation on the task (repeatable)
      --fail-on-non-zero  make a non-zero exit a failed BullMQ job
Queue:
      --name NAME         job name (default "run")
      --job-id ID         your own job id
      --priority N        1 is the highest
      --attempts N        attempts for runtime failures (default 1)
      --redis URL         Redis to use (default: REDIS_URL, else the embedded Redis)
  -q, --queue NAME        queue name (default: STASIS_QUEUE, else "stasis")
      --state-dir DIR     state directory (embedded Redis and in-process runner)`;

/** Everything a `run`/`submit` command line says. */
export interface JobRequest {
  payload: JobPayloadInput;
  submit: SubmitOptions;
  /** `--redis` as given (undefined: REDIS_URL or embedded). */
  redis: string | undefined;
  /** `--queue` as given (undefined: STASIS_QUEUE or 'stasis'). */
  queue: string | undefined;
  stateDir: string;
  json: boolean;
}

function parseUser(v: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(v);
  if (!m) throw usageError(`Expected \`--user\` to be UID or UID:GID (numbers), got \`${v}\``);
  const uid = Number(m[1]);
  return { uid, gid: m[2] === undefined ? uid : Number(m[2]) };
}

function durationFlag(v: string, flag: string, allowZero = false): number {
  try {
    return parseDuration(v, flag, { allowZero });
  } catch (e) {
    throw usageError((e as Error).message);
  }
}

/**
 * Maps `run`/`submit` arguments to a job request. The command after `--` is the argv; the payload is
 * validated with the job schema, so a bad flag value is a usage error naming the flag's field.
 */
export function parseJobRequest(args: string[], env: NodeJS.ProcessEnv): JobRequest {
  const { values: v, positionals, rest, hasRest } = parseCommandArgs(args, JOB_OPTIONS);
  const command = hasRest ? rest : positionals;
  if (hasRest && positionals.length > 0) {
    throw usageError(`unexpected arguments before \`--\`: ${positionals.join(' ')}`);
  }
  if (command.length === 0) throw usageError('missing the command to run (after `--`)');
  const g = resolveGlobals(v, env);
  const limits: NonNullable<JobPayloadInput['limits']> = {};
  if (v.memory !== undefined) limits.memory = v.memory;
  if (v.cpus !== undefined) limits.cpus = v.cpus;
  if (v.pids !== undefined) limits.pids = parseIntFlag(v.pids, 'pids')!;
  if (v.timeout !== undefined) limits.timeout = durationFlag(v.timeout, '--timeout');
  if (v['cpu-time'] !== undefined) limits.cpuTime = durationFlag(v['cpu-time'], '--cpu-time');
  if (v['kill-grace'] !== undefined) limits.killGrace = durationFlag(v['kill-grace'], '--kill-grace', true);
  if (v.disk !== undefined) limits.disk = v.disk;
  if (v['output-bytes'] !== undefined) limits.outputBytes = v['output-bytes'];
  const payload: JobPayloadInput = { command: [...command] };
  if (v.rootfs !== undefined) payload.rootfs = path.resolve(v.rootfs);
  const envVars = parseKeyValues(v.env, 'env');
  if (Object.keys(envVars).length) payload.env = envVars;
  if (v.cwd !== undefined) payload.cwd = v.cwd;
  if (v.user !== undefined) payload.user = parseUser(v.user);
  if (Object.keys(limits).length) payload.limits = limits;
  if (v.net !== undefined) {
    if (v.net !== 'none' && v.net !== 'host') throw usageError(`Expected \`--net\` to be none or host, got \`${v.net}\``);
    payload.network = v.net;
  }
  if (v.namespace !== undefined || env.STASIS_NAMESPACE) payload.namespace = g.namespace;
  const annotations = parseKeyValues(v.annotation, 'annotation');
  if (Object.keys(annotations).length) payload.annotations = annotations;
  if (v['fail-on-non-zero']) payload.failOnNonZero = true;
  const checked = JobPayloadSchema.safeParse(payload);
  if (!checked.success) throw usageError(formatIssues(checked.error.issues).join('; '));

  const submit: SubmitOptions = {};
  if (v.name !== undefined) submit.name = v.name;
  if (v['job-id'] !== undefined) {
    if (v['job-id'] === '' || /^\d+$/.test(v['job-id']) || v['job-id'].includes(':')) {
      throw usageError(`Expected \`--job-id\` to be a non-numeric id without \`:\`, got \`${v['job-id']}\``);
    }
    submit.jobId = v['job-id'];
  }
  if (v.priority !== undefined) submit.priority = parseIntFlag(v.priority, 'priority', 1, 2_097_152)!;
  if (v.attempts !== undefined) submit.attempts = parseIntFlag(v.attempts, 'attempts', 1, 1000)!;
  return { payload, submit, redis: v.redis, queue: v.queue, stateDir: g.stateDir, json: g.json };
}
