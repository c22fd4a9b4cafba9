/**
 * One class per status of a task's init process (containerd pkg/process/init_state.go). The façade
 * (init-process.ts) derives the current status, picks the state object and calls the operation on
 * it; the state either hands the work to InitOps or refuses with ERR_FAILED_PRECONDITION
 * ("cannot pause a stopped task"). Moves between statuses are checked against transitions.ts.
 */
import { assertNever, errors } from '../errors.js';
import { assertTransition } from './transitions.js';
import type {
  CheckpointOptions,
  CheckpointResult,
  ConsoleSize,
  ExecOpts,
  ExecProcess,
  Exit,
  ProcessInfo,
  Resources,
  Status,
  TaskStats,
} from './task.js';

/** The work behind each operation, done by the façade once a state allowed it. */
export interface InitOps {
  start(): Promise<void>;
  kill(signal: number | string, all: boolean): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  exec(id: string, opts: ExecOpts): Promise<ExecProcess>;
  pids(): Promise<ProcessInfo[]>;
  stats(): Promise<TaskStats>;
  update(resources: Resources, annotations?: Record<string, string>): Promise<void>;
  checkpoint(path: string, opts: CheckpointOptions): Promise<CheckpointResult>;
  /** `from` is the status the task was deleted in ('created' kills it first). */
  delete(from: Status): Promise<Exit | undefined>;
  resizePty(size: ConsoleSize): Promise<void>;
  closeIO(): Promise<void>;
  writeStdin(data: string | Uint8Array): Promise<void>;
}

/** Every operation a task state must answer. */
export type InitState = { readonly status: Status } & Omit<InitOps, 'delete'> & { delete(): Promise<Exit | undefined> };

/** The operation names of InitState (for tests that walk every state). */
export const INIT_OPERATIONS = [
  'start',
  'kill',
  'pause',
  'resume',
  'exec',
  'pids',
  'stats',
  'update',
  'checkpoint',
  'delete',
  'resizePty',
  'closeIO',
  'writeStdin',
] as const;

const HINTS: Partial<Record<string, string>> = {
  'delete running': ' (kill it and wait for it to stop first)',
  'delete paused': ' (kill it and wait for it to stop first)',
  'exec paused': ' (resume it first)',
  'checkpoint created': ' (start it first)',
  'start running': ' (it is already running)',
};

/** Base: refuses everything; each state overrides what it allows. */
abstract class BaseState implements InitState {
  abstract readonly status: Status;
  constructor(protected readonly ops: InitOps) {}

  protected refuse(op: string): never {
    const hint = HINTS[`${op} ${this.status}`] ?? '';
    throw errors.failedPrecondition(`cannot ${op} a ${this.status} task${hint}`, { status: this.status, operation: op });
  }
  protected move(to: Status): void {
    assertTransition(this.status, to);
  }

  async start(): Promise<void> { return this.refuse('start'); }
  async kill(_s: number | string, _a: boolean): Promise<void> { return this.refuse('kill'); }
  async pause(): Promise<void> { return this.refuse('pause'); }
  async resume(): Promise<void> { return this.refuse('resume'); }
  async exec(_id: string, _o: ExecOpts): Promise<ExecProcess> { return this.refuse('exec'); }
  async pids(): Promise<ProcessInfo[]> { return this.refuse('list the processes of'); }
  async stats(): Promise<TaskStats> { return this.refuse('read stats of'); }
  async update(_r: Resources, _a?: Record<string, string>): Promise<void> { return this.refuse('update'); }
  async checkpoint(_p: string, _o: CheckpointOptions): Promise<CheckpointResult> { return this.refuse('checkpoint'); }
  async delete(): Promise<Exit | undefined> { return this.refuse('delete'); }
  async resizePty(_s: ConsoleSize): Promise<void> { return this.refuse('resize the terminal of'); }
  async closeIO(): Promise<void> { return this.refuse('close stdin of'); }
  async writeStdin(_d: string | Uint8Array): Promise<void> { return this.refuse('write to stdin of'); }
}

