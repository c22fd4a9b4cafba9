/** Options of Task.checkpoint (seed `Checkpoint(path, opts)`): one zod schema, the type derived from it. */
import { z } from 'zod';

/** The options of a checkpoint, mapped to runc checkpoint flags (plus the rootfs diff). */
export const CheckpointOptionsSchema = z
  .object({
    /** Keep the task running after the dump (`--leave-running`); it is frozen during the dump. */
    leaveRunning: z.boolean().optional(),
    /** Checkpoint established TCP connections (`--tcp-established`). */
    tcpEstablished: z.boolean().optional(),
    /** Checkpoint file locks (`--file-locks`). */
    fileLocks: z.boolean().optional(),
    /** Allow external unix sockets (`--ext-unix-sk`). */
    externalUnixSockets: z.boolean().optional(),
    /** Allow shell jobs (`--shell-job`). */
    shellJob: z.boolean().optional(),
    /** Pre-dump only (memory, task keeps running). Needs soft-dirty tracking; fails clearly where missing. */
    preDump: z.boolean().optional(),
    /** Parent image for an incremental dump (`--parent-path`). */
    parentPath: z.string().min(1).optional(),
    /** Write the overlay's upper layer as rootfs-diff.tar next to the image (default true). */
    rootfsDiff: z.boolean().optional(),
  })
  .strict();

/** Options of `checkpoint`. */
export type CheckpointOptions = z.infer<typeof CheckpointOptionsSchema>;
