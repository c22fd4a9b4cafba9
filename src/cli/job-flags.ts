/**
 * Flags of `stasis run` and `stasis submit` mapped to a job payload, BullMQ job options and the
 * Redis/queue to use. Pure: no I/O (`-i` is read by the command), so the mapping is unit-tested flag
 * by flag. The tables here are also where the commands' usage comes from (options.ts).
 */
import path from 'node:path';
import { GLOBAL_SPECS, parseIntFlag, parseKeyValues, parseOptions, resolveGlobals, usageError } from './args.js';
import { secondsFlag } from './durations.js';
import type { OptionSpecs } from './options.js';
import { JobPayloadSchema, formatIssues, type JobPayloadInput } from '../queue/job-schema.js';
import type { SubmitOptions } from '../queue/client.js';

/** The option table shared by `run` and `submit` (each adds its own output flags). */
export const JOB_OPTIONS = {
  image: { type: 'string', value: 'REF', group: 'Job', help: 'run this OCI image (registry/name:tag, name@sha256:…, oci:/dir:tag); COMMAND, when given, replaces its Cmd' },
  rootfs: { type: 'string', value: 'DIR', group: 'Job', help: "read-only rootfs directory instead of an image", default: "the node's busybox rootfs" },
  env: { type: 'string', short: 'e', multiple: true, value: 'K=V|K', group: 'Job', help: 'environment variable; a bare K takes its value from this environment (left out when unset there)' },
  cwd: { type: 'string', short: 'w', value: 'DIR', group: 'Job', help: 'working directory inside the container (absolute)' },
  workdir: { type: 'string', aliasOf: 'cwd' },
  user: { type: 'string', short: 'u', value: 'UID[:GID]', group: 'Job', help: 'run as this user' },
  tty: { type: 'boolean', short: 't', group: 'Job', help: 'run the job on a terminal (its stdout and stderr become one stream)' },
  interactive: { type: 'boolean', short: 'i', group: 'Job', help: "read this command's stdin to its end (Ctrl-D on a terminal) and give it to the job as its stdin" },
  namespace: { ...GLOBAL_SPECS.namespace, group: 'Job' },
  annotation: { type: 'string', multiple: true, value: 'K=V', group: 'Job', help: 'annotation on the task' },
  'fail-on-non-zero': { type: 'boolean', group: 'Job', help: 'make a non-zero exit a failed BullMQ job' },
  memory: { type: 'string', short: 'm', value: 'SIZE', group: 'Limits and sandbox', help: 'memory limit, e.g. 256m (no swap)' },
  cpus: { type: 'string', value: 'N', group: 'Limits and sandbox', help: 'CPU limit, e.g. 0.5' },
  pids: { type: 'string', value: 'N', group: 'Limits and sandbox', help: 'maximum number of processes' },
  'pids-limit': { type: 'string', aliasOf: 'pids' },
  timeout: { type: 'string', value: 'DURATION', group: 'Limits and sandbox', help: 'wall-clock timeout from the first start, e.g. 30 (seconds), 1.5s, 2m (TERM, grace, KILL)' },
  'cpu-time': { type: 'string', value: 'DURATION', group: 'Limits and sandbox', help: "CPU time of the job's processes together (reason cpu-time)" },
  'kill-grace': { type: 'string', value: 'DURATION', group: 'Limits and sandbox', help: 'SIGTERM → SIGKILL grace on timeout, cpu-time and cancel', default: '2s' },
  disk: { type: 'string', value: 'SIZE', group: 'Limits and sandbox', help: 'the writable layer: everything the job writes to its filesystem' },
  'output-bytes': { type: 'string', value: 'SIZE', group: 'Limits and sandbox', help: 'cap of stdout and of stderr in the result and the streamed output', default: '1m' },
  net: { type: 'string', value: 'none|host', group: 'Limits and sandbox', help: 'network: none is loopback only', default: 'none' },
  network: { type: 'string', aliasOf: 'net' },
  name: { type: 'string', value: 'NAME', group: 'Queue', help: 'job name', default: 'run' },
  'job-id': { type: 'string', value: 'ID', group: 'Queue', help: 'your own job id' },
  priority: { type: 'string', value: 'N', group: 'Queue', help: '1 is the highest' },
  attempts: { type: 'string', value: 'N', group: 'Queue', help: 'attempts for runtime failures', default: '1' },
  redis: { type: 'string', value: 'URL', group: 'Queue', help: 'Redis to use', env: 'REDIS_URL', default: 'the embedded Redis under the state dir' },
  queue: { type: 'string', short: 'q', value: 'NAME', group: 'Queue', help: 'queue name', env: 'STASIS_QUEUE', default: 'stasis' },
  'state-dir': { ...GLOBAL_SPECS['state-dir'], group: 'Queue', help: 'state directory (embedded Redis and in-process runner)' },
} as const satisfies OptionSpecs;

/** The option table of `stasis run`. */
export const RUN_OPTIONS = {
  ...JOB_OPTIONS,
  rm: { type: 'boolean', group: 'Output', help: 'remove the job from the queue once its result was printed' },
  json: { type: 'boolean', group: 'Output', help: 'print the result envelope as JSON instead of streaming the output' },
} as const satisfies OptionSpecs;

