/**
 * The node's side of checkpoint lineage (docs/migration.md): before a job runs, decide whether this
 * node takes it (target node, host compatibility) and what it restores from (the lineage's resume
 * marker, or a template `restoreFrom`); while it runs, record its checkpoints; when it is preempted
 * (migrate, drain), hand the SAME BullMQ job back to the queue with its checkpoint, without counting
 * an attempt (job.moveToWait / moveToDelayed + WaitingError / DelayedError).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { checkCompat } from '../checkpoint/compat.js';
import { openFsCheckpointStore, type FsCheckpointStore } from '../checkpoint/fs-store.js';
import { readHostInfo } from '../checkpoint/host-info.js';
import type { HostInfo } from '../checkpoint/manifest.js';
import type { RunnerConfig } from '../config/runner.js';
import { hasCode } from '../errors.js';
import type { CheckpointSettings, RestoreSource, TaskCheckpoint } from '../pool/protocol.js';
import type { QueueRef } from './cancel.js';
import type { JobPayload } from './job-schema.js';
import { emptyLineage, readLineage, writeLineage, type Lineage } from './lineage.js';
import { DEFAULT_JOB_NAMESPACE } from './run-spec.js';

/** Delay before a handed-back job may be taken again, ms. */
export const HAND_BACK_DELAY_MS = 300;

/** The store key of a job: queue and job id, so queues sharing one store never collide. */
export function storeJobIdFor(queue: string, jobId: string): string {
  return `${queue}:${jobId}`.replace(/[^A-Za-z0-9_.:@+-]/g, '_').slice(0, 200);
}

/** The label a checkpoint records of its node's user-namespace mapping ('host' when off). */
export function usernsLabel(m: { hostId: number; size: number } | null): string {
  return m ? `${m.hostId}:${m.size}` : 'host';
}

/** What a node decided about a job it just took. */
export type Claim =
  | { kind: 'run'; lineage: Lineage; restore?: RestoreSource; restoreWhy?: 'resume' | 'template'; pinDigest?: string }
  /** Another node still holds the job's current hop (its lock lapsed while Redis was away): hand it over first. */
  | { kind: 'holder'; node: string; lineage: Lineage }
  | { kind: 'hand-back'; lineage: Lineage; why: string }
  | { kind: 'fail'; message: string };

/** Per-node checkpoint lineage logic; one per JobConsumer. */
export class CheckpointFlow {
  private host: Promise<HostInfo> | null = null;
  private store: Promise<FsCheckpointStore> | null = null;

  constructor(
    private readonly config: RunnerConfig,
    private readonly redis: Redis,
    private readonly ref: QueueRef,
    private readonly binaries: { criu: string; runc: string },
    /** This host's info (tests); default: read from the host once. */
    host?: HostInfo,
    /** This node's user-namespace mapping: a checkpoint taken under another one is handed back. */
    private readonly userns: { hostId: number; size: number } | null = null,
  ) {
    if (host) this.host = Promise.resolve(host);
  }

  /** True when this node has a checkpoint store. */
  get enabled(): boolean {
    return this.config.checkpointDir !== undefined;
  }

  private openStore(): Promise<FsCheckpointStore> {
    this.store ??= openFsCheckpointStore({ root: this.config.checkpointDir!, nodeId: this.config.nodeId, ...this.binaries });
    return this.store;
  }

  private hostInfo(): Promise<HostInfo> {
    this.host ??= readHostInfo(this.binaries);
    return this.host;
  }

  /** Checkpoint settings of a job's task, or undefined when it is never checkpointed. */
  settings(payload: JobPayload, jobId: string, attempt: number, hop: number): CheckpointSettings | undefined {
    if (!this.enabled || payload.checkpoint?.allow === false) return undefined;
    return {
      dir: this.config.checkpointDir!,
      keep: this.config.checkpointKeep,
      nodeId: this.config.nodeId,
      storeJobId: storeJobIdFor(this.config.queue, jobId),
      ...(payload.checkpoint?.everySeconds ? { everySeconds: payload.checkpoint.everySeconds } : {}),
      labels: { jobId, queue: this.config.queue, attempt: String(attempt), hop: String(hop), userns: usernsLabel(this.userns) },
    };
  }

