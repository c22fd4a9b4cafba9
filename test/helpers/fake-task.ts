/**
 * A Task (src/runtime/task.ts) for tests of what drives one, such as supervise(): it records every
 * call, ends when told to (`exit`) or when killed with a signal it dies on, and can be told to fail
 * wait, delete or checkpoint. No runtime, no disk.
 */
import { randomUUID } from 'node:crypto';
import { errors } from '../../src/errors.js';
import { signalName, signalNumber } from '../../src/os/signals.js';
import type {
  CheckpointOptions,
  CheckpointResult,
  ExecProcess,
  Exit,
  ExitReason,
  LogEntry,
  ProcessInfo,
  State,
  Status,
  Task,
  TaskInfo,
  TaskStats,
} from '../../src/runtime/task.js';

/** One recorded call. */
export interface TaskCallRecord {
  op: string;
  args: unknown[];
}

/** How the fake ends. */
export interface FakeExit {
  reason?: ExitReason;
  /** Default: now. */
  exitedAt?: string;
}

/** The fake task. */
export class FakeTask implements Task {
  readonly calls: TaskCallRecord[] = [];
  readonly info: TaskInfo;
  status: Status = 'running';
  /** Signal names that end it (default SIGKILL only: like a pid-1 `sleep`, it ignores TERM). */
  diesOn: string[] = ['SIGKILL'];
  /** What stats() reports (cpu ms, memory bytes); undefined makes stats() fail. */
  usage: { cpuMs: number; memoryBytes: number; peakMemoryBytes: number } | undefined;
  /** The error checkpoint() fails with; undefined: it succeeds. */
  checkpointError: Error | undefined = errors.checkpoint('criu failed: injected', { criuLog: '/fake/work/dump.log' });
  /** How many calls of delete() fail before one succeeds. */
  deleteFailures = 0;
  /** Errors the next calls of wait() reject with, in order. */
  waitErrors: Error[] = [];
  private ended: Exit | undefined;
  private readonly waiters: ((e: Exit) => void)[] = [];

  constructor(id = `t-${randomUUID().slice(0, 8)}`, private readonly ns = 'default') {
    this.info = {
      id,
      namespace: ns,
      runtime: { name: 'io.stasis.runc', path: '/fake/runc' },
      spec: { ociVersion: '1.0.2', process: { args: ['/.stasis/job/run'], env: ['PATH=/bin'] }, root: { path: 'rootfs' } },
      bundle: '/fake/bundle',
      containerId: `${ns}+${id}`,
      createdAt: '2026-12-01T10:00:00.000Z',
      annotations: {},
    };
  }

  get id(): string {
    return this.info.id;
  }

  namespace(): string {
    return this.ns;
  }

  /** The operations called, in order. */
  ops(): string[] {
    return this.calls.map((c) => c.op);
  }

  /** The signals kill() was called with, in order. */
  signals(): (string | number)[] {
    return this.calls.filter((c) => c.op === 'kill').map((c) => c.args[0] as string | number);
  }

  /** The process ends with `status` (its monitor recorded it). */
  exit(status: number, o: FakeExit = {}): void {
    if (this.ended) return;
    this.status = 'stopped';
    const signal = status > 128 ? signalName(status - 128) : null;
    this.ended = { pid: 4242, status, signal, exitedAt: o.exitedAt ?? new Date().toISOString(), reason: o.reason ?? 'exited' };
    for (const w of this.waiters.splice(0)) w(this.ended);
  }

  async wait(): Promise<Exit> {
    this.record('wait');
    const e = this.waitErrors.shift();
    if (e) throw e;
    if (this.ended) return this.ended;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async kill(signal: number | string, opts: { all?: boolean } = {}): Promise<void> {
    this.record('kill', signal, opts);
    if (this.status === 'stopped' || this.status === 'deleted') throw errors.failedPrecondition(`cannot kill a ${this.status} task`);
    const n = signalNumber(signal);
    if (n !== undefined && this.diesOn.includes(signalName(n)!)) this.exit(128 + n);
  }

  async delete(): Promise<Exit | undefined> {
    this.record('delete');
    if (this.deleteFailures > 0) {
      this.deleteFailures--;
      throw errors.runtime('runc delete: injected fault');
    }
    this.status = 'deleted';
    return this.ended;
  }

  async state(): Promise<State> {
    this.record('state');
    return { id: this.id, status: this.status, pid: this.ended ? 0 : 4242, stdin: '', stdout: '', stderr: '', terminal: false };
  }

  async stats(): Promise<TaskStats> {
    this.record('stats');
    const u = this.usage;
    if (!u) throw errors.failedPrecondition('no stats');
    return {
      id: this.id,
      readAt: new Date().toISOString(),
      cpu: { usageNs: u.cpuMs * 1e6, userNs: 0, kernelNs: 0, throttledPeriods: 0, throttledTimeNs: 0 },
      memory: { usageBytes: u.memoryBytes, maxUsageBytes: u.peakMemoryBytes, limitBytes: 0, failcnt: 0, rssBytes: 0, cacheBytes: 0 },
      pids: { current: 1, limit: 0 },
      raw: null,
    };
  }

  async checkpoint(path: string, opts: CheckpointOptions = {}): Promise<CheckpointResult> {
    this.record('checkpoint', path, opts);
    if (this.checkpointError) throw this.checkpointError;
    if (!opts.leaveRunning) this.exit(137, { reason: 'checkpointed' });
    return { path, criuLog: `${path}/work/dump.log`, dumpMs: 1, leaveRunning: !!opts.leaveRunning, createdAt: new Date().toISOString() };
  }

  async writeStdin(data: string | Uint8Array): Promise<void> {
    this.record('writeStdin', data);
  }

  async closeIO(): Promise<void> {
    this.record('closeIO');
  }

  async pid(): Promise<number> {
    return this.ended ? 0 : 4242;
  }

  async start(): Promise<void> {
    this.record('start');
  }

  async pause(): Promise<void> {
    this.record('pause');
  }

  async resume(): Promise<void> {
    this.record('resume');
  }

  async update(): Promise<void> {
    this.record('update');
  }

  async resizePty(): Promise<void> {
    this.record('resizePty');
  }

  async pids(): Promise<ProcessInfo[]> {
    this.record('pids');
    return [];
  }

  async exec(): Promise<ExecProcess> {
    throw errors.internal('FakeTask has no exec processes');
  }

  async process(): Promise<ExecProcess> {
    throw errors.internal('FakeTask has no exec processes');
  }

  async *logs(): AsyncIterable<LogEntry> {
    // The fake keeps no log: tests write the k8s-file log supervise reads (fake-monitor.ts appendLog).
  }

  private record(op: string, ...args: unknown[]): void {
    this.calls.push({ op, args });
  }
}
