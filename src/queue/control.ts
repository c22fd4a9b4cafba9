/**
 * Control of running jobs across processes: the wire protocol over Redis.
 *
 * - request: a ControlRequest JSON published on the owning node's channel
 *   `<prefix>:<queue>:stasis:control:<nodeId>` (the node id comes from the job's progress);
 * - answers: the node RPUSHes ControlReply JSONs onto `replyTo`
 *   (`<prefix>:<queue>:stasis:control-reply:<requestId>`, expiring after REPLY_TTL_MS): first an `ack`
 *   as soon as it has the request, then one `result`. The caller BLPOPs that list, so an answer pushed
 *   before the caller listens is not lost (no subscribe race), a node that is not subscribed is seen at
 *   once (PUBLISH reaches nobody), and a node that does not ack in time is reported as ERR_UNAVAILABLE.
 *
 * Verbs and their arguments: src/pool/control-verbs.ts (carried out by the thread owning the task)
 * plus 'checkpoint' (the node picks the image directory); more verbs are registered on the node's
 * ControlServer (src/queue/control-server.ts). A plain Redis client can speak this protocol too.
 */
import { z } from 'zod';
import { ErrorCode, type ErrorData } from '../errors.js';
import { CheckpointFlagsSchema } from '../pool/control-verbs.js';
import { DEFAULT_PREFIX, type QueueRef } from './cancel.js';

/** Version of the wire format. */
export const CONTROL_PROTOCOL_VERSION = 1;
/** How long an unread reply list lives, ms. */
export const REPLY_TTL_MS = 60_000;

/** The channel a node listens on for control requests of its jobs. */
export function controlChannel(q: QueueRef, nodeId: string): string {
  return `${q.prefix ?? DEFAULT_PREFIX}:${q.queue}:stasis:control:${nodeId}`;
}

/** The list a node pushes its answers to one request onto. */
export function controlReplyKey(q: QueueRef, requestId: string): string {
  return `${q.prefix ?? DEFAULT_PREFIX}:${q.queue}:stasis:control-reply:${requestId}`;
}

/** A control request as published on a node's channel. */
export const ControlRequestSchema = z
  .object({
    v: z.literal(CONTROL_PROTOCOL_VERSION),
    requestId: z.string().min(1).max(200),
    jobId: z.string().min(1),
    /** 'pause', 'resume', 'kill', 'exec', 'ps', 'stats', 'update', 'resize', 'checkpoint', or a registered verb. */
    verb: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
    /** The verb's arguments, validated by the node against the verb's schema. */
    args: z.record(z.unknown()).default({}),
    /** The list to RPUSH answers onto (controlReplyKey). */
    replyTo: z.string().min(1),
    sentAt: z.string(),
    /** Epoch ms after which the caller no longer listens: the node drops the request unanswered. */
    deadline: z.number().int().positive(),
  })
  .strict();
/** A control request as published on a node's channel. */
export type ControlRequest = z.infer<typeof ControlRequestSchema>;

const ErrorDataSchema = z.object({
  name: z.string(),
  code: ErrorCode,
  message: z.string(),
  stack: z.string().optional(),
  details: z.record(z.unknown()).optional(),
});

/** One answer pushed onto a request's reply list. */
export const ControlReplySchema = z.union([
  z.object({ kind: z.literal('ack'), requestId: z.string(), nodeId: z.string() }),
  z.object({ kind: z.literal('result'), requestId: z.string(), nodeId: z.string(), ok: z.literal(true), value: z.unknown() }),
  z.object({ kind: z.literal('result'), requestId: z.string(), nodeId: z.string(), ok: z.literal(false), error: ErrorDataSchema }),
]);
/** One answer pushed onto a request's reply list. */
export type ControlReply =
  | { kind: 'ack'; requestId: string; nodeId: string }
  | { kind: 'result'; requestId: string; nodeId: string; ok: true; value: unknown }
  | { kind: 'result'; requestId: string; nodeId: string; ok: false; error: ErrorData };

/** Arguments of 'checkpoint' on the wire: CRIU flags, and optionally the node-side directory to write to. */
export const CheckpointRequestArgsSchema = CheckpointFlagsSchema.extend({
  /** Write the image here (on the node) instead of into the checkpoint store. Absent or empty. */
  image: z.string().startsWith('/', 'Expected `image` to be an absolute path').optional(),
}).strict();
/** Arguments of 'checkpoint' as a caller gives them. */
export type CheckpointRequestArgs = z.input<typeof CheckpointRequestArgsSchema>;

/** What 'checkpoint' answers. */
export interface ControlCheckpointResult {
  /** The checkpoint directory on the node (restore from it with `stasis task restore --from`). */
  path: string;
  /** The store's root and sequence number when it went into the checkpoint store; null for `image`. */
  store: { root: string; namespace: string; jobId: string; seq: number } | null;
  criuLog: string;
  dumpMs: number;
  leaveRunning: boolean;
  createdAt: string;
  nodeId: string;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** Parses a published request; null when it is not one (wrong version, fields, or JSON). */
export function parseControlRequest(raw: string): ControlRequest | null {
  const r = ControlRequestSchema.safeParse(parseJson(raw));
  return r.success ? r.data : null;
}

/** Parses one reply; null when it is not one. */
export function parseControlReply(raw: string): ControlReply | null {
  const r = ControlReplySchema.safeParse(parseJson(raw));
  return r.success ? (r.data as ControlReply) : null;
}

/** Human-readable zod issues: "`args.signal`: …". */
export function formatArgIssues(e: z.ZodError, root = 'args'): string {
  return e.issues.map((i) => `\`${[root, ...i.path].join('.')}\`: ${i.message}`).join('; ');
}