  /** Where a template `restoreFrom` points in the store. */
  private async template(payload: JobPayload): Promise<RestoreSource> {
    const rf = payload.restoreFrom!;
    const store = await this.openStore();
    if ('path' in rf) {
      // The path as given, then its real path: both must name <store>/<namespace>/<job>/<seq>.
      const real = await fs.realpath(rf.path).catch(() => path.resolve(rf.path));
      const realRoot = await fs.realpath(store.root).catch(() => store.root);
      const rel = path.relative(realRoot, real).split(path.sep);
      const lexical = path.relative(store.root, path.resolve(rf.path)).split(path.sep);
      const bad = (r: string[]) => r.length !== 3 || r[0] === '..' || path.isAbsolute(r[0]!) || !/^\d+$/.test(r[2]!);
      if (bad(rel) || bad(lexical)) {
        throw new UnrecoverableError(`ERR_PERMISSION_DENIED: restoreFrom.path ${rf.path} is not a checkpoint directory of this node's store (${store.root}/<namespace>/<job>/<seq>)`);
      }
      const own = payload.namespace ?? DEFAULT_JOB_NAMESPACE;
      if (rel[0] !== own) {
        throw new UnrecoverableError(`ERR_PERMISSION_DENIED: restoreFrom.path ${rf.path} is a checkpoint of namespace ${rel[0]}; a job may only restore checkpoints of its own namespace (${own})`);
      }
      return { dir: store.root, namespace: rel[0]!, storeJobId: rel[1]!, seq: Number(rel[2]) };
    }
    const namespace = rf.namespace ?? payload.namespace ?? DEFAULT_JOB_NAMESPACE;
    const storeJobId = storeJobIdFor(this.config.queue, rf.jobId);
    const seq = rf.seq ?? (await store.latest(storeJobId, { namespace }))?.seq;
    if (seq === undefined) {
      throw new UnrecoverableError(`ERR_CHECKPOINT: restoreFrom: job ${rf.jobId} has no checkpoint in namespace ${namespace} of the store ${store.root}`);
    }
    return { dir: store.root, namespace, storeJobId, seq };
  }

  /**
   * Decides whether this node runs the job now and from what (see the module comment). `takeOver`:
   * the holder of the job's hop did not take it back, so this node runs it.
   */
  async claim(jobId: string, payload: JobPayload, attempt: number, o: { takeOver?: boolean } = {}): Promise<Claim> {
    let l = await readLineage(this.redis, this.ref, jobId);
    if (l.attempt !== attempt) l = { ...emptyLineage(attempt), nodes: l.nodes, checkpoints: l.checkpoints };
    const me = this.config.nodeId;
    if (l.holder && l.holder.node !== me && l.holder.hop === l.hop && !o.takeOver) return { kind: 'holder', node: l.holder.node, lineage: l };
    if (l.target && l.target !== me) return this.refusal(l, `reserved for node ${l.target}`);
    let restore: RestoreSource | undefined;
    let restoreWhy: 'resume' | 'template' | undefined;
    let pinDigest: string | undefined;
    if (l.resume) {
      restore = { dir: this.config.checkpointDir ?? '', namespace: l.resume.namespace, storeJobId: l.resume.storeJobId, seq: l.resume.seq };
      restoreWhy = 'resume';
    } else if (payload.restoreFrom && l.hop === 0) {
      if (!this.enabled) return this.refusal(l, 'this node has no checkpoint store (--checkpoint-dir)');
      restore = await this.template(payload);
      restoreWhy = 'template';
    }
    if (restore) {
      if (!this.enabled) return this.refusal(l, 'this node has no checkpoint store (--checkpoint-dir)');
      const store = await this.openStore();
      const ck = await store.get(restore.storeJobId, restore.seq, { namespace: restore.namespace }).catch((e: unknown) => {
        if (hasCode(e, 'ERR_NOT_FOUND') || hasCode(e, 'ERR_CHECKPOINT')) return null;
        throw e;
      });
      // A missing/unreadable checkpoint is left to the worker's verification (onCorrupt policy).
      if (ck) {
        const c = checkCompat(ck.manifest, await this.hostInfo());
        if (!c.ok) return this.refusal(l, `cannot restore checkpoint #${ck.seq}: ${c.reasons.join(' ')}`);
        const theirs = ck.manifest.labels.userns;
        if (theirs !== undefined && theirs !== usernsLabel(this.userns)) {
          return this.refusal(l, `cannot restore checkpoint #${ck.seq}: it was taken under user namespace mapping ${theirs}; this node uses ${usernsLabel(this.userns)}`);
        }
        if (ck.manifest.rootfs?.source === 'given') pinDigest = ck.manifest.rootfs.digest;
      }
    }
    l.hop += 1;
    l.nodes = [...l.nodes, me];
    // Hand-backs count per hop: a job taken again starts over (docs/migration.md).
    l.handBacks = 0;
    l.refusals = [];
    l.holder = { node: me, hop: l.hop };
    delete l.target;
    await writeLineage(this.redis, this.ref, jobId, l);
    return { kind: 'run', lineage: l, ...(restore ? { restore, restoreWhy: restoreWhy! } : {}), ...(pinDigest ? { pinDigest } : {}) };
  }

