/**
 * One runner node: a BullMQ consumer on the main thread, a pool of task worker threads, crash
 * recovery on start, and a graceful close. `stasis serve` starts one; tests start them in-process.
 */
import path from 'node:path';
import { Queue, type QueueOptions } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { loadRunnerConfig, type RunnerConfig, type RunnerConfigInput } from '../config/runner.js';
import { loadRuntimeConfig, runtimePaths } from '../config/load.js';
import type { RuntimeConfig } from '../config/schema.js';
import { TaskPool } from '../pool/pool.js';
import { JobConsumer } from '../queue/consumer.js';
import { ControlServer } from '../queue/control-server.js';
import { loadPolicy, usernsMapping } from '../policy/load.js';
import type { NodePolicy } from '../policy/schema.js';
import { resolveConnection, type ResolvedConnection } from '../queue/connection.js';
import { ensureBusyboxRootfs } from '../sandbox/busybox.js';
import { drainPreparedSandboxes } from '../warm/recover.js';
import { migrateVerb } from '../queue/migration.js';
import { handOff, takeVerb } from '../queue/handoff.js';
import { drainNode, type Drain } from './drain.js';
import { pruneDir } from './retention.js';
import { ImageStore } from '../image/store.js';
import { storedImageDigests } from '../checkpoint/fs-store.js';
import { failuresDir } from '../runtime/layout.js';
import { recoverNode, sweepOrphans, type NodeRecoveryReport, type RecoveryContext } from './recovery.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { NodeEventSink } from '../events/node-events.js';
import type { NodePhase } from '../health/readiness.js';
import { keepJobsOptions } from '../queue/keep-jobs.js';
import { nodeLog } from './node-log.js';

/** Options of startRunner. */
export interface StartRunnerOptions {
  runner?: RunnerConfigInput;
  runtime?: Partial<RuntimeConfig>;
  /** Use these ioredis options instead of resolving --redis / REDIS_URL / the embedded Redis. */
  connection?: RedisOptions;
  env?: NodeJS.ProcessEnv;
  /** The operator's node policy (default: loadPolicy from the environment: STASIS_POLICY, …). */
  policy?: NodePolicy;
  /** The node cannot go on (its BullMQ worker loop failed): `stasis serve` exits. */
  onFatal?: (e: unknown) => void;
  /** Background errors (adopted jobs, orphan sweeps), besides the log. Default: only logged. */
  onError?: (e: unknown) => void;
  /** The node's structured log: lifecycle events, errors, warnings (default: silent). */
  logger?: Logger;
  /** The node's lifecycle events, after the log (metrics). */
  events?: NodeEventSink;
}

/** A started runner node. */
export interface Runner {
  readonly config: RunnerConfig;
  readonly runtime: RuntimeConfig;
  /** Where Redis is (`unix:/…/redis.sock`, `redis://host:6379`). */
  readonly redisTarget: string;
  readonly recovery: NodeRecoveryReport;
  readonly consumer: JobConsumer;
  /** Answers control requests for this node's jobs (pause, exec, checkpoint, …); register more verbs on it. */
  readonly control: ControlServer;
  /**
   * Graceful: stop taking jobs, wait for running ones. `force`: leave containers running for a
   * restart; a forced close also cuts short a graceful close or drain in progress.
   */
  close(opts?: { force?: boolean }): Promise<void>;
  /** False while Redis is unreachable (as the node's clients last saw it). */
  readonly redisReachable: boolean;
  /** Drain (docs/migration.md): checkpoint and hand back running jobs per their policy, then close. */
  drain(): Drain;
  /** Running, draining (a drain started) or closing (a close started). */
  readonly phase: Exclude<NodePhase, 'starting'>;
  /** The node's BullMQ Queue of its jobs (reads: the dashboard, BullMQ's metrics). */
  readonly queue: Queue;
  /** Jobs whose task runs on this node now. */
  runningTasks(): number;
}

