/** What a run asks the runtime to create: CreateTaskOptions from its spec, and conmon's own timeout. */
import type { CreateTaskOptions } from '../../runtime/task.js';
import type { LifecycleOptions, RunSpec } from '../protocol.js';
import { timeoutAt } from './deadlines.js';

/**
 * conmon's -T, the backstop of the wall-clock deadline outside Node (a prepared sandbox has none):
 * the time left, the grace and 2 s; undefined without a timeout.
 */
export function monitorTimeoutSeconds(options: LifecycleOptions, now = Date.now()): number | undefined {
  const deadline = timeoutAt(options.deadlines, new Date(now).toISOString());
  if (deadline === undefined) return undefined;
  return Math.max(1, Math.ceil((Date.parse(deadline) - now) / 1000 + options.killGraceMs / 1000 + 2));
}

/** The CreateTaskOptions of a run's spec. */
export function createOptions(spec: RunSpec, options: LifecycleOptions, timeoutSeconds: number | undefined): CreateTaskOptions {
  const cpuSeconds = options.deadlines?.cpuTimeSeconds;
  return {
    id: spec.taskId,
    namespace: spec.namespace,
    rootfs: spec.rootfs,
    process: {
      args: spec.args,
      ...(spec.env ? { env: spec.env } : {}),
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      ...(spec.user ? { user: spec.user } : {}),
      ...(spec.terminal ? { terminal: true } : {}),
    },
    limits: { memoryBytes: spec.memoryBytes, cpus: spec.cpus, pids: spec.pids, diskBytes: spec.diskBytes },
    network: spec.network ?? 'none',
    annotations: spec.annotations,
    stdin: spec.stdin !== undefined,
    logMaxBytes: spec.logMaxBytes,
    ...(spec.rootfsMapped ? { rootfsMapped: true } : {}),
    ...(cpuSeconds !== undefined ? { cpuSeconds } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
  };
}