/** The option table of `stasis submit`. */
export const SUBMIT_OPTIONS = {
  ...JOB_OPTIONS,
  json: { type: 'boolean', group: 'Output', help: 'print {"jobId","queue"} as JSON' },
} as const satisfies OptionSpecs;

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
  /** `-i`: the command's stdin becomes `payload.stdin` (read by the command before it submits). */
  interactive: boolean;
  /** `--rm` (run only): remove the BullMQ job once its result was printed. */
  rm: boolean;
}

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `-e` values as docker takes them: `K=V` sets K; a bare `K` takes K's value from `callerEnv` and is
 * left out when K is not set there.
 */
export function envFromFlags(list: readonly string[] | undefined, callerEnv: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    if (item.includes('=')) {
      Object.assign(out, parseKeyValues([item], 'env'));
      continue;
    }
    if (!ENV_KEY.test(item)) throw usageError(`Expected \`--env\` to be KEY=VALUE or a variable name KEY, got \`${item}\``);
    const v = callerEnv[item];
    if (v !== undefined) out[item] = v;
  }
  return out;
}

function parseUser(v: string): { uid: number; gid: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(v);
  if (!m) throw usageError(`Expected \`--user\` to be UID or UID:GID (numbers), got \`${v}\``);
  const uid = Number(m[1]);
  return { uid, gid: m[2] === undefined ? uid : Number(m[2]) };
}

/** `--image`: a relative OCI layout path (`oci:./layout:tag`) made absolute; anything else as given. */
function imageRef(v: string): string {
  if (!v.startsWith('oci:') || v.startsWith('oci:/')) return v;
  return `oci:${path.resolve(v.slice(4))}`;
}

/** The job's limits from its flags; only the given ones are set (the job schema checks the values). */
function limitsFromFlags(v: {
  memory?: string | undefined;
  cpus?: string | undefined;
  pids?: string | undefined;
  timeout?: string | undefined;
  'cpu-time'?: string | undefined;
  'kill-grace'?: string | undefined;
  disk?: string | undefined;
  'output-bytes'?: string | undefined;
}): NonNullable<JobPayloadInput['limits']> {
  const limits: NonNullable<JobPayloadInput['limits']> = {};
  if (v.memory !== undefined) limits.memory = v.memory;
  if (v.cpus !== undefined) limits.cpus = v.cpus;
  if (v.pids !== undefined) limits.pids = parseIntFlag(v.pids, 'pids')!;
  if (v.timeout !== undefined) limits.timeout = secondsFlag(v.timeout, '--timeout');
  if (v['cpu-time'] !== undefined) limits.cpuTime = secondsFlag(v['cpu-time'], '--cpu-time');
  if (v['kill-grace'] !== undefined) limits.killGrace = secondsFlag(v['kill-grace'], '--kill-grace', { allowZero: true });
  if (v.disk !== undefined) limits.disk = v.disk;
  if (v['output-bytes'] !== undefined) limits.outputBytes = v['output-bytes'];
  return limits;
}

/** BullMQ's options of the job from its flags: --name, --job-id, --priority, --attempts. */
function submitOptionsFromFlags(v: {
  name?: string | undefined;
  'job-id'?: string | undefined;
  priority?: string | undefined;
  attempts?: string | undefined;
}): SubmitOptions {
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
  return submit;
}

/**
 * Maps `run`/`submit` arguments to a job request. The command after `--` (or the positionals) is the
 * argv; it may be left out with `--image` (the image's Entrypoint/Cmd runs). The payload is validated
 * with the job schema, so a bad flag value is a usage error naming the flag's field.
 */
export function parseJobRequest(args: string[], env: NodeJS.ProcessEnv, command: 'run' | 'submit' = 'submit'): JobRequest {
  const { values: v, positionals, rest, hasRest } = command === 'run' ? parseOptions(args, RUN_OPTIONS) : parseOptions(args, SUBMIT_OPTIONS);
  const argv = hasRest ? rest : positionals;
  if (hasRest && positionals.length > 0) {
    throw usageError(`unexpected arguments before \`--\`: ${positionals.join(' ')}`);
  }
  if (argv.length === 0 && v.image === undefined) throw usageError('missing the command to run (after `--`), or an --image to run');
  const g = resolveGlobals(v, env);
  const limits = limitsFromFlags(v);
  const payload: JobPayloadInput = {};
  if (argv.length > 0) payload.command = [...argv];
  if (v.image !== undefined) payload.image = imageRef(v.image);
  if (v.rootfs !== undefined) payload.rootfs = path.resolve(v.rootfs);
  const envVars = envFromFlags(v.env, env);
  if (Object.keys(envVars).length) payload.env = envVars;
  if (v.cwd !== undefined) payload.cwd = v.cwd;
  if (v.user !== undefined) payload.user = parseUser(v.user);
  if (v.tty) payload.tty = true;
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
  const submit = submitOptionsFromFlags(v);
  return {
    payload,
    submit,
    redis: v.redis,
    queue: v.queue,
    stateDir: g.stateDir,
    json: g.json,
    interactive: v.interactive ?? false,
    rm: 'rm' in v && v.rm === true,
  };
}
