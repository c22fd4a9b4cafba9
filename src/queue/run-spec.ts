/** From a validated job payload to the pool's RunSpec: task id, annotations, limits. Pure. */
import { createHash } from 'node:crypto';
import type { JobPayload } from './job-schema.js';
import { DEFAULT_OUTPUT_BYTES } from './job-schema.js';
import { JOB_ANNOTATIONS, type RunSpec } from '../pool/protocol.js';

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

/** Builds the RunSpec of a job attempt. */
export function runSpecFor(payload: JobPayload, owner: JobOwner, defaultRootfs: string): RunSpec {
  const limits = payload.limits ?? {};
  const annotations: Record<string, string> = {
    ...(payload.annotations ?? {}),
    [JOB_ANNOTATIONS.jobId]: owner.jobId,
    [JOB_ANNOTATIONS.queue]: owner.queue,
    [JOB_ANNOTATIONS.prefix]: owner.prefix,
    [JOB_ANNOTATIONS.nodeId]: owner.nodeId,
    [JOB_ANNOTATIONS.attempt]: String(owner.attempt),
    [JOB_ANNOTATIONS.token]: owner.token,
    [JOB_ANNOTATIONS.startedAt]: new Date().toISOString(),
    [JOB_ANNOTATIONS.outputBytes]: String(limits.outputBytes ?? DEFAULT_OUTPUT_BYTES),
  };
  if (limits.timeout !== undefined) annotations[JOB_ANNOTATIONS.timeout] = String(limits.timeout);
  return {
    taskId: taskIdFor(owner.jobId, owner.attempt),
    namespace: payload.namespace ?? DEFAULT_JOB_NAMESPACE,
    rootfs: payload.rootfs ?? defaultRootfs,
    args: payload.command,
    ...(payload.env ? { env: Object.entries(payload.env).map(([k, v]) => `${k}=${v}`) } : {}),
    ...(payload.cwd ? { cwd: payload.cwd } : {}),
    ...(payload.user ? { user: payload.user } : {}),
    ...(payload.tty ? { terminal: true } : {}),
    ...(payload.stdin !== undefined ? { stdin: payload.stdin } : {}),
    ...(limits.memory !== undefined ? { memoryBytes: limits.memory } : {}),
    ...(limits.cpus !== undefined ? { cpus: limits.cpus } : {}),
    ...(limits.pids !== undefined ? { pids: limits.pids } : {}),
    network: payload.network ?? 'none',
    annotations,
    ...(limits.timeout !== undefined ? { timeoutSeconds: limits.timeout } : {}),
  };
}