/** Created: the container exists, its user process has not started. */
export class CreatedState extends BaseState {
  readonly status = 'created' as const;
  override async start() { this.move('running'); await this.ops.start(); }
  override async kill(s: number | string, all: boolean) { this.move('stopped'); await this.ops.kill(s, all); }
  override async delete() { this.move('deleted'); return this.ops.delete('created'); }
  override pids() { return this.ops.pids(); }
  override stats() { return this.ops.stats(); }
  override update(r: Resources, a?: Record<string, string>) { return this.ops.update(r, a); }
  override resizePty(s: ConsoleSize) { return this.ops.resizePty(s); }
  override closeIO() { return this.ops.closeIO(); }
  override writeStdin(d: string | Uint8Array) { return this.ops.writeStdin(d); }
}

/** Running: the user process runs. */
export class RunningState extends BaseState {
  readonly status = 'running' as const;
  override async kill(s: number | string, all: boolean) { await this.ops.kill(s, all); }
  override async pause() {
    this.move('pausing');
    assertTransition('pausing', 'paused');
    await this.ops.pause();
  }
  override exec(id: string, o: ExecOpts) { return this.ops.exec(id, o); }
  override pids() { return this.ops.pids(); }
  override stats() { return this.ops.stats(); }
  override update(r: Resources, a?: Record<string, string>) { return this.ops.update(r, a); }
  override async checkpoint(p: string, o: CheckpointOptions) {
    if (!o.leaveRunning && !o.preDump) this.move('stopped');
    return this.ops.checkpoint(p, o);
  }
  override resizePty(s: ConsoleSize) { return this.ops.resizePty(s); }
  override closeIO() { return this.ops.closeIO(); }
  override writeStdin(d: string | Uint8Array) { return this.ops.writeStdin(d); }
}

/** Pausing: a freeze is in flight (seen from other processes while pause() runs). */
export class PausingState extends BaseState {
  readonly status = 'pausing' as const;
  override async kill(s: number | string, all: boolean) { await this.ops.kill(s, all); }
  override pids() { return this.ops.pids(); }
  override stats() { return this.ops.stats(); }
}

/** Paused: every process of the task is frozen. */
export class PausedState extends BaseState {
  readonly status = 'paused' as const;
  override async resume() { this.move('running'); await this.ops.resume(); }
  override async kill(s: number | string, all: boolean) { await this.ops.kill(s, all); }
  override pids() { return this.ops.pids(); }
  override stats() { return this.ops.stats(); }
  override update(r: Resources, a?: Record<string, string>) { return this.ops.update(r, a); }
  override async checkpoint(p: string, o: CheckpointOptions) {
    if (!o.leaveRunning && !o.preDump) this.move('stopped');
    return this.ops.checkpoint(p, o);
  }
  override resizePty(s: ConsoleSize) { return this.ops.resizePty(s); }
  override closeIO() { return this.ops.closeIO(); }
  override writeStdin(d: string | Uint8Array) { return this.ops.writeStdin(d); }
}

/** Stopped: the process ended (or was checkpointed, or its monitor was lost); only delete remains. */
export class StoppedState extends BaseState {
  readonly status = 'stopped' as const;
  override async delete() { this.move('deleted'); return this.ops.delete('stopped'); }
}

/** Deleted: nothing is left. */
export class DeletedState extends BaseState {
  readonly status = 'deleted' as const;
}

/** The state object for `status`. */
export function initState(status: Status, ops: InitOps): InitState {
  switch (status) {
    case 'created': return new CreatedState(ops);
    case 'running': return new RunningState(ops);
    case 'pausing': return new PausingState(ops);
    case 'paused': return new PausedState(ops);
    case 'stopped': return new StoppedState(ops);
    case 'deleted': return new DeletedState(ops);
    default: return assertNever(status);
  }
}
