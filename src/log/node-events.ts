/**
 * One log line per lifecycle event (src/events): the event's name in `event`, its fields as they
 * are (jobId, taskId, namespace, reason, durations in `…Ms`), a short human `msg`. Errors of the node
 * are lines with `event: "error"` (or `"warning"`), the error in `err`.
 */
import type { NodeEvent } from '../events/node-events.js';
import type { Logger, LogFields } from './logger.js';

/** The human message of an event. */
export function eventMessage(e: NodeEvent): string {
  switch (e.event) {
    case 'taken':
      return `job ${e.jobId} taken${e.adopted ? ' (adopted)' : ''}`;
    case 'started':
      return `job ${e.jobId} ${e.attached ? 're-attached' : e.restored ? 'restored' : 'started'} as task ${e.taskId}`;
    case 'exited':
      return `job ${e.jobId} ${e.reason} with status ${e.exitStatus ?? 'unknown'}`;
    case 'posted':
      return `job ${e.jobId} ${e.state} (${e.reason})`;
    case 'checkpointed':
      return `job ${e.jobId} checkpointed (#${e.seq}, ${e.reason})`;
    case 'migrated':
      return `job ${e.jobId} checkpointed for ${e.reason} and handed ${e.to ? `to node ${e.to}` : 'back to the queue'}`;
    case 'handed-back':
      return `job ${e.jobId} handed back to the queue (${e.reason})`;
    case 'recovered':
      return `recovered: ${e.adopted.length} adopted, ${e.orphaned.length} kept, ${e.discarded.length} discarded`;
    case 'drained':
      return `drained: ${e.checkpointed.length} checkpointed, ${e.requeued.length} requeued, ${e.waited.length} waited, ${e.failed.length} failed, ${e.killed.length} killed`;
    default: {
      const never: never = e;
      return String((never as { event: unknown }).event);
    }
  }
}

/** The level of an event's line: failures are warnings, the rest information. */
export function eventLevel(e: NodeEvent): 'info' | 'warn' {
  if (e.event === 'posted' && e.state === 'failed') return 'warn';
  if (e.event === 'drained' && (e.failed.length > 0 || e.killed.length > 0)) return 'warn';
  return 'info';
}

/** Writes the event's line. */
export function logNodeEvent(log: Logger, e: NodeEvent): void {
  log[eventLevel(e)](e as unknown as LogFields, eventMessage(e));
}

/** Writes an error of the node (`event: "error"`), with what it concerns. */
export function logError(log: Logger, err: unknown, fields: LogFields = {}, level: 'error' | 'warn' = 'error'): void {
  const m = (err as { message?: unknown } | null)?.message;
  const message = typeof m === 'string' ? m : String(err);
  log[level]({ event: level === 'error' ? 'error' : 'warning', ...fields, err }, message);
}
