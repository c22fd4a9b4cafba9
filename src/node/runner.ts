/**
 * One runner node: a BullMQ consumer on the main thread, a pool of task worker threads, crash
 * recovery on start, and a graceful close. `stasis serve` starts one; tests start them in-process.
 */
import type { RedisOptions } from 'ioredis';
import { loadRunnerConfig, type RunnerConfig, type RunnerConfigInput } from '../config/runner.js';
import { loadRuntimeConfig } from '../config/load.js';
import type { RuntimeConfig } from '../config/schema.js';
import { loadPolicy, usernsMapping } from '../policy/load.js';
import type { NodePolicy } from '../policy/schema.js';
import type { JobConsumer } from '../queue/consumer.js';
import type { ControlServer } from '../queue/control-server.js';
import { OutageWatch } from '../queue/outage.js';
import { nodeCloser } from './close.js';
import { connectNode } from './connect.js';
import { drainNode, type Drain } from './drain.js';
import { startHousekeeping } from './housekeeping.js';
import { buildNode, type NodeParts } from './parts.js';
import { recoverNode, type NodeRecoveryReport, type RecoveryContext } from './recovery.js';

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
  /** Background errors (adopted jobs, orphan sweeps). Default: ignored. */
  onError?: (e: unknown) => void;
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
  const outage = new OutageWatch(o.onError ?? (() => undefined));
  const p = await buildNode({ config, runtime, policy, conn, outage });
  const ctx: RecoveryContext = { config, pool: p.pool, consumer: p.consumer, queue: p.queue, redis: p.consumer.commands, onError: p.onError, track: p.track };
  const recovery = await startNode(p, ctx, o.onFatal);
  const close = nodeCloser(p, startHousekeeping(p, ctx));
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
    drain() {
      const d = drainNode(p.consumer, { timeoutMs: config.drainTimeoutMs, onError: p.onError });
      const done = d.done.then(async (r) => {
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
async function startNode(p: NodeParts, ctx: RecoveryContext, onFatal: ((e: unknown) => void) | undefined): Promise<NodeRecoveryReport> {
  try {
    const recovery = await recoverNode(ctx);
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
