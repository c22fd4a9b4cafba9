/**
 * The caller side of the control protocol (control.ts): publish a request on the owning node's
 * channel, then BLPOP its reply list, on a connection of its own, for the ack and then the result.
 * Every path ends: the node is not subscribed (PUBLISH reached nobody) → ERR_UNAVAILABLE at once; no
 * ack within `ackTimeoutMs` → ERR_UNAVAILABLE; no result within `timeoutMs` → ERR_UNAVAILABLE; the
 * node's error → that StasisError (code and details kept).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { errors, fromErrorData } from '../errors.js';
import type { QueueRef } from './cancel.js';
import { CONTROL_PROTOCOL_VERSION, controlChannel, controlReplyKey, parseControlReply, type ControlRequest } from './control.js';

/** Default time a node has to acknowledge a request, ms. */
export const DEFAULT_ACK_TIMEOUT_MS = 5_000;
/** Default time a node has to answer a request, ms. */
export const DEFAULT_CONTROL_TIMEOUT_MS = 60_000;

/** Timeouts of one control request. */
export interface ControlTimeouts {
  /** How long the node has to acknowledge (default 5 s): a node that is down or hung is found out here. */
  ackTimeoutMs?: number;
  /** How long the whole request may take (default 60 s; exec: its timeout + 15 s; checkpoint: 10 min). */
  timeoutMs?: number;
}

/** A request to send: which node, which job, what to do. */
export interface ControlSend {
  nodeId: string;
  jobId: string;
  verb: string;
  args?: Record<string, unknown>;
}

/** Where a request goes and how long its answer may take, for the waits below. */
interface Exchange {
  s: ControlSend;
  req: ControlRequest;
  where: { jobId: string; nodeId: string; verb: string };
  start: number;
  ackTimeoutMs: number;
  timeoutMs: number;
}

/** Publishes the request on the node's channel; ERR_UNAVAILABLE when nobody listens there. */
async function publish(redis: Redis, q: QueueRef, x: Exchange): Promise<void> {
  const { s, where } = x;
  const reached = await redis.publish(controlChannel(q, s.nodeId), JSON.stringify(x.req)).catch((e: unknown) => {
    throw errors.unavailable(`cannot send '${s.verb}' for job ${s.jobId}: Redis: ${e instanceof Error ? e.message : String(e)}`, where);
  });
  if (reached === 0) {
    throw errors.unavailable(`node ${s.nodeId}, which runs job ${s.jobId}, is not listening for control requests (is it down?)`, where);
  }
}

/** Waits on the reply list: an ack within ackTimeoutMs, then the answer before the deadline. */
async function awaitReply(blocking: Redis, x: Exchange): Promise<unknown> {
  const { s, req, where, start, ackTimeoutMs, timeoutMs } = x;
  let acked = false;
  for (;;) {
    const until = acked ? req.deadline : Math.min(start + ackTimeoutMs, req.deadline);
    const left = until - Date.now();
    if (left <= 0) {
      throw acked
        ? errors.unavailable(`node ${s.nodeId} accepted '${s.verb}' for job ${s.jobId} but did not answer within ${timeoutMs} ms`, { ...where, timeoutMs })
        : errors.unavailable(`node ${s.nodeId}, which runs job ${s.jobId}, did not answer within ${Math.min(ackTimeoutMs, timeoutMs)} ms (is it down or overloaded?)`, { ...where, ackTimeoutMs });
    }
    const popped = await blocking.blpop(req.replyTo, Math.max(0.01, left / 1000));
    if (!popped) continue;
    const reply = parseControlReply(popped[1]);
    if (!reply || reply.requestId !== req.requestId) continue;
    if (reply.kind === 'ack') {
      acked = true;
      continue;
    }
    if (reply.ok) return reply.value;
    throw fromErrorData(reply.error);
  }
}

/**
 * Sends one control request and resolves to the node's answer. `redis` is used for PUBLISH; a
 * duplicate of it blocks on the reply list and is closed afterwards.
 */
export async function sendControl(redis: Redis, q: QueueRef, s: ControlSend, t: ControlTimeouts = {}): Promise<unknown> {
  const ackTimeoutMs = t.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
  const timeoutMs = t.timeoutMs ?? DEFAULT_CONTROL_TIMEOUT_MS;
  const requestId = randomUUID();
  const start = Date.now();
  const req: ControlRequest = {
    v: CONTROL_PROTOCOL_VERSION,
    requestId,
    jobId: s.jobId,
    verb: s.verb,
    args: s.args ?? {},
    replyTo: controlReplyKey(q, requestId),
    sentAt: new Date(start).toISOString(),
    deadline: start + timeoutMs,
  };
  const x: Exchange = { s, req, where: { jobId: s.jobId, nodeId: s.nodeId, verb: s.verb }, start, ackTimeoutMs, timeoutMs };
  const blocking = redis.duplicate();
  blocking.on('error', () => undefined); // its failures surface as the wait's own errors below
  // A Redis that stops answering must not hang the caller either: this ends the wait regardless.
  let guard: NodeJS.Timeout | undefined;
  const hardStop = new Promise<never>((_, reject) => {
    guard = setTimeout(() => {
      blocking.disconnect();
      reject(errors.unavailable(`no answer from node ${s.nodeId} to '${s.verb}' for job ${s.jobId} within ${timeoutMs} ms (Redis unreachable?)`, x.where));
    }, timeoutMs + 2_000);
  });
  try {
    return await Promise.race([publish(redis, q, x).then(() => awaitReply(blocking, x)), hardStop]);
  } finally {
    clearTimeout(guard);
    blocking.disconnect();
    void redis.del(req.replyTo).catch(() => undefined); // it expires anyway (REPLY_TTL_MS)
  }
}
