/**
 * A RuncClient for unit tests: records every call in order, keeps an in-memory container table that
 * follows runc's own rules (pause needs a running container, start a created one, …), and fails a
 * verb on request with the StasisError src/runc/runc.ts would build from runc's stderr. A container
 * whose init ends (a deadly signal, a checkpoint without leave-running, a forced delete) is reported
 * to `onExit` listeners: FakeMonitor (fake-monitor.ts) records the exit there as conmon would.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { StasisError, type ErrorCode } from '../../src/errors.js';
import { signalName, signalNumber } from '../../src/os/signals.js';
import type { ExecFlags } from '../../src/runc/args.js';
import type { CheckpointArgs, ExecResult, RuncClient, RuncOptions, RuncState, RuncStatus } from '../../src/runc/types.js';

/** The methods of RuncClient. */
export type RuncVerb = Exclude<keyof RuncClient, 'opts'>;

/** One recorded call: the verb, the container id ('' for list) and the remaining arguments. */
export interface RuncCall {
  verb: RuncVerb;
  id: string;
  args: unknown[];
}

/** The kinds of failure runc.ts reports, by the code it gives them. */
export type RuncFailure = 'not-found' | 'precondition' | 'runtime' | 'checkpoint';

const CODES: Record<RuncFailure, ErrorCode> = {
  'not-found': 'ERR_NOT_FOUND',
  precondition: 'ERR_FAILED_PRECONDITION',
  runtime: 'ERR_RUNTIME',
  checkpoint: 'ERR_CHECKPOINT',
};

/** runc's own stderr message for each kind (what runc.ts classifies by). */
const LINES: Record<RuncFailure, string> = {
  'not-found': 'container does not exist',
  precondition: 'container not running',
  runtime: 'unable to freeze: injected fault',
  checkpoint: 'criu failed: type DUMP errno 0\nlog file: /fake/work/dump.log',
};

/** A StasisError shaped as runc.ts builds it for a failed `runc VERB ID`. */
export function runcError(kind: RuncFailure, verb: RuncVerb, id: string, line = LINES[kind]): StasisError {
  const criuLog = /log file: (\S+\.log)/.exec(line)?.[1];
  return new StasisError(CODES[kind], `runc ${verb}${id ? ` ${id}` : ''}: ${line.split('\n').join('; ')}`, {
    runtimeError: line,
    argv: ['/fake/runc', verb, ...(id ? [id] : [])],
    exitCode: 1,
    ...(criuLog ? { criuLog } : {}),
  });
}

/** A call held at its start until the test releases it. */
export interface Gate {
  /** Resolves once a call reached the gate. */
  reached: Promise<void>;
  release(): void;
}

interface Gated {
  reached: () => void;
  released: Promise<void>;
}

/** What a test may set of a container besides its status. */
export type ContainerPatch = Partial<Omit<RuncState, 'id'>> & {
  /** Signals (names without SIG) that end its init; default KILL only (a pid-1 `sleep` ignores TERM). */
  diesOn?: string[];
};

type Container = RuncState & { diesOn: string[] };

/** The fake runc. */
export class FakeRunc implements RuncClient {
  readonly opts: RuncOptions = { binary: '/fake/runc', root: '/fake/runc-root' };
  readonly calls: RuncCall[] = [];
  /** What a foreground exec returns. */
  execResult: ExecResult = { exitCode: 0, stdout: '', stderr: '' };
  /** What `stats` returns (runc's `data` object). */
  statsData: unknown = { cpu: { usage: { total: 1_500_000 } }, memory: { usage: { usage: 4096, max: 8192 } }, pids: { current: 1 } };
  private readonly table = new Map<string, Container>();
  private readonly failures = new Map<RuncVerb, { kind: RuncFailure; line?: string }[]>();
  private readonly gates = new Map<RuncVerb, Gated>();
  private readonly exitListeners: ((id: string, status: number) => void | Promise<void>)[] = [];

  /** Adds or changes a container. */
  set(id: string, patch: ContainerPatch & { status: RuncStatus }): void {
    const prev = this.table.get(id);
    const pid = patch.pid ?? prev?.pid ?? 4242;
    this.table.set(id, {
      id,
      bundle: '/fake/bundle',
      created: '2026-12-01T10:00:00.000Z',
      diesOn: ['KILL'],
      ...prev,
      ...patch,
      pid: patch.status === 'stopped' ? 0 : pid,
    });
  }

  /** The container as runc would report it, if it exists. */
  get(id: string): RuncState | undefined {
    const c = this.table.get(id);
    if (!c) return undefined;
    const { diesOn: _d, ...state } = c;
    return state;
  }

  /** Makes the next `times` calls of `verb` fail with runc's error of `kind`. */
  fail(verb: RuncVerb, kind: RuncFailure, o: { times?: number; line?: string } = {}): void {
    const queue = this.failures.get(verb) ?? [];
    for (let i = 0; i < (o.times ?? 1); i++) queue.push({ kind, ...(o.line ? { line: o.line } : {}) });
    this.failures.set(verb, queue);
  }

  /** Holds the next call of `verb` (after recording it) until the gate is released. */
  hold(verb: RuncVerb): Gate {
    let reached!: () => void;
    let release!: () => void;
    const r = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.gates.set(verb, { reached, released });
    return { reached: r, release };
  }

