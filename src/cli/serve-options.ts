/**
 * The flags of `stasis serve` and what they resolve to: every setting is a flag, else its
 * environment variable (the table's `env`), else the runner's default. Timings take durations with
 * units (`30s`, `1m`, `500ms`); a plain number is milliseconds, as it always was. Pure.
 */
import path from 'node:path';
import { GLOBAL_SPECS } from './args.js';
import { millisFlag } from './durations.js';
import { flagOrEnv, type OptionSpecs, type OptionValue } from './options.js';
import { errors } from '../errors.js';
import type { RunnerConfigInput } from '../config/runner.js';
import type { PolicyFlags } from '../policy/load.js';
import { parseListenAddress, type ListenAddress } from '../http/address.js';
import { logFormatOf, logLevelOf } from '../log/format.js';
import { SERVE_WARM_POOL } from '../runtime/warm/serve-default.js';
import type { LogFormat } from '../log/pino.js';
import type { LogLevel } from '../log/logger.js';

const NODE = 'Queue and node';
const TIMING = 'Timings (DURATION: 30s, 1m, 500ms; a plain number is milliseconds)';
const CHECKPOINTS = 'Checkpoints and migration';
const POLICY = "Node policy (docs/security.md; producers cannot change it)";
const OPS = 'Operations (docs/operations.md)';
const RETENTION = "Retention of finished jobs in Redis (a job's own removeOnComplete/removeOnFail wins)";

/** The option table of `stasis serve`. */
export const SERVE_OPTIONS = {
  redis: { type: 'string', value: 'URL', group: NODE, help: 'Redis to use', env: 'REDIS_URL', default: 'an embedded redis-server under the state dir' },
  queue: { type: 'string', value: 'NAME', group: NODE, help: 'queue to consume', env: 'STASIS_QUEUE', default: 'stasis' },
  'node-id': { type: 'string', value: 'ID', group: NODE, help: "this node's stable id; a restart with the same id and state dir re-attaches to the containers it left running", env: 'STASIS_NODE_ID', default: 'the hostname' },
  concurrency: { type: 'string', value: 'N', group: NODE, help: 'jobs at once', env: 'STASIS_CONCURRENCY', default: '8' },
  threads: { type: 'string', value: 'N', group: NODE, help: 'worker threads of the task pool', env: 'STASIS_THREADS', default: '2 (1 on a single CPU)' },
  'state-dir': { ...GLOBAL_SPECS['state-dir'], group: NODE },
  'kill-grace': { type: 'string', value: 'DURATION', group: TIMING, help: "SIGTERM → SIGKILL grace of a re-attached task whose own grace is unknown (each job's grace is its limits.killGrace, by default the policy's 2s)", env: 'STASIS_KILL_GRACE_MS', default: '2s' },
  'lock-duration': { type: 'string', value: 'DURATION', group: TIMING, help: 'BullMQ lock duration, renewed at half of it while a container runs (at least 1s)', env: 'STASIS_LOCK_DURATION_MS', default: '30s' },
  'stalled-interval': { type: 'string', value: 'DURATION', group: TIMING, help: 'BullMQ stalled-job check (at least 1s)', env: 'STASIS_STALLED_INTERVAL', default: '30s' },
  'max-stalled-count': { type: 'string', value: 'N', group: TIMING, help: 'times a job may lose its lock (its node died) and be taken again before it fails as stalled', env: 'STASIS_MAX_STALLED_COUNT', default: '10' },
  'drain-timeout': { type: 'string', value: 'DURATION', group: TIMING, help: 'SIGTERM drain: time to checkpoint and hand back jobs before killing them', env: 'STASIS_DRAIN_TIMEOUT', default: '60s' },
  'warm-pool': { type: 'string', value: 'N', group: NODE, help: 'prepared sandboxes kept per (rootfs, user, network, limits), so a job only runs `runc start`; 0 = none (docs/runtime.md)', env: 'STASIS_WARM_POOL', default: String(SERVE_WARM_POOL) },
  'checkpoint-dir': { type: 'string', value: 'DIR', group: CHECKPOINTS, help: 'checkpoint store, shared between nodes to migrate (unset: no checkpoints)', env: 'STASIS_CHECKPOINT_DIR' },
  'checkpoint-keep': { type: 'string', value: 'N', group: CHECKPOINTS, help: 'checkpoints kept per job', env: 'STASIS_CHECKPOINT_KEEP', default: '2' },
  'max-hand-backs': { type: 'string', value: 'N', group: CHECKPOINTS, help: 'hand-backs of one job (reserved for another node, incompatible checkpoint) before it fails as unplaceable', env: 'STASIS_MAX_HAND_BACKS', default: '20' },
  policy: { type: 'string', value: 'FILE', group: POLICY, help: 'the node policy JSON: allowed rootfs roots, host network, default and maximum limits, per-namespace rules, user namespace, seccomp, images', env: 'STASIS_POLICY' },
  'allow-rootfs': { type: 'string', multiple: true, value: 'DIR', group: POLICY, help: "a directory whose subdirectories payloads may name as `rootfs`; the node's busybox rootfs is always allowed (the variable takes DIR:DIR)", env: 'STASIS_ALLOW_ROOTFS' },
  'allow-host-network': { type: 'boolean', group: POLICY, help: 'let payloads ask for `network: "host"` (the variable: 1)', env: 'STASIS_ALLOW_HOST_NETWORK' },
  userns: { type: 'string', value: 'MODE', group: POLICY, help: "private (container root is an unprivileged host id), host (off), or HOSTID:SIZE; every node that migrates jobs uses the same", env: 'STASIS_USERNS', default: 'private' },
  seccomp: { type: 'string', value: 'PROFILE', group: POLICY, help: 'default, unconfined, or an OCI seccomp JSON file', env: 'STASIS_SECCOMP', default: 'default' },
  http: { type: 'string', value: 'ADDR', group: OPS, help: 'serve /metrics, /healthz and /readyz on HOST:PORT (e.g. 127.0.0.1:9464; [::1]:PORT for IPv6; :PORT is every IPv4 address; no authentication)', env: 'STASIS_HTTP', default: 'off' },
  ui: { type: 'boolean', group: OPS, help: 'also serve the read-only Bull Board at /ui (needs --http; shows job payloads and outputs; the variable: 1)', env: 'STASIS_UI' },
  'log-format': { type: 'string', value: 'FORMAT', group: OPS, help: 'json (one object per line) or pretty; logs go to stderr', env: 'STASIS_LOG_FORMAT', default: 'pretty on a terminal, else json' },
  'log-level': { type: 'string', value: 'LEVEL', group: OPS, help: 'debug, info, warn, error or silent', env: 'STASIS_LOG_LEVEL', default: 'info' },
  'keep-completed': { type: 'string', value: 'DURATION', group: RETENTION, help: 'completed jobs older than this are removed (BullMQ removeOnComplete.age)', env: 'STASIS_KEEP_COMPLETED', default: '1d' },
  'keep-completed-count': { type: 'string', value: 'N', group: RETENTION, help: 'at most this many completed jobs are kept (0: none)', env: 'STASIS_KEEP_COMPLETED_COUNT', default: '1000' },
  'keep-failed': { type: 'string', value: 'DURATION', group: RETENTION, help: 'failed jobs older than this are removed (BullMQ removeOnFail.age)', env: 'STASIS_KEEP_FAILED', default: '7d' },
  'keep-failed-count': { type: 'string', value: 'N', group: RETENTION, help: 'at most this many failed jobs are kept (0: none)', env: 'STASIS_KEEP_FAILED_COUNT', default: '5000' },
  json: { type: 'boolean', group: 'Output', help: 'print the start line as JSON' },
} as const satisfies OptionSpecs;

