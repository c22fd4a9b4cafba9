/**
 * The parts of a runner node, built but not started: the task pool, the image store, the BullMQ
 * consumer, the control server and a Queue handle, all reporting background errors to one place.
 */
import path from 'node:path';
import { Queue, type QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunnerConfig } from '../config/runner.js';
import { runtimePaths } from '../config/load.js';
import type { RuntimeConfig } from '../config/schema.js';
import { storedImageDigests } from '../checkpoint/image-refs.js';
import { ImageStore } from '../image/store.js';
import type { NodePolicy } from '../policy/schema.js';
import { TaskPool } from '../pool/pool.js';
import { JobConsumer } from '../queue/consumer.js';
import { ControlServer } from '../queue/control-server.js';
import { handOff, takeVerb } from '../queue/handoff.js';
import { migrateVerb } from '../queue/migration.js';
import { keepJobsOptions } from '../queue/keep-jobs.js';
import { ensureBusyboxRootfs } from '../sandbox/busybox.js';
import type { NodeConnection } from './connect.js';
import type { NodeLog } from './node-log.js';

/** What a node is made of. */
export interface NodeParts {
  config: RunnerConfig;
  runtime: RuntimeConfig;
  conn: NodeConnection;
  pool: TaskPool;
  images: ImageStore;
  consumer: JobConsumer;
  control: ControlServer;
  queue: Queue;
  /** Background work of jobs run outside the processor (adopted, taken over); a graceful close waits for it. */
  adoptions: Set<Promise<void>>;
  /** Adds one piece of such work. */
  track(p: Promise<void>): void;
  onError(e: unknown): void;
}

/** Inputs of buildNode. */
export interface NodeInputs {
  config: RunnerConfig;
  runtime: RuntimeConfig;
  policy: NodePolicy;
  conn: NodeConnection;
  /** The node's log: errors, warnings, lifecycle events (node-log.ts). */
  log: NodeLog;
}

/** Builds the parts of a node (nothing listens or takes jobs yet). */
export async function buildNode(i: NodeInputs): Promise<NodeParts> {
  const { config, runtime, policy, conn, log } = i;
  const onError = log.error;
  const defaultRootfs = await ensureBusyboxRootfs(path.join(runtimePaths(runtime).rootfsDir, 'busybox'));
  const pool = new TaskPool({ runtime, threads: config.threads, tasksPerThread: Math.ceil(config.concurrency / config.threads) + 4, onError });
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
    connection: conn.options,
    pool,
    policy,
    images,
    userns: runtime.userns,
    rootfs: { defaultRootfs, stateDir: runtime.stateDir, ...(config.checkpointDir ? { checkpointDir: config.checkpointDir } : {}) },
    onError,
    warn: log.warn,
    events: log.events,
    outage: log.outage,
    binaries: { criu: runtime.criu, runc: runtime.runc },
    handOff: (nodeId, jobId, token, why) => handOff(commands!, ref, nodeId, jobId, token, why),
  });
  commands = consumer.commands;
  const control = new ControlServer({
    connection: conn.options,
    queue: ref,
    nodeId: config.nodeId,
    jobs: (jobId) => consumer.activeJob(jobId),
    checkpointDir: config.checkpointDir ?? path.join(runtime.stateDir, 'checkpoints'),
    runc: runtime.runc,
    criu: runtime.criu,
    onError,
  });
  // Jobs this node posts outside its Worker (adopted after a restart, handed over) are moved by this
  // Queue's scripts, which read the same retention from its options (BullMQ types them on Worker only).
  const queue = new Queue(config.queue, { connection: conn.options, prefix: config.prefix, ...keepJobsOptions(config) } as QueueOptions);
  queue.on('error', onError);
  const adoptions = new Set<Promise<void>>();
  // An adoption that fails goes to the node's error log: a rejection left unhandled would end the node.
  const track = (p: Promise<void>) => {
    const tracked = p.catch(onError);
    adoptions.add(tracked);
    void tracked.finally(() => adoptions.delete(tracked));
  };
  control.register('migrate', migrateVerb(consumer));
  control.register('take', takeVerb(consumer, queue, consumer.commands, ref, config.lockDurationMs, track));
  return { config, runtime, conn, pool, images, consumer, control, queue, adoptions, track, onError };
}
