/**
 * Status from facts (runtime-facts §3.3): the monitor's exit file, `runc state`, whether the
 * monitor is alive, and the task's markers. deriveStatus is pure so the whole table is unit-tested;
 * gathering the facts is the caller's job (init-process.ts, exec-process.ts).
 */
import { assertNever } from '../errors.js';
import type { RuncStatus } from '../runc/runc.js';
import type { Exit, ExitReason, Status } from './task.js';
import { signalOfStatus } from '../os/signals.js';

/** What the monitor wrote when the process ended (shape of monitor/exit-file's MonitorExit). */
export interface ExitFacts {
  status: number;
  exitedAt: string;
  oom: boolean;
  timedOut: boolean;
}

/** Everything status is derived from. */
export interface Facts {
  /** The monitor's exit record, if written. */
  exit: ExitFacts | null;
  /** runc's status; null when runc does not know the container (never created, deleted, checkpointed). */
  runc: RuncStatus | null;
  monitorAlive: boolean;
  /** Host pid of the process as last known (runc state or the record). */
  pid: number;
  /** The user process was started (start() returned, or it was restored). */
  started: boolean;
  /** A pause is in flight (marker present). */
  pausing: boolean;
  /** A checkpoint without leave-running was attempted (marker present) and the image has inventory.img. */
  checkpointImage: boolean;
  /** When the loss of the monitor was first recorded (a 'lost' marker), if it was. */
  lostAt?: string;
}

/** Status plus the exit once stopped; `lost` flags a monitor that died without writing an exit. */
export interface Derived {
  status: Status;
  exit?: Exit;
  lost: boolean;
  /** created but the monitor is dead, or neither container nor exit and a dead monitor: a launch that never finished. */
  halfLaunched: boolean;
}

/** Exit status of a process killed by SIGKILL (what conmon records after a checkpoint). */
export const SIGKILL_STATUS = 128 + 9;
/** Exit status reported when the real one is unknowable. */
export const LOST_STATUS = 255;

/** Signal name of a shell-style exit status (> 128), or null. */
export const signalOf = signalOfStatus;

/** The Exit of a process from its monitor's record. */
export function exitFrom(e: ExitFacts, pid: number, checkpointed: boolean): Exit {
  // conmon records -1 when its own timeout (-T) killed the container (it sends SIGKILL).
  const status = e.status < 0 ? SIGKILL_STATUS : e.status;
  let reason: ExitReason = 'exited';
  if (e.timedOut) reason = 'timeout';
  else if (e.oom) reason = 'oom';
  else if (checkpointed) reason = 'checkpointed';
  return { pid, status, signal: signalOf(status), exitedAt: e.exitedAt, reason };
}

function lostExit(f: Facts, now: string): Exit {
  return { pid: f.pid, status: LOST_STATUS, signal: null, exitedAt: f.lostAt ?? now, reason: 'lost' };
}

/** Derives the status (and exit) of a task or exec process from its facts. */
export function deriveStatus(f: Facts, now = new Date().toISOString()): Derived {
  if (f.exit) {
    // runc may still list the container as stopped for a moment after CRIU killed it.
    const checkpointed = f.checkpointImage && f.exit.status === SIGKILL_STATUS && (f.runc === null || f.runc === 'stopped');
    return { status: 'stopped', exit: exitFrom(f.exit, f.pid, checkpointed), lost: false, halfLaunched: false };
  }
  const stoppedLost = (halfLaunched: boolean): Derived => ({ status: 'stopped', exit: lostExit(f, now), lost: true, halfLaunched });
  switch (f.runc) {
    case 'created':
      return f.monitorAlive ? ok('created') : stoppedLost(true);
    case 'running':
      if (!f.monitorAlive) return stoppedLost(false);
      return ok(f.pausing ? 'pausing' : 'running');
    case 'paused':
      return f.monitorAlive ? ok('paused') : stoppedLost(false);
    case 'stopped':
      // runc saw the exit before conmon wrote it: the exit file is moments away.
      return f.monitorAlive ? ok('running') : stoppedLost(false);
    case null:
      if (f.monitorAlive) return ok(f.started ? 'running' : 'created');
      return stoppedLost(!f.started);
    default:
      return assertNever(f.runc);
  }
}

function ok(status: Status): Derived {
  return { status, lost: false, halfLaunched: false };
}
