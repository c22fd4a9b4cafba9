/** Configuration of one runner node (`stasis serve`): queue, identity, concurrency, timings. */
import os from 'node:os';
import { z } from 'zod';
import { errors } from '../errors.js';
import { parseDuration } from './units.js';

/** The runner node's settings; the runtime's own (state dir, binaries) live in RuntimeConfig. */
export const RunnerConfigSchema = z.object({
  /** Redis URL; unset = REDIS_URL, else the embedded Redis under the state directory. */
  redisUrl: z.string().min(1).optional(),
  /** The BullMQ queue to consume. */
  queue: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'letters, digits, `_`, `.`, `-`').default('stasis'),
  /** BullMQ key prefix. */
  prefix: z.string().min(1).default('bull'),
  /** This node's id: annotated on its tasks so a restarted node finds them. Stable across restarts. */
  nodeId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, `_`, `.`, `-`').default(os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-') || 'node'),
  /** Jobs run at once on this node. */
  concurrency: z.number().int().positive().max(10_000).default(8),
  /** Worker threads of the pool; each owns many tasks at once. */
  threads: z.number().int().positive().max(64).default(Math.max(1, Math.min(2, os.availableParallelism()))),
  /** BullMQ lock duration, ms (renewed at half of it while the container runs). */
  lockDurationMs: z.number().int().min(1000).default(30_000),
  /** Stalled-job check interval, ms. */
  stalledIntervalMs: z.number().int().min(1000).default(30_000),
  /**
   * Times a job may stall (its node died or lost Redis for longer than the lock) before BullMQ fails
   * it ("job stalled more than allowable limit"): node crashes cost time, not the job.
   */
  maxStalledCount: z.number().int().nonnegative().default(10),
  /** Time between SIGTERM and SIGKILL for a task whose own grace is unknown (the policy's limits set each job's), ms. */
  killGraceMs: z.number().int().nonnegative().default(2_000),
  /** The largest log file of one task (conmon --log-size-max; each task's cap follows its output cap), on the run dir's tmpfs. */
  maxLogBytes: z.number().int().min(1024 * 1024).default(64 * 1024 * 1024),
  /** How often a running task's stats are sampled, ms. */
  statsIntervalMs: z.number().int().min(50).default(1_000),
  /** How often streamed output is flushed into job.log, ms. */
  logFlushMs: z.number().int().min(10).default(100),
  /** Keep each finished task's non-empty log under <stateDir>/logs/<namespace>/<task>.log (logPath). */
  keepLogs: z.boolean().default(true),
  /** Kept logs and failed-restore logs older than this are removed, ms (default 7 days). */
  logRetentionMs: z.number().int().positive().default(7 * 24 * 3600_000),
  /** … and the oldest ones beyond this size per directory (default 1 GiB). */
  logRetentionBytes: z.number().int().positive().default(1024 ** 3),
  /** Checkpoint store directory (shared between nodes to migrate); unset = no checkpoints, drain waits. */
  checkpointDir: z.string().min(1).optional(),
  /** Checkpoints kept per job in the store (older ones are pruned after each commit). */
  checkpointKeep: z.number().int().positive().default(2),
  /** How long a drain (SIGTERM) may take before the remaining jobs are killed, ms. */
  drainTimeoutMs: z.number().int().positive().default(60_000),
  /** Completed jobs are removed from Redis once older than this, ms (BullMQ removeOnComplete.age; default 1 day). */
  keepCompletedMs: z.number().int().min(1000).default(24 * 3600_000),
  /** … and the oldest beyond this many (removeOnComplete.count; 0 removes each at once). */
  keepCompletedCount: z.number().int().nonnegative().default(1000),
  /** Failed jobs: removed once older than this, ms (removeOnFail.age; default 7 days). */
  keepFailedMs: z.number().int().min(1000).default(7 * 24 * 3600_000),
  /** … and the oldest beyond this many (removeOnFail.count). */
  keepFailedCount: z.number().int().nonnegative().default(5000),
  /** Hand-backs of one job (wrong target node, incompatible host) before it fails as unplaceable. */
  maxHandBacks: z.number().int().positive().default(20),
});
/** A runner node's settings. */
export type RunnerConfig = z.infer<typeof RunnerConfigSchema>;
/** Runner settings as given (everything optional). */
export type RunnerConfigInput = z.input<typeof RunnerConfigSchema>;

/** A duration variable in ms: a plain number is milliseconds (`30000`), else a duration (`30s`, as serve's flags take). */
function msEnv(v: string | undefined, field: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v);
  return Math.round(parseDuration(v, field) * 1000);
}

function intEnv(v: string | undefined, field: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw errors.invalidArgument(`Expected \`${field}\` to be a whole number, got \`${v}\``, { field });
  return Number(v);
}

/** Reads runner settings from explicit options, then STASIS_* / REDIS_URL environment variables, then defaults. */
export function loadRunnerConfig(opts: RunnerConfigInput = {}, env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  const raw: RunnerConfigInput = {
    ...opts,
    redisUrl: opts.redisUrl ?? (env.REDIS_URL || undefined),
    queue: opts.queue ?? (env.STASIS_QUEUE || undefined),
    nodeId: opts.nodeId ?? (env.STASIS_NODE_ID || undefined),
    concurrency: opts.concurrency ?? intEnv(env.STASIS_CONCURRENCY, 'STASIS_CONCURRENCY'),
    killGraceMs: opts.killGraceMs ?? msEnv(env.STASIS_KILL_GRACE_MS, 'STASIS_KILL_GRACE_MS'),
    lockDurationMs: opts.lockDurationMs ?? msEnv(env.STASIS_LOCK_DURATION_MS, 'STASIS_LOCK_DURATION_MS'),
    checkpointDir: opts.checkpointDir ?? (env.STASIS_CHECKPOINT_DIR || undefined),
  };
  const parsed = RunnerConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `\`${i.path.join('.')}\`: ${i.message}`);
    throw errors.invalidArgument(`invalid runner config: ${lines.join('; ')}`, { field: parsed.error.issues[0]!.path.join('.') });
  }
  return parsed.data;
}
