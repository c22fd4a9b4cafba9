/** Types shared by the sandbox (OCI spec, rootfs) and its users. */
import type { CompiledSeccomp } from './seccomp/loader.js';

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
  /** Size of the writable layer (a tmpfs under the overlay) and RLIMIT_FSIZE of the job's processes. */
  diskBytes?: number;
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


/** Everything needed to generate a task's OCI spec. The job's argv/env/cwd go into its launch script (launcher.ts). */
export interface SpecOptions {
  hostname: string;
  /** The job's user: the launcher and the job run as it. */
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
  /** Host sources of the launcher's read-only mounts (init or the native start, busybox, the task's job dir). */
  launcher: { init: string; busybox: string; jobDir: string; starter?: string };
  /** User namespace: container ids 0..size-1 are host ids hostId..; null or absent = none. */
  userns?: { hostId: number; size: number } | null;
  /** linux.seccomp (an OCI seccomp object); absent = unconfined. */
  seccomp?: Record<string, unknown>;
  /** `seccomp` compiled on this node: the loader loads it instead of runc (src/sandbox/seccomp/loader.ts). */
  seccompLoader?: CompiledSeccomp;
  /** Masked directories bind-mounted read-only from an empty node-owned directory (src/sandbox/masks.ts); absent = runc's tmpfs masks. */
  masks?: MaskSettings;
}

/** Masked directories given as read-only binds of one empty directory instead of runc's tmpfs. */
export interface MaskSettings {
  /** Host path of the node's empty directory. */
  emptyDir: string;
  /** Which masked paths it covers (a subset of BIND_MASKED_PATHS that exists on the host). */
  paths: readonly string[];
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