  private refusal(l: Lineage, why: string): Claim {
    const refusals = [...l.refusals.filter((r) => r.nodeId !== this.config.nodeId || r.reason !== why), { nodeId: this.config.nodeId, reason: why }];
    const next = { ...l, handBacks: l.handBacks + 1, refusals };
    if (next.handBacks > this.config.maxHandBacks) {
      return {
        kind: 'fail',
        message: `ERR_CHECKPOINT: no node could take job after ${l.handBacks} hand-backs: ${refusals.map((r) => `node ${r.nodeId}: ${r.reason}`).join('; ')}`,
      };
    }
    return { kind: 'hand-back', lineage: next, why };
  }

  /** Hands a job this node refused back to the queue (delayed a little; not an attempt). Throws DelayedError. */
  async handBack(job: Job, token: string, l: Lineage, why: string): Promise<never> {
    await writeLineage(this.redis, this.ref, job.id!, l);
    await job.log(`[stasis] node ${this.config.nodeId} handed the job back: ${why}`).catch(() => 0);
    await job.moveToDelayed(Date.now() + HAND_BACK_DELAY_MS, token);
    throw new DelayedError();
  }

  /** Records a committed checkpoint (a periodic one becomes the resume marker). */
  async recorded(jobId: string, l: Lineage, ck: TaskCheckpoint): Promise<void> {
    l.checkpoints = [...l.checkpoints, ck];
    if (ck.reason === 'periodic') l.resume = ck;
    await writeLineage(this.redis, this.ref, jobId, l);
  }

  /**
   * After the task ended by a final checkpoint: makes it the resume marker, reserved for `to` when
   * given, and gives the hop up (the caller then hands the job over or moves it back to wait).
   */
  async preempted(job: Job, l: Lineage, ck: TaskCheckpoint, to: string | null): Promise<void> {
    if (!l.checkpoints.some((c) => c.seq === ck.seq && c.storeJobId === ck.storeJobId)) l.checkpoints = [...l.checkpoints, ck];
    l.resume = ck;
    if (to) l.target = to;
    else delete l.target;
    delete l.holder;
    await writeLineage(this.redis, this.ref, job.id!, l);
    await job.log(`[stasis] checkpointed on node ${this.config.nodeId} (#${ck.seq}, ${ck.reason}); back to the queue${to ? ` for node ${to}` : ''}`).catch(() => 0);
  }

  /**
   * After this node stopped a job (a drain with policy 'requeue', or killed: `keepResume`; a final
   * checkpoint lost to a crash): back to the queue, not an attempt. Throws WaitingError.
   */
  async requeued(job: Job, token: string, l: Lineage, keepResume = false, why = `node ${this.config.nodeId} is draining`): Promise<never> {
    if (!keepResume) delete l.resume;
    delete l.holder;
    await writeLineage(this.redis, this.ref, job.id!, l);
    await job.log(`[stasis] ${why}; the job ${l.resume ? `resumes from checkpoint #${l.resume.seq}` : 'starts over'} elsewhere`).catch(() => 0);
    await job.moveToWait(token);
    throw new WaitingError();
  }

  /** A restore was refused as corrupt/incompatible and the policy says start over: drop the marker. */
  async restartFresh(job: Job, l: Lineage, why: string): Promise<void> {
    delete l.resume;
    await writeLineage(this.redis, this.ref, job.id!, l);
    await job.log(`[stasis] ${why}; starting the job over (checkpoint.onCorrupt = restart)`).catch(() => 0);
  }
}
