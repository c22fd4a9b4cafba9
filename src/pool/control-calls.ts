/**
 * Main-thread bookkeeping of control calls on one task's port: request ids, answers, timeouts, and
 * what happens to calls when the task ends. Every call settles: with the thread's answer, with
 * ERR_UNAVAILABLE when it does not come in time, or ERR_FAILED_PRECONDITION once the task is gone.
 */
import { randomUUID } from 'node:crypto';
import type { MessagePort } from 'node:worker_threads';
import { errors, fromErrorData } from '../errors.js';
import type { TaskCall } from './control-verbs.js';
import type { PoolResponse, TaskControl } from './protocol.js';

/** Answers posted after the request ended (the port's messages and the request's result travel apart). */
const LATE_ANSWER_MS = 100;

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
}

/** The pending control calls of one task. */
export class ControlCalls {
  private readonly pending = new Map<string, Pending>();
  private isStarted = false;
  private ended = false;

  constructor(
    private readonly port: MessagePort,
    private readonly taskId: string,
  ) {}

  /** The task's `started` event was seen: the thread serves control calls from now on. */
  started(): void {
    this.isStarted = true;
  }

  /** Posts `call` and resolves to the thread's answer. */
  call(call: TaskCall, timeoutMs: number): Promise<unknown> {
    if (this.ended) return Promise.reject(errors.failedPrecondition(`task ${this.taskId} has ended`, { taskId: this.taskId }));
    if (!this.isStarted) {
      return Promise.reject(errors.failedPrecondition(`task ${this.taskId} is still starting; try again in a moment`, { taskId: this.taskId }));
    }
    const requestId = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(errors.unavailable(`the thread owning task ${this.taskId} did not answer '${call.verb}' within ${timeoutMs} ms`, { taskId: this.taskId, verb: call.verb }));
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      const msg: TaskControl = { type: 'control', requestId, call };
      try {
        this.port.postMessage(msg);
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(requestId);
        reject(errors.failedPrecondition(`task ${this.taskId} has ended`, { taskId: this.taskId, cause: String(e) }));
      }
    });
  }

  /** An answer from the thread. */
  answer(requestId: string, response: PoolResponse<unknown>): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    clearTimeout(p.timer);
    if (response.ok) p.resolve(response.value);
    else p.reject(fromErrorData(response.error));
  }

  /** The task's request ended: late answers get a moment to arrive, then the rest fail and `close` runs. */
  end(close: () => void): void {
    this.ended = true;
    setTimeout(() => {
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(errors.failedPrecondition(`task ${this.taskId} ended before answering`, { taskId: this.taskId }));
        this.pending.delete(id);
      }
      close();
    }, LATE_ANSWER_MS).unref();
  }
}
