/** From a validated job payload and the node policy's decision to the pool's RunSpec and lifecycle limits. Pure. */
import { createHash } from 'node:crypto';
import type { JobPayload } from './job-schema.js';
import type { PolicyDecision } from '../policy/apply.js';
import { JOB_ANNOTATIONS, type Deadlines, type RunSpec } from '../pool/protocol.js';

/** The namespace of jobs that name none. */
export const DEFAULT_JOB_NAMESPACE = 'default';

/** Task id of one attempt of a job: `<sanitized job id>-<attempt>`, at most 64 characters. */
export function taskIdFor(jobId: string, attempt: number): string {
  const suffix = `-${attempt}`;
  let base = jobId.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (!/^[A-Za-z0-9]/.test(base)) base = `j${base}`;
  const max = 64 - suffix.length;
  if (base.length > max || base !== jobId) {
    // Different job ids may sanitize alike; a short hash keeps task ids one-to-one.
    const hash = createHash('sha1').update(jobId).digest('hex').slice(0, 8);
    base = `${base.slice(0, max - 9)}_${hash}`;
  }
  return `${base}${suffix}`;
}

/** Who is running the job, written into the task's annotations so a restarted node finds it. */
export interface JobOwner {
  jobId: string;
  queue: string;
  prefix: string;
  nodeId: string;
  attempt: number;
  token: string;
}

/**
 * The cap of a task's log file on disk: room for the output caps with k8s-file's per-line overhead
 * (a 2-byte line is a ~45-byte record), a power of two (prepared sandboxes are keyed by it), at most
 * the node's maximum.
 */
export function logCapFor(outputBytes: number, nodeMax: number): number {
  const want = Math.max(4 * 1024 * 1024, outputBytes * 16);
  return Math.min(nodeMax, 2 ** Math.ceil(Math.log2(want)));
}

/** The process a job runs: its payload's, or its image's config under docker's rules (job-image.ts). */
export interface JobProcess {
  args: string[];
  /** `KEY=VALUE` entries. */
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number };
}

/** The process of a payload without an image. */
export function payloadProcess(p: JobPayload): JobProcess {
  return {
    args: p.command ?? [],
    ...(p.env ? { env: Object.entries(p.env).map(([k, v]) => `${k}=${v}`) } : {}),
    ...(p.cwd ? { cwd: p.cwd } : {}),
    ...(p.user ? { user: p.user } : {}),
  };
}

/** A job attempt as the pool runs it: the task's spec and the deadlines its lifecycle keeps. */
export interface JobRun {
  spec: RunSpec;
  deadlines: Deadlines;
  killGraceMs: number;
  outputBytes: number;
}

/**
 * Builds the RunSpec of a job attempt. `firstStartedAt` is when the job first started (its lineage,
 * unset on its first run): the wall-clock deadline counts from it across restores and restarts.
 */
export function runSpecFor(
  payload: JobPayload,
  owner: JobOwner,
  d: PolicyDecision,
  o: { firstStartedAt?: string; maxLogBytes: number; process?: JobProcess },
): JobRun {
  const proc = o.process ?? payloadProcess(payload);
  const l = d.limits;
  const annotations: Record<string, string> = {
    ...(payload.annotations ?? {}),
    [JOB_ANNOTATIONS.jobId]: owner.jobId,
    [JOB_ANNOTATIONS.queue]: owner.queue,
    [JOB_ANNOTATIONS.prefix]: owner.prefix,
    [JOB_ANNOTATIONS.nodeId]: owner.nodeId,
    [JOB_ANNOTATIONS.attempt]: String(owner.attempt),
    [JOB_ANNOTATIONS.token]: owner.token,
    [JOB_ANNOTATIONS.startedAt]: new Date().toISOString(),
    [JOB_ANNOTATIONS.timeout]: String(l.timeoutSeconds),
    ...(o.firstStartedAt ? { [JOB_ANNOTATIONS.firstStartedAt]: o.firstStartedAt } : {}),
    [JOB_ANNOTATIONS.killGraceMs]: String(l.killGraceMs),
    [JOB_ANNOTATIONS.outputBytes]: String(l.outputBytes),
    ...(l.cpuTimeSeconds !== undefined ? { [JOB_ANNOTATIONS.cpuTime]: String(l.cpuTimeSeconds) } : {}),
    ...(d.image ? { [JOB_ANNOTATIONS.imageRef]: d.image.ref, [JOB_ANNOTATIONS.imageDigest]: d.image.digest } : {}),
  };
  const spec: RunSpec = {
    taskId: taskIdFor(owner.jobId, owner.attempt),
    namespace: payload.namespace ?? DEFAULT_JOB_NAMESPACE,
    rootfs: d.rootfs,
    ...(d.image ? { image: d.image, rootfsMapped: true } : {}),
    args: proc.args,
    ...(proc.env ? { env: proc.env } : {}),
    ...(proc.cwd ? { cwd: proc.cwd } : {}),
    ...(proc.user ? { user: proc.user } : {}),
    ...(payload.tty ? { terminal: true } : {}),
    ...(payload.stdin !== undefined ? { stdin: payload.stdin } : {}),
    memoryBytes: l.memoryBytes,
    cpus: l.cpus,
    pids: l.pids,
    diskBytes: l.diskBytes,
    logMaxBytes: logCapFor(l.outputBytes, o.maxLogBytes),
    network: d.network,
    annotations,
  };
  return {
    spec,
    deadlines: {
      timeoutSeconds: l.timeoutSeconds,
      ...(o.firstStartedAt ? { firstStartedAt: o.firstStartedAt } : {}),
      ...(l.cpuTimeSeconds !== undefined ? { cpuTimeSeconds: l.cpuTimeSeconds } : {}),
    },
    killGraceMs: l.killGraceMs,
    outputBytes: l.outputBytes,
  };
}

/** The deadlines and output cap of a task from its annotations (a restarted node re-attaching). */
export function limitsFromAnnotations(a: Record<string, string>): { deadlines: Deadlines; killGraceMs?: number; outputBytes?: number } {
  const num = (k: string) => (a[k] !== undefined && Number.isFinite(Number(a[k])) ? Number(a[k]) : undefined);
  const timeout = num(JOB_ANNOTATIONS.timeout);
  // A re-attached task: the deadline counts from its first start (this hop's start on a first run).
  const first = a[JOB_ANNOTATIONS.firstStartedAt] ?? a[JOB_ANNOTATIONS.startedAt];
  const cpu = num(JOB_ANNOTATIONS.cpuTime);
  const grace = num(JOB_ANNOTATIONS.killGraceMs);
  const out = num(JOB_ANNOTATIONS.outputBytes);
  return {
    deadlines: {
      ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
      ...(first && !Number.isNaN(Date.parse(first)) ? { firstStartedAt: first } : {}),
      ...(cpu !== undefined ? { cpuTimeSeconds: cpu } : {}),
    },
    ...(grace !== undefined ? { killGraceMs: grace } : {}),
    ...(out !== undefined ? { outputBytes: out } : {}),
  };
}
