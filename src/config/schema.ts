import { z } from 'zod';

/** A user-namespace mapping: container ids 0..size-1 are host ids hostId..hostId+size-1. */
export const IdMappingSchema = z
  .object({
    hostId: z.number().int().min(1).max(2 ** 32 - 2),
    size: z.number().int().min(1).max(2 ** 31),
  })
  .strict()
  .refine((m) => m.hostId + m.size <= 2 ** 32 - 1, { message: 'Expected hostId + size to fit in 32 bits' });
/** A user-namespace mapping. */
export type IdMapping = z.output<typeof IdMappingSchema>;

/** Host ids the default mapping starts at: far above the ranges /etc/subuid hands out (100000 + 65536·n). */
export const DEFAULT_USERNS: IdMapping = { hostId: 1_073_741_824, size: 65_536 };

/** Host paths and binaries of the task runtime, and the sandbox settings every task of a node shares. */
export const RuntimeConfigSchema = z.object({
  /** Root of everything stasis keeps on disk: tasks, runc state, embedded Redis, logs. */
  stateDir: z.string().min(1).default('/var/lib/stasis'),
  /** The runc binary. */
  runc: z.string().min(1).default('/usr/sbin/runc'),
  /** The conmon binary (per-task monitor). */
  conmon: z.string().min(1).default('/usr/bin/conmon'),
  /** A CRIU 4.x that passes `criu check` (scripts/setup.sh installs /usr/local/bin/stasis-criu). */
  criu: z.string().min(1).default('/usr/local/bin/stasis-criu'),
  /** A static init run as every task's pid 1 (tini-static from Debian's `tini`), bind-mounted read-only. */
  init: z.string().min(1).default('/usr/bin/tini-static'),
  /** A static busybox (Debian's `busybox-static`) that reads the job's launch script, bind-mounted read-only. */
  busybox: z.string().min(1).default('/bin/busybox'),
  /** User namespace of every task (null: none, container root is host root). */
  userns: IdMappingSchema.nullable().default(DEFAULT_USERNS),
  /** Seccomp of every task and exec: 'default' (stasis' profile), 'unconfined', or an OCI profile file. */
  seccomp: z.string().min(1).default('default'),
  /** Prepared sandboxes kept per (rootfs, user, network, limits) by a runner's threads (0: none). */
  warmPool: z.number().int().min(0).max(16).default(0),
  /** Whether a runner mounts a tmpfs on STATE_DIR/run (runtime/run-dir.ts); false keeps it on the state dir's disk. */
  runTmpfs: z.boolean().default(true),
});
/** Host paths and binaries of the task runtime. */
export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;

/** Directories derived from a RuntimeConfig; one place so every module agrees on the layout. */
export interface RuntimePaths {
  stateDir: string;
  /** What lives only while the node's tasks do (a tmpfs a runner mounts; runtime/run-dir.ts): runc's root, task dirs, prepared sandboxes, locks. */
  runDir: string;
  /** runc --root */
  runcRoot: string;
  /** One folder per task: tasks/<namespace>/<id>/ */
  tasksDir: string;
  /** Default rootfs images built by stasis (e.g. the busybox rootfs) and their id-shifted copies. */
  rootfsDir: string;
}