/** Starts a runner node: pool, recovery of its previous tasks, then the consumer. */
export async function startRunner(o: StartRunnerOptions = {}): Promise<Runner> {
  const env = o.env ?? process.env;
  const policy = o.policy ?? loadPolicy({}, env);
  // The policy's user namespace and seccomp are the runtime's (an explicit runtime option wins).
  const runtime = loadRuntimeConfig({ userns: usernsMapping(policy), seccomp: policy.seccomp, ...(o.runtime ?? {}) }, env);
  const config = loadRunnerConfig(o.runner ?? {}, env);
  let resolved: ResolvedConnection | null = null;
  let connection: RedisOptions;
  let redisTarget: string;
  if (o.connection) {
    connection = { ...o.connection, maxRetriesPerRequest: null };
    redisTarget = o.connection.path ? `unix:${o.connection.path}` : `redis://${o.connection.host ?? 'localhost'}:${o.connection.port ?? 6379}`;
  } else {
    resolved = await resolveConnection({ ...(config.redisUrl ? { redis: config.redisUrl } : {}), env: {}, stateDir: runtime.stateDir });
    connection = resolved.options;
    redisTarget = resolved.target;
  }
  // Every background error of the node goes through one outage watch: while Redis is unreachable,
  // the connection errors of its many clients and retries come out as one line, not one per retry.
  const nl = nodeLog((o.logger ?? silentLogger).child({ nodeId: config.nodeId }), { ...(o.onError ? { onError: o.onError } : {}), ...(o.events ? { events: o.events } : {}) });
  const { outage, events } = nl;
  const onError = nl.error;
  /** What a close step that failed leaves behind is worth a warning (Redis being gone is not). */
  const closeStep = (what: string) => (e: unknown) => nl.warn(e, { what: `close: ${what}` });
  const defaultRootfs = await ensureBusyboxRootfs(path.join(runtimePaths(runtime).rootfsDir, 'busybox'));
  const pool = new TaskPool({
    runtime,
    threads: config.threads,
    tasksPerThread: Math.ceil(config.concurrency / config.threads) + 4,
    onError,
  });
  const images = await ImageStore.open({
    stateDir: runtime.stateDir,
    // Running tasks' images are in use by their mounts (the store checks); stored checkpoints' too.
    inUse: () => (config.checkpointDir ? storedImageDigests(config.checkpointDir) : Promise.resolve(new Set<string>())),
    onGcError: onError,
  });
  const ref = { queue: config.queue, prefix: config.prefix };
  let commands: Redis | null = null;
  const consumer = new JobConsumer({
    config,
    connection,
    pool,
    policy,
    images,
    userns: runtime.userns,
    rootfs: { defaultRootfs, stateDir: runtime.stateDir, ...(config.checkpointDir ? { checkpointDir: config.checkpointDir } : {}) },
    onError,
    warn: nl.warn,
    events,
    outage,
    binaries: { criu: runtime.criu, runc: runtime.runc },
    handOff: (nodeId, jobId, token, why) => handOff(commands!, ref, nodeId, jobId, token, why),
  });
  commands = consumer.commands;
  const control = new ControlServer({
    connection,
    queue: { queue: config.queue, prefix: config.prefix },
    nodeId: config.nodeId,
    jobs: (jobId) => consumer.activeJob(jobId),
    checkpointDir: config.checkpointDir ?? path.join(runtime.stateDir, 'checkpoints'),
    runc: runtime.runc,
    criu: runtime.criu,
    onError,
  });
  control.register('migrate', migrateVerb(consumer));
  // Jobs this node posts outside its Worker (adopted after a restart, handed over) are moved by this
  // Queue's scripts, which read the same retention from its options (BullMQ types them on Worker only).
  const queue = new Queue(config.queue, { connection, prefix: config.prefix, ...keepJobsOptions(config) } as QueueOptions);
  queue.on('error', onError);
  const adoptions = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    adoptions.add(p);
    void p.finally(() => adoptions.delete(p));
  };
  control.register('take', takeVerb(consumer, queue, consumer.commands, ref, track));
  const ctx: RecoveryContext = { config, pool, consumer, queue, redis: consumer.commands, onError, track };
  let recovery: NodeRecoveryReport;
  try {
    const t0 = Date.now();
    recovery = await recoverNode(ctx);
    events({ event: 'recovered', adopted: recovery.adopted, orphaned: recovery.orphaned, discarded: recovery.discarded, durationMs: Date.now() - t0 });
    await control.start();
    // A worker loop that fails for good would leave a node that takes no jobs: say so and stop.
    await consumer.start((e) => {
      onError(new Error(`the job consumer stopped: ${e instanceof Error ? e.message : String(e)}`));
      o.onFatal?.(e);
    });
  } catch (e) {
    await consumer.close(true).catch(() => undefined);
    await control.close(0).catch(() => undefined);
    await queue.close().catch(() => undefined);
    await pool.destroy().catch(() => undefined);
    await resolved?.release().catch(() => undefined);
    throw e;
  }
  const sweep = setInterval(() => {
    if (consumer.orphans.size > 0) void sweepOrphans(ctx).catch(onError);
    void consumer.sweepDetached(queue).catch(onError);
  }, Math.min(config.stalledIntervalMs, 5_000));
  sweep.unref();
  // Kept logs and failed-restore logs: pruned by age and size now and every hour.
  const retention = { maxAgeMs: config.logRetentionMs, maxBytes: config.logRetentionBytes };
  const prune = () => Promise.all([pruneDir(path.join(runtime.stateDir, 'logs'), retention), pruneDir(failuresDir(runtime.stateDir), retention)]);
  void prune();
  const pruner = setInterval(() => void prune(), 3600_000);
  pruner.unref();

  let phase: Runner['phase'] = 'running';
  let closing: Promise<void> | null = null;
  let forcing: Promise<void> | null = null;
  /** A step of a forced close: Redis may be gone, so none may wait for it long. */
  const briefly = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 2_000).unref())]);
  const runner: Runner = {
    config,
    runtime,
    redisTarget,
    recovery,
    consumer,
    control,
    get redisReachable() {
      return !outage.down;
    },
    get phase() {
      return phase;
    },
    queue,
    runningTasks: () => consumer.activeJobs().filter((id) => consumer.activeJob(id) !== undefined).length,
    drain() {
      if (phase === 'running') phase = 'draining';
      const t0 = Date.now();
      const d = drainNode(consumer, { timeoutMs: config.drainTimeoutMs, onError });
      const done = d.done.then(async (r) => {
        events({ event: 'drained', ...r, durationMs: Date.now() - t0 });
        await runner.close();
        return r;
      });
      return { ...d, done };
    },
    close(opts = {}) {
      phase = 'closing';
      if (opts.force && closing) {
        // A graceful close (or drain) that cannot finish, e.g. waiting for Redis: leave the rest running.
        forcing ??= (async () => {
          await briefly(consumer.close(true));
          await briefly(control.close(0));
          await briefly(queue.close());
          await briefly(pool.destroy());
          await briefly(resolved?.release() ?? Promise.resolve());
        })();
        return forcing;
      }
      closing ??= (async () => {
        clearInterval(sweep);
        clearInterval(pruner);
        if (!opts.force) await Promise.all([...adoptions]);
        await consumer.close(opts.force ?? false);
        await control.close(opts.force ? 0 : undefined).catch(closeStep('control server'));
        await queue.close().catch(closeStep('queue'));
        if (opts.force) await pool.destroy().catch(closeStep('task pool (destroy)'));
        else await pool.close().catch(closeStep('task pool'));
        // Prepared sandboxes nobody adopted (a forced close leaves them to the next start's recovery).
        if (!opts.force) await drainPreparedSandboxes(runtime).catch(closeStep('prepared sandboxes (the next start removes them)'));
        await resolved?.release().catch(closeStep('embedded Redis'));
      })();
      return closing;
    },
  };
  return runner;
}
