import { z } from 'zod';

/** Host paths and binaries of the task runtime. */
export const RuntimeConfigSchema = z.object({
  /** Root of everything stasis keeps on disk: tasks, runc state, embedded Redis, logs. */
  stateDir: z.string().min(1).default('/var/lib/stasis'),
  /** The runc binary. */
  runc: z.string().min(1).default('/usr/sbin/runc'),
  /** The conmon binary (per-task monitor). */
  conmon: z.string().min(1).default('/usr/bin/conmon'),
  /** A CRIU 4.x that passes `criu check` (scripts/setup.sh installs /usr/local/bin/stasis-criu). */
  criu: z.string().min(1).default('/usr/local/bin/stasis-criu'),
});
/** Host paths and binaries of the task runtime. */
export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;

/** Directories derived from a RuntimeConfig; one place so every module agrees on the layout. */
export interface RuntimePaths {
  stateDir: string;
  /** runc --root */
  runcRoot: string;
  /** One folder per task: tasks/<namespace>/<id>/ */
  tasksDir: string;
  /** Default rootfs images built by stasis (e.g. the busybox rootfs). */
  rootfsDir: string;
}
