/**
 * Crash recovery of a runner node: its tasks outlive it (each runs under its own monitor), so a
 * node restarted with the same node id and state dir scans them before taking new jobs:
 * - job active and its lock holds our saved token, or lapsed (nobody else took it) → take the lock
 *   back, re-attach, post once (JobConsumer.adopt);
 * - job back in the queue → keep the task; when this node takes the job again it attaches instead of
 *   starting a new container (JobConsumer.orphans);
 * - job gone, finished, or locked by another node → kill and delete the task.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunnerConfig } from '../config/runner.js';
import type { TaskPool } from '../pool/pool.js';
import { JOB_ANNOTATIONS, type ScannedTask } from '../pool/protocol.js';
import type { JobConsumer } from '../queue/consumer.js';
import type { OrphanTask } from '../queue/orphans.js';
import { limitsFromAnnotations } from '../queue/run-spec.js';
import { DEFAULT_OUTPUT_BYTES } from '../queue/job-schema.js';
import { lockHolder, reacquireLock } from '../queue/bullmq-keys.js';
import { readLineage } from '../queue/lineage.js';

/** What recovery did with each task it found. */
export interface NodeRecoveryReport {
  adopted: string[];
  orphaned: string[];
  discarded: string[];
  ignored: string[];
}

/** Inputs of recoverNode. */
export interface RecoveryContext {
  config: RunnerConfig;
  pool: TaskPool;
  consumer: JobConsumer;
  queue: Queue;
  redis: Redis;
  /** Adopted jobs post their results in the background; errors land here. */
  onError?: (e: unknown) => void;
  /** Receives each adopted job's background work, so a graceful close can wait for it. */
  track?: (p: Promise<void>) => void;
}

/** A found task as an orphan to attach to: its job, hop, start and its own limits from its annotations. */
export function orphanOf(t: ScannedTask, config: Pick<RunnerConfig, 'killGraceMs'>): OrphanTask {
  const a = t.annotations;
  const jobId = a[JOB_ANNOTATIONS.jobId] ?? '';
  const hop = a[JOB_ANNOTATIONS.hop];
  const l = limitsFromAnnotations(a);
  return {
    ...(hop !== undefined && /^\d+$/.test(hop) ? { hop: Number(hop) } : {}),
    jobId,
    taskId: t.taskId,
    namespace: t.namespace,
    startedAt: a[JOB_ANNOTATIONS.startedAt] ?? t.createdAt,
    limits: { killGraceMs: l.killGraceMs ?? config.killGraceMs, outputBytes: l.outputBytes ?? DEFAULT_OUTPUT_BYTES, deadlines: l.deadlines },
  };
}

/** Scans this node's tasks and adopts, keeps or discards each (see the module comment). */
export async function recoverNode(ctx: RecoveryContext): Promise<NodeRecoveryReport> {
  const { config, pool, consumer, queue, redis } = ctx;
  const report: NodeRecoveryReport = { adopted: [], orphaned: [], discarded: [], ignored: [] };
  const scan = await pool.scan();
  for (const t of scan.tasks) {
    const a = t.annotations;
    const jobId = a[JOB_ANNOTATIONS.jobId];
    const mine =
      jobId !== undefined &&
      a[JOB_ANNOTATIONS.queue] === config.queue &&
      a[JOB_ANNOTATIONS.prefix] === config.prefix &&
      a[JOB_ANNOTATIONS.nodeId] === config.nodeId;
    if (!mine) {
      report.ignored.push(t.taskId);
      continue;
    }
    const discard = async () => {
      await pool.discard(t.taskId, t.namespace).catch(ctx.onError);
      report.discarded.push(t.taskId);
    };
    const job = await queue.getJob(jobId);
    if (!job) {
      await discard();
      continue;
    }
    const state = await job.getState();
    const token = a[JOB_ANNOTATIONS.token] ?? '';
    // The job moved on (restored elsewhere from a checkpoint, maybe handed back again): this copy is stale.
    const hop = orphanOf(t, config).hop;
    if (hop !== undefined && (await readLineage(redis, { queue: config.queue, prefix: config.prefix }, jobId)).hop !== hop) {
      await discard();
      continue;
    }
    if (state === 'active') {
      // Our saved token still holds the lock, or the lock lapsed (a restart, a Redis outage) and the job
      // is still active: take it back and post from here. Another node's token: that copy is stale.
      const lock = await reacquireLock(redis, { queue: config.queue, prefix: config.prefix }, jobId, token, config.lockDurationMs);
      if (lock === 'ours') {
        ctx.track?.(consumer.adopt(job, token, { orphan: orphanOf(t, config) }).catch((e) => ctx.onError?.(e)));
        report.adopted.push(t.taskId);
      } else {
        await discard();
      }
    } else if (state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children') {
      consumer.orphans.set(t.taskId, orphanOf(t, config));
      report.orphaned.push(t.taskId);
    } else {
      await discard();
    }
  }
  return report;
}

/** Drops kept orphans whose job finished, vanished or runs elsewhere now (kills their tasks). */
export async function sweepOrphans(ctx: RecoveryContext): Promise<string[]> {
  const { consumer, queue, pool } = ctx;
  const dropped: string[] = [];
  for (const [taskId, o] of consumer.orphans) {
    const jobId = o.jobId;
    let state: string;
    try {
      const job = await queue.getJob(jobId);
      state = job ? await job.getState() : 'unknown';
    } catch (e) {
      // Not knowing is not "gone": keep the task and ask again next sweep.
      ctx.onError?.(e);
      continue;
    }
    const waiting = state === 'waiting' || state === 'delayed' || state === 'prioritized' || state === 'waiting-children';
    const activeHere = state === 'active' && consumer.activeJobs().includes(jobId);
    if (waiting || activeHere) continue;
    if (state === 'active') {
      const lock = await lockHolder(ctx.redis, { queue: ctx.config.queue, prefix: ctx.config.prefix }, jobId);
      if (lock === null) continue; // stalled, not re-queued yet
      // Taken by this node this moment: BullMQ activated it under this worker's token and its
      // processor (which takes the orphan, before any await) has not run yet. Dropping it now would
      // kill the container the take is about to attach to, and run the job again.
      if (consumer.ownsLockToken(lock)) continue;
    }
    if (!consumer.orphans.has(taskId)) continue; // taken by this node meanwhile
    consumer.orphans.delete(taskId);
    await pool.discard(taskId, o.namespace).catch(ctx.onError);
    dropped.push(taskId);
  }
  return dropped;
}