/** The parsed flag values of SERVE_OPTIONS (strings as given). */
export type ServeFlagValues = Readonly<Record<string, unknown>>;

/** A bad setting: a usage error when it came from a flag, a plain invalid argument from the environment. */
function bad(o: OptionValue, what: string) {
  const message = `Expected \`${o.source}\` to be ${what}, got \`${o.value}\``;
  return errors.invalidArgument(message, o.source.startsWith('-') ? { usage: true, field: o.source } : { field: o.source });
}

function positiveInt(o: OptionValue | undefined): number | undefined {
  if (o === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(o.value) || Number(o.value) <= 0) throw bad(o, 'a whole number above 0');
  return Number(o.value);
}

function count(o: OptionValue | undefined): number | undefined {
  if (o === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(o.value) || !Number.isSafeInteger(Number(o.value))) throw bad(o, 'a whole number (0 or more)');
  return Number(o.value);
}

/** At least a second (BullMQ keeps ages in whole seconds). */
function age(o: OptionValue | undefined): number | undefined {
  const ms = millis(o);
  if (o !== undefined && ms !== undefined && ms < 1000) throw bad(o, 'a duration of at least 1s');
  return ms;
}

function millis(o: OptionValue | undefined, allowZero = false): number | undefined {
  return o === undefined ? undefined : millisFlag(o.value, o.source, { allowZero });
}

/**
 * The runner settings `stasis serve` passes to startRunner: each from its flag, else its environment
 * variable; unset ones are left out (the runner's defaults apply).
 */
