/** The checkpoint store contract: numbered, verified checkpoints per job. */
import type { Manifest } from './manifest.js';

/** Which namespace a call is about (default 'default'). */
export interface NamespaceOption {
  namespace?: string;
}

/** A stored checkpoint: its place in the store and its manifest. */
export interface StoredCheckpoint {
  namespace: string;
  jobId: string;
  seq: number;
  /** The checkpoint directory (CHECKPOINT_LAYOUT plus manifest.json); pass it to TaskManager.restore. */
  path: string;
  manifest: Manifest;
}

/** A reference to a stored checkpoint. */
export type CheckpointRef = Pick<StoredCheckpoint, 'jobId' | 'seq'> & NamespaceOption;

/** A checkpoint being written: Task.checkpoint writes into `path`, then commit() or abort(). */
export interface PendingCheckpoint {
  namespace: string;
  jobId: string;
  /** An empty temporary directory in the store, invisible to readers until committed. */
  path: string;
}

/** What commit() records beyond what it reads from the directory itself. */
export interface CommitOptions {
  /** Defaults to checkpoint.json's taskId. */
  taskId?: string;
  /** The lower rootfs; defaults to checkpoint.json's rootfs. `digest` (e.g. an image digest) skips the listing. */
  rootfs?: { path: string; digest?: string };
  /** Free-form labels, e.g. { reason: 'migrate' }. */
  labels?: Record<string, string>;
  createdAt?: string;
  /** Digests taken while the files were written (LivePageDigests): not hashed again when the size matches. */
  digests?: ReadonlyMap<string, { size: number; sha256: string }>;
}

/** Which files verify() checks. */
export interface VerifyOptions {
  /** Only the entries whose checkpoint-relative path passes (default: all; a whole verification is every part). */
  only?: (rel: string) => boolean;
  /** The checkpoint as get() just returned it for this ref: its manifest is not read again. */
  checkpoint?: StoredCheckpoint;
}

/** A store of checkpoints, laid out per namespace and job, safe for several nodes at once. */
export interface CheckpointStore {
  /** An empty temporary directory to write a new checkpoint of `jobId` into. */
  allocate(jobId: string, o?: NamespaceOption): Promise<PendingCheckpoint>;
  /** Digests the pending directory, writes manifest.json and publishes it under the next sequence number. */
  commit(p: PendingCheckpoint, o?: CommitOptions): Promise<StoredCheckpoint>;
  /** Discards a pending checkpoint. */
  abort(p: PendingCheckpoint): Promise<void>;
  /** The committed checkpoints of a job, oldest first. */
  list(jobId: string, o?: NamespaceOption): Promise<StoredCheckpoint[]>;
  /** The newest committed checkpoint of a job, if any. */
  latest(jobId: string, o?: NamespaceOption): Promise<StoredCheckpoint | undefined>;
  /** One checkpoint; ERR_NOT_FOUND when absent. */
  get(jobId: string, seq: number, o?: NamespaceOption): Promise<StoredCheckpoint>;
  /** Re-digests every file against the manifest; ERR_CHECKPOINT naming tampered, missing or extra files. */
  verify(ref: CheckpointRef, o?: VerifyOptions): Promise<StoredCheckpoint>;
  /** Keeps the newest `keep` checkpoints of a job and removes the rest; returns the removed sequence numbers. */
  prune(jobId: string, keep: number, o?: NamespaceOption): Promise<number[]>;
  /** Removes every checkpoint of a job. */
  remove(jobId: string, o?: NamespaceOption): Promise<void>;
}
