/**
 * The status machine of a task or exec process (containerd pkg/process): which status may follow
 * which. Status is derived from disk and runc, so this table is what the state objects assert when
 * they move a process on; a move outside it is a bug (ERR_INTERNAL), not a user error.
 */
import { errors } from '../errors.js';
import type { Status } from './task.js';

/** Allowed next statuses for every status. */
export const transitions = {
  created: ['running', 'stopped', 'deleted'],
  running: ['pausing', 'stopped'],
  pausing: ['paused', 'running', 'stopped'],
  paused: ['running', 'stopped'],
  stopped: ['deleted'],
  deleted: [],
} as const satisfies Record<Status, readonly Status[]>;

/** Every status, in lifecycle order. */
export const STATUSES: readonly Status[] = ['created', 'running', 'pausing', 'paused', 'stopped', 'deleted'];

/** True when `to` may directly follow `from`. */
export function canTransition(from: Status, to: Status): boolean {
  return (transitions[from] as readonly Status[]).includes(to);
}

/** Throws ERR_INTERNAL when `from → to` is not in the table. */
export function assertTransition(from: Status, to: Status, what = 'task'): void {
  if (!canTransition(from, to)) {
    throw errors.internal(`illegal ${what} transition ${from} → ${to}`, { from, to });
  }
}
