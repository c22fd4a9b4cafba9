/** Stopping a supervised task: SIGTERM, then SIGKILL once the grace is over; a lost lock kills at once. */
import type { Task } from '../../runtime/task.js';
import type { StopKind } from './cause.js';

/** The stop of one task: the first reason wins, except that a lost lock escalates any stop to KILL. */
export class Stopper {
  private why: StopKind | null = null;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly task: Task) {}

  /** Why the task is being stopped, or null while nobody stopped it. */
  get stopped(): StopKind | null {
    return this.why;
  }

  /** Stops the task for `why`: TERM and KILL after `graceMs`, or KILL at once (no grace, or lock-lost). */
  stop(why: StopKind, graceMs: number): void {
    // A lost lock escalates any stop in progress to an immediate KILL (and suppresses the result).
    if (this.why && !(why === 'lock-lost' && this.why !== 'lock-lost')) return;
    this.why = why;
    if (graceMs <= 0 || why === 'lock-lost') return void this.kill('SIGKILL');
    void this.kill('SIGTERM');
    this.timers.push(setTimeout(() => void this.kill('SIGKILL'), graceMs));
  }

  /** Signals every process of the task; a task that is gone already is no error here. */
  kill(signal: string): Promise<void> {
    return this.task.kill(signal, { all: true }).catch(() => undefined);
  }

  /** Cancels a KILL still waiting for its grace (the task stopped). */
  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
  }
}
