/** Types shared by the sandbox (OCI spec, rootfs) and its users. */

/** Resource limits of a task. */
export interface Limits {
  /** Memory limit in bytes (memory + swap are limited to the same value: no swap). */
  memoryBytes?: number;
  /** CPU limit as a number of CPUs (0.5 = half a CPU), enforced with CFS quota. */
  cpus?: number;
  /** Maximum number of processes/threads. */
  pids?: number;
  /** Max open files (RLIMIT_NOFILE). */
  openFiles?: number;
}

/** Network of a task: 'none' = its own empty network namespace (loopback only); 'host' = the host's. */
export type NetworkMode = 'none' | 'host';

/** An OCI runtime spec (config.json) as a plain object; built by sandbox/spec.ts. */
export type OciSpec = Record<string, unknown> & {
  ociVersion: string;
  process: Record<string, unknown> & { terminal?: boolean; args: string[] };
  root: { path: string; readonly?: boolean };
  linux?: Record<string, unknown>;
  annotations?: Record<string, string>;
};

/** Everything needed to generate a task's OCI spec. */
export interface SpecOptions {
  hostname: string;
  args: string[];
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  terminal?: boolean;
  consoleSize?: { width: number; height: number };
  limits?: Limits;
  network?: NetworkMode;
  /** Explicit cgroup path for the task, e.g. '/stasis/default/job-1'. */
  cgroupsPath: string;
  annotations?: Record<string, string>;
  /** Root path relative to the bundle (default 'rootfs'). */
  rootPath?: string;
}

/** The directories of a task's overlay rootfs. */
export interface OverlayPaths {
  /** Shared read-only rootfs. */
  lower: string;
  /** The task's writable layer. */
  upper: string;
  /** overlayfs work dir (same filesystem as upper). */
  work: string;
  /** Mount point: BUNDLE/rootfs. */
  target: string;
}
