/**
 * One class per status of an exec process (containerd pkg/process/exec_state.go):
 * created → running → stopped → deleted. Illegal operations fail with ERR_FAILED_PRECONDITION.
 */
import { assertNever, errors } from '../errors.js';
import { assertTransition } from './transitions.js';
import type { ConsoleSize, Exit, Status } from './task.js';

/** The work behind an exec process' operations. */
export interface ExecOps {
  start(): Promise<void>;
  kill(signal: number | string): Promise<void>;
  delete(): Promise<Exit>;
  resizePty(size: ConsoleSize): Promise<void>;
  closeIO(): Promise<void>;
  writeStdin(data: string | Uint8Array): Promise<void>;
}

/** Every operation an exec state must answer. */
export type ExecState = { readonly status: Status } & ExecOps;

/** The operation names of ExecState (for tests that walk every state). */
export const EXEC_OPERATIONS = ['start', 'kill', 'delete', 'resizePty', 'closeIO', 'writeStdin'] as const;

abstract class BaseExecState implements ExecState {
  abstract readonly status: Status;
  constructor(protected readonly ops: ExecOps) {}
  protected refuse(op: string): never {
    throw errors.failedPrecondition(`cannot ${op} a ${this.status} exec process`, { status: this.status, operation: op });
  }
  protected move(to: Status): void {
    assertTransition(this.status, to, 'exec');
  }
  async start(): Promise<void> { return this.refuse('start'); }
  async kill(_s: number | string): Promise<void> { return this.refuse('kill'); }
  async delete(): Promise<Exit> { return this.refuse('delete'); }
  async resizePty(_s: ConsoleSize): Promise<void> { return this.refuse('resize the terminal of'); }
  async closeIO(): Promise<void> { return this.refuse('close stdin of'); }
  async writeStdin(_d: string | Uint8Array): Promise<void> { return this.refuse('write to stdin of'); }
}

/** Created: recorded, not launched. */
export class ExecCreatedState extends BaseExecState {
  readonly status = 'created' as const;
  override async start() { this.move('running'); await this.ops.start(); }
  override async delete() { this.move('deleted'); return this.ops.delete(); }
}

/** Running under its own monitor. */
export class ExecRunningState extends BaseExecState {
  readonly status = 'running' as const;
  override async kill(s: number | string) { await this.ops.kill(s); }
  override resizePty(s: ConsoleSize) { return this.ops.resizePty(s); }
  override closeIO() { return this.ops.closeIO(); }
  override writeStdin(d: string | Uint8Array) { return this.ops.writeStdin(d); }
}

/** Stopped: its exit is recorded. */
export class ExecStoppedState extends BaseExecState {
  readonly status = 'stopped' as const;
  override async delete() { this.move('deleted'); return this.ops.delete(); }
}

/** Deleted. */
export class ExecDeletedState extends BaseExecState {
  readonly status = 'deleted' as const;
}

/** The exec state object for `status` (exec processes never pause on their own). */
export function execState(status: Status, ops: ExecOps): ExecState {
  switch (status) {
    case 'created': return new ExecCreatedState(ops);
    case 'running': return new ExecRunningState(ops);
    case 'pausing':
    case 'paused': return new ExecRunningState(ops);
    case 'stopped': return new ExecStoppedState(ops);
    case 'deleted': return new ExecDeletedState(ops);
    default: return assertNever(status);
  }
}
