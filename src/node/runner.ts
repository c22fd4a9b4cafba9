/**
 * One runner node: a BullMQ consumer on the main thread, a pool of task worker threads, crash
 * recovery on start, and a graceful close. `stasis serve` starts one; tests start them in-process.
 */
import type { Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { loadRunnerConfig, type RunnerConfig, type RunnerConfigInput } from '../config/runner.js';
import { loadRuntimeConfig } from '../config/load.js';
import { mountRunDir, releaseRunDir } from '../runtime/run-dir.js';
import type { RuntimeConfig } from '../config/schema.js';
import { loadPolicy, usernsMapping } from '../policy/load.js';
import type { NodePolicy } from '../policy/schema.js';
import type { JobConsumer } from '../queue/consumer.js';
import type { ControlServer } from '../queue/control-server.js';
import { nodeCloser } from './close.js';
import { connectNode } from './connect.js';
import { drainNode, type Drain } from './drain.js';
import { startHousekeeping } from './housekeeping.js';
import { buildNode, type NodeParts } from './parts.js';
import { recoverNode, type NodeRecoveryReport, type RecoveryContext } from './recovery.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { NodeEventSink } from '../events/node-events.js';
import type { NodePhase } from '../health/readiness.js';
import { nodeLog, type NodeLog } from './node-log.js';

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

/** Starts a runner node: its parts, recovery of its previous tasks, then the consumer. */
export async function startRunner(o: StartRunnerOptions = {}): Promise<Runner> {
  const env = o.env ?? process.env;
  const policy = o.policy ?? loadPolicy({}, env);
  // The policy's user namespace and seccomp are the runtime's (an explicit runtime option wins).
  const runtime = loadRuntimeConfig({ userns: usernsMapping(policy), seccomp: policy.seccomp, ...(o.runtime ?? {}) }, env);
  const config = loadRunnerConfig(o.runner ?? {}, env);
  const conn = await connectNode(o.connection, config, runtime);
  // Every background error of the node goes through one outage watch: while Redis is unreachable,
  // the connection errors of its many clients and retries come out as one line, not one per retry.
  const nl = nodeLog((o.logger ?? silentLogger).child({ nodeId: config.nodeId }), { ...(o.onError ? { onError: o.onError } : {}), ...(o.events ? { events: o.events } : {}) });
  const { outage } = nl;
  // The run dir on a tmpfs before any task dir is made there (runtime/run-dir.ts); on disk it works, slower.
  if (runtime.runTmpfs) {
    const run = await mountRunDir(runtime.stateDir);
    if (run.place === 'disk') nl.warn(new Error(`the run dir stays on disk: ${run.why}`), { what: 'run dir' });
  }
  const started = async () => {
    const p = await buildNode({ config, runtime, policy, conn, log: nl });
    const ctx: RecoveryContext = { config, pool: p.pool, consumer: p.consumer, queue: p.queue, redis: p.consumer.commands, onError: p.onError, track: p.track };
    return { p, ctx, recovery: await startNode(p, ctx, nl, o.onFatal) };
  };
  const { p, ctx, recovery } = await started().catch(async (e: unknown) => {
    // The first error is the one to report; an unmount that fails leaves an empty tmpfs.
    if (runtime.runTmpfs) await releaseRunDir(runtime.stateDir).catch(() => undefined);
    throw e;
  });
  let phase: Runner['phase'] = 'running';
  const closeNode = nodeCloser(p, startHousekeeping(p, ctx), nl);
  const close: Runner['close'] = (opts) => {
    phase = 'closing';
    return closeNode(opts);
  };
  const runner: Runner = {
    config,
    runtime,
    redisTarget: conn.target,
    recovery,
    consumer: p.consumer,
    control: p.control,
    get redisReachable() {
      return !outage.down;
    },
    get phase() {
      return phase;
    },
    queue: p.queue,
    runningTasks: () => p.consumer.activeJobs().filter((id) => p.consumer.activeJob(id) !== undefined).length,
    drain() {
      if (phase === 'running') phase = 'draining';
      const t0 = Date.now();
      const d = drainNode(p.consumer, { timeoutMs: config.drainTimeoutMs, onError: p.onError });
      const done = d.done.then(async (r) => {
        nl.events({ event: 'drained', ...r, durationMs: Date.now() - t0 });
        await close();
        return r;
      });
      return { ...d, done };
    },
    close,
  };
  return runner;
}

/** Recovers the node's previous tasks, then starts listening and taking jobs; on failure undoes it all. */
async function startNode(p: NodeParts, ctx: RecoveryContext, nl: NodeLog, onFatal: ((e: unknown) => void) | undefined): Promise<NodeRecoveryReport> {
  try {
    const t0 = Date.now();
    const recovery = await recoverNode(ctx);
    nl.events({ event: 'recovered', adopted: recovery.adopted, orphaned: recovery.orphaned, discarded: recovery.discarded, durationMs: Date.now() - t0 });
    await p.control.start();
    // A worker loop that fails for good would leave a node that takes no jobs: say so and stop.
    await p.consumer.start((e) => {
      p.onError(new Error(`the job consumer stopped: ${e instanceof Error ? e.message : String(e)}`));
      onFatal?.(e);
    });
    return recovery;
  } catch (e) {
    // Starting failed: undo what was started; the first error is the one to report.
    await p.consumer.close(true).catch(() => undefined);
    await p.control.close(0).catch(() => undefined);
    await p.queue.close().catch(() => undefined);
    await p.pool.destroy().catch(() => undefined);
    await p.conn.resolved?.release().catch(() => undefined);
    throw e;
  }
}
