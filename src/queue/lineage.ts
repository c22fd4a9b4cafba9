/**
 * A job's checkpoint lineage, kept by the runner in Redis beside the BullMQ job (never in the job's
 * data, which stays what the producer sent):
 *
 *   <prefix>:<queue>:stasis:lineage:<jobId> = Lineage JSON (TTL 7 days, refreshed on every write)
 *
 * Only the node holding the job's lock writes it. `resume` is the internal resume marker: the
 * checkpoint the next node that takes the job restores instead of starting the command afresh.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { DEFAULT_PREFIX, type QueueRef } from './cancel.js';
import { lostRunsKey } from './lost-runs.js';

/** How long a lineage record outlives its last write. */
export const LINEAGE_TTL_SECONDS = 7 * 24 * 3600;

const CheckpointShape = z.object({
  seq: z.number().int(),
  nodeId: z.string(),
  at: z.string(),
  path: z.string(),
  reason: z.string(),
  /** Store coordinates: namespace and the store's job key. */
  namespace: z.string(),
  storeJobId: z.string(),
  /** Dump and commit, ms (so the restoring node knows when the process froze). */
  durationMs: z.number().optional(),
  bytes: z.number().optional(),
});
/** One committed checkpoint of the job. */
export type LineageCheckpoint = z.infer<typeof CheckpointShape>;

const LineageShape = z.object({
  /** Incremented by every node that starts or restores the job; tasks carry the hop they belong to. */
  hop: z.number().int().nonnegative(),
  /** The BullMQ attempt the lineage belongs to (a retry after a failure starts over). */
  attempt: z.number().int().nonnegative(),
  nodes: z.array(z.string()),
  checkpoints: z.array(CheckpointShape),
  /** The checkpoint to restore from when the job is taken next (the resume marker). */
  resume: CheckpointShape.optional(),
  /** Only this node may take the job (migrate --to). */
  target: z.string().optional(),
  /**
   * The node that runs the job's current hop and has not given it back. Another node that takes the
   * job (its lock lapsed in a Redis outage) hands it to the holder first, if the holder answers.
   */
  holder: z.object({ node: z.string(), hop: z.number().int().nonnegative() }).optional(),
  /** When the job first started in this attempt: its wall-clock deadline counts from here on every node. */
  firstStartedAt: z.string().optional(),
  /** Times the job was handed back without running (wrong node, incompatible host). */
  handBacks: z.number().int().nonnegative(),
  /** Why nodes refused to restore it. */
  refusals: z.array(z.object({ nodeId: z.string(), reason: z.string() })),
});
/** A job's checkpoint lineage. */
export type Lineage = z.infer<typeof LineageShape>;

/** The lineage of a job that has not run yet. */
export function emptyLineage(attempt = 0): Lineage {
  return { hop: 0, attempt, nodes: [], checkpoints: [], handBacks: 0, refusals: [] };
}

/** The Redis key of a job's lineage. */
export function lineageKey(q: QueueRef, jobId: string): string {
  return `${q.prefix ?? DEFAULT_PREFIX}:${q.queue}:stasis:lineage:${jobId}`;
}

/** Parses a stored lineage; null when absent or unreadable. */
export function parseLineage(raw: string | null): Lineage | null {
  if (raw === null) return null;
  try {
    const r = LineageShape.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** Reads a job's lineage (an empty one when there is none). */
export async function readLineage(redis: Redis, q: QueueRef, jobId: string): Promise<Lineage> {
  return parseLineage(await redis.get(lineageKey(q, jobId))) ?? emptyLineage();
}

/** Writes a job's lineage (the caller holds the job's lock). */
export async function writeLineage(redis: Redis, q: QueueRef, jobId: string, l: Lineage): Promise<void> {
  await redis.set(lineageKey(q, jobId), JSON.stringify(l), 'EX', LINEAGE_TTL_SECONDS);
}

/** Removes a job's lineage. */
export async function clearLineage(redis: Redis, q: QueueRef, jobId: string): Promise<void> {
  await redis.del(lineageKey(q, jobId), lostRunsKey(q, jobId));
}