export function runnerSettings(values: ServeFlagValues, env: NodeJS.ProcessEnv): RunnerConfigInput {
  const get = (name: keyof typeof SERVE_OPTIONS) => flagOrEnv(SERVE_OPTIONS, values, env, name);
  const r: RunnerConfigInput = {};
  const redis = get('redis');
  if (redis) r.redisUrl = redis.value;
  const queue = get('queue');
  if (queue) r.queue = queue.value;
  const nodeId = get('node-id');
  if (nodeId) r.nodeId = nodeId.value;
  const set = <K extends keyof RunnerConfigInput>(key: K, v: RunnerConfigInput[K] | undefined) => {
    if (v !== undefined) r[key] = v;
  };
  set('concurrency', positiveInt(get('concurrency')));
  set('threads', positiveInt(get('threads')));
  set('killGraceMs', millis(get('kill-grace'), true));
  set('lockDurationMs', millis(get('lock-duration')));
  set('stalledIntervalMs', millis(get('stalled-interval')));
  set('maxStalledCount', positiveInt(get('max-stalled-count')));
  set('drainTimeoutMs', millis(get('drain-timeout')));
  const checkpointDir = get('checkpoint-dir');
  if (checkpointDir && checkpointDir.value !== '') r.checkpointDir = path.resolve(checkpointDir.value);
  set('checkpointKeep', positiveInt(get('checkpoint-keep')));
  set('maxHandBacks', positiveInt(get('max-hand-backs')));
  set('keepCompletedMs', age(get('keep-completed')));
  set('keepCompletedCount', count(get('keep-completed-count')));
  set('keepFailedMs', age(get('keep-failed')));
  set('keepFailedCount', count(get('keep-failed-count')));
  return r;
}

/** `--warm-pool` (or STASIS_WARM_POOL): 0 to 16 prepared sandboxes per key; undefined when not set. */
export function warmPoolSetting(values: ServeFlagValues, env: NodeJS.ProcessEnv): number | undefined {
  const o = flagOrEnv(SERVE_OPTIONS, values, env, 'warm-pool');
  if (o === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(o.value) || Number(o.value) > 16) throw bad(o, 'a whole number from 0 to 16');
  return Number(o.value);
}

/** The operations settings of `stasis serve`: HTTP server, dashboard, log format and level. */
export interface OpsSettings {
  http?: ListenAddress;
  ui: boolean;
  logFormat: LogFormat;
  logLevel: LogLevel;
}

/** Resolves the operations flags (each from its flag, else its variable); `isTTY`: stderr is a terminal. */
export function opsSettings(values: ServeFlagValues, env: NodeJS.ProcessEnv, isTTY: boolean): OpsSettings {
  const get = (name: keyof typeof SERVE_OPTIONS) => flagOrEnv(SERVE_OPTIONS, values, env, name);
  const format = get('log-format');
  const logFormat = logFormatOf(format?.value, isTTY);
  if (logFormat === null) throw bad(format!, '`json` or `pretty`');
  const level = get('log-level');
  const logLevel = logLevelOf(level?.value);
  if (logLevel === null) throw bad(level!, '`debug`, `info`, `warn`, `error` or `silent`');
  const addr = get('http');
  const http = addr ? parseListenAddress(addr.value) : undefined;
  if (addr && !http) throw bad(addr, 'HOST:PORT like `127.0.0.1:9464` (or `:PORT`, `[::1]:PORT`)');
  const uiEnv = env.STASIS_UI;
  if (values.ui !== true && uiEnv !== undefined && uiEnv !== '' && !/^(1|true|0|false)$/i.test(uiEnv)) {
    throw errors.invalidArgument(`Expected \`STASIS_UI\` to be 1 or 0, got \`${uiEnv}\``, { field: 'STASIS_UI' });
  }
  const ui = values.ui === true || /^(1|true)$/i.test(uiEnv ?? '');
  if (ui && !http) {
    const source = values.ui === true ? '--ui' : 'STASIS_UI';
    throw errors.invalidArgument(`\`${source}\` needs \`--http ADDR\` (the dashboard is served by the node's HTTP server)`, source === '--ui' ? { usage: true, field: source } : { field: source });
  }
  return { ...(http ? { http } : {}), ui, logFormat, logLevel };
}

/** The policy flags of `stasis serve` (loadPolicy reads their environment variables itself). */
export function policyFlags(values: {
  policy?: string | undefined;
  'allow-rootfs'?: string[] | undefined;
  'allow-host-network'?: boolean | undefined;
  userns?: string | undefined;
  seccomp?: string | undefined;
}): PolicyFlags {
  return {
    ...(values.policy ? { file: values.policy } : {}),
    ...(values['allow-rootfs'] ? { allowRootfs: values['allow-rootfs'] } : {}),
    ...(values['allow-host-network'] ? { allowHostNetwork: true } : {}),
    ...(values.userns ? { userns: values.userns } : {}),
    ...(values.seccomp ? { seccomp: values.seccomp } : {}),
  };
}
