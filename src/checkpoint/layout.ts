/** The files of one checkpoint directory: what Task.checkpoint writes and TaskManager.restore reads. */

/** Names of the files and dirs in a checkpoint directory. */
export const CHECKPOINT_LAYOUT = {
  /** CRIU images (runc --image-path). */
  images: 'criu',
  /** CRIU work dir (dump.log, restore copies its own into the bundle). */
  work: 'work',
  /** The task's OCI spec at checkpoint time. */
  spec: 'config.json',
  /** The per-task overlay's upper layer (with whiteouts and xattrs). */
  rootfsDiff: 'rootfs-diff.tar',
  /** Metadata: CheckpointMeta as JSON. */
  meta: 'checkpoint.json',
} as const;
