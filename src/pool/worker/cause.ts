/** Why a supervised task stopped: from what happened (stop requests, the monitor's exit, deadlines), never from when it was noticed. */
import { assertNever } from '../../errors.js';
import type { Exit } from '../../runtime/task.js';
import { START_FAILURE_PREFIX } from '../../sandbox/launcher.js';
import type { StopCause, StopReason } from '../protocol.js';

/** What the lifecycle itself did to the task. */
export type StopKind = StopReason | 'timeout' | 'cpu-time';

/** Facts the cause is derived from. */
export interface CauseFacts {
  exit: Exit;
  /** The stop the lifecycle requested first, if any. */
  stopped: StopKind | null;
  preempted: boolean;
  /** The wall-clock deadline, if any (ISO 8601). */
  timeoutAt?: string;
  /** CPU used (ms) and the CPU-time limit (s), if any. */
  cpuMs?: number;
  cpuTimeSeconds?: number;
  /** The first stderr text of the task (its launch script's start-failure line, if it failed to start). */
  firstStderr?: string;
}

/** True when the exit is the launch script's report that the program or the working directory is not there. */
export function failedToStart(exit: Exit, firstStderr: string | undefined): boolean {
  return (exit.status === 126 || exit.status === 127) && exit.signal === null && !!firstStderr?.startsWith(START_FAILURE_PREFIX);
}

/** The cause of a task's end (see the module comment). */
export function causeOf(f: CauseFacts): StopCause {
  if (f.preempted) return 'preempted';
  switch (f.stopped) {
    case 'timeout':
    case 'cpu-time':
      return f.stopped;
    case 'cancelled':
    case 'lock-lost':
    case 'shutdown':
      return 'cancelled';
    case null:
      break;
    default:
      return assertNever(f.stopped);
  }
  switch (f.exit.reason) {
    case 'oom':
      return 'oom';
    case 'timeout':
      return 'timeout';
    case 'lost':
      return 'lost';
    case 'exited':
    case 'checkpointed':
      break;
    default:
      return assertNever(f.exit.reason);
  }
  // Nobody stopped it, but it ran past a limit while no node watched (a restart): the limit says so.
  if (f.timeoutAt !== undefined && Date.parse(f.exit.exitedAt) >= Date.parse(f.timeoutAt)) return 'timeout';
  if (f.cpuTimeSeconds !== undefined && (f.exit.signal === 'SIGXCPU' || (f.cpuMs ?? 0) >= f.cpuTimeSeconds * 1000)) return 'cpu-time';
  if (failedToStart(f.exit, f.firstStderr)) return 'failed-to-start';
  return 'exited';
}