  /** Calls `fn` when a container's init ends, with its exit status (128 + signal). */
  onExit(fn: (id: string, status: number) => void | Promise<void>): void {
    this.exitListeners.push(fn);
  }

  /** The recorded calls of `verb`. */
  callsOf(verb: RuncVerb): RuncCall[] {
    return this.calls.filter((c) => c.verb === verb);
  }

  /** The verbs called, in order; `state` (what every observation asks) left out unless `withState`. */
  verbs(o: { withState?: boolean } = {}): RuncVerb[] {
    return this.calls.map((c) => c.verb).filter((v) => o.withState || v !== 'state');
  }

  async state(id: string): Promise<RuncState | null> {
    await this.enter('state', id, []);
    return this.get(id) ?? null;
  }

  async list(): Promise<RuncState[]> {
    await this.enter('list', '', []);
    return [...this.table.keys()].map((id) => this.get(id)!);
  }

  async start(id: string): Promise<void> {
    const c = await this.existing('start', id, []);
    if (c.status !== 'created') this.refuse('start', id, `cannot start a container that is ${c.status}`);
    c.status = 'running';
  }

  async kill(id: string, signal: string | number, all = false): Promise<void> {
    const c = await this.existing('kill', id, [signal, all]);
    if (c.status === 'stopped') this.refuse('kill', id, 'container not running');
    const n = signalNumber(signal);
    if (n !== undefined && c.diesOn.includes(signalName(n)!.slice(3))) await this.end(c, 128 + n);
  }

  async pause(id: string): Promise<void> {
    const c = await this.existing('pause', id, []);
    if (c.status !== 'running') this.refuse('pause', id, 'container not running');
    c.status = 'paused';
  }

  async resume(id: string): Promise<void> {
    const c = await this.existing('resume', id, []);
    if (c.status !== 'paused') this.refuse('resume', id, 'container not paused');
    c.status = 'running';
  }

  async ps(id: string): Promise<number[]> {
    const c = await this.existing('ps', id, []);
    return c.status === 'stopped' ? [] : [c.pid];
  }

  async stats(id: string): Promise<unknown> {
    await this.existing('stats', id, []);
    return this.statsData;
  }

  async update(id: string, resources: Record<string, unknown>): Promise<void> {
    await this.existing('update', id, [resources]);
  }

  /** Writes CRIU's inventory.img and dump.log like a real dump; without leaveRunning the container is gone. */
  async checkpoint(id: string, a: CheckpointArgs): Promise<void> {
    const c = await this.existing('checkpoint', id, [a]);
    if (c.status !== 'running' && c.status !== 'paused') this.refuse('checkpoint', id, 'container is not running');
    await fs.mkdir(a.imagePath, { recursive: true });
    await fs.mkdir(a.workPath, { recursive: true });
    await fs.writeFile(path.join(a.imagePath, 'inventory.img'), 'fake');
    await fs.writeFile(path.join(a.workPath, a.preDump ? 'pre-dump.log' : 'dump.log'), 'Dumping finished successfully\n');
    if (a.leaveRunning || a.preDump) return;
    this.table.delete(id);
    await this.end(c, 137);
  }

  async delete(id: string, force = false): Promise<void> {
    await this.enter('delete', id, [force]);
    const c = this.table.get(id);
    if (!c) return;
    if (c.status !== 'stopped' && c.status !== 'created' && !force) {
      this.refuse('delete', id, `cannot delete container ${id} that is not stopped: ${c.status}`);
    }
    this.table.delete(id);
    if (c.status !== 'stopped') await this.end(c, 137);
  }

  async exec(id: string, argv: string[], flags: ExecFlags = {}): Promise<ExecResult> {
    const c = await this.existing('exec', id, [argv, flags]);
    if (c.status === 'paused' && !flags.ignorePaused) {
      this.refuse('exec', id, 'cannot exec in a paused container (use --ignore-paused to override)');
    }
    if (c.status !== 'running' && c.status !== 'paused') this.refuse('exec', id, 'cannot exec in a stopped container');
    return this.execResult;
  }

  /** Records the call, waits at its gate, then throws an injected failure if one is queued. */
  private async enter(verb: RuncVerb, id: string, args: unknown[]): Promise<void> {
    this.calls.push({ verb, id, args });
    const gate = this.gates.get(verb);
    if (gate) {
      this.gates.delete(verb);
      gate.reached();
      await gate.released;
    }
    const failure = this.failures.get(verb)?.shift();
    if (failure) throw runcError(failure.kind, verb, id, failure.line);
  }

  private async existing(verb: RuncVerb, id: string, args: unknown[]): Promise<Container> {
    await this.enter(verb, id, args);
    const c = this.table.get(id);
    if (!c) throw runcError('not-found', verb, id);
    return c;
  }

  private refuse(verb: RuncVerb, id: string, line: string): never {
    throw runcError('precondition', verb, id, line);
  }

  private async end(c: Container, status: number): Promise<void> {
    c.status = 'stopped';
    c.pid = 0;
    for (const fn of this.exitListeners) await fn(c.id, status);
  }
}

