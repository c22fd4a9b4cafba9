/**
 * The only place that spawns runc. Each method builds its argv with src/runc/args.ts, runs runc with
 * runCommand (src/os/command.ts: argv arrays, never a shell) and turns a failure into a StasisError that carries runc's own
 * `level=error` line, the argv and the exit code (and CRIU's log path for checkpoints). For a runc
 * whose state dir it knows (version.ts), state, start and the delete of a stopped container take a
 * fast path that reads or changes that dir as runc itself would, and fall back to runc when unsure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StasisError, type ErrorCode } from '../errors.js';
import { runCommand } from '../os/command.js';
import { signalNumber } from '../os/signals.js';
import * as args from './args.js';
import { criuLogPath, readCriuError } from './criu-log.js';
import { lastErrorLine, oneLine } from './runtime-log.js';
import { readExecFifo } from './exec-fifo.js';
import { deleteStopped } from './fast-delete.js';
import { readRuncState } from './state-file.js';
import type { CheckpointArgs, ExecResult, RuncClient, RuncOptions, RuncState, RuncStatus } from './types.js';
import { fastPathsFor } from './version.js';

export type { CheckpointArgs, ExecResult, RuncClient, RuncOptions, RuncState, RuncStatus } from './types.js';

interface RunOpts {
  input?: string;
  /** Error code for failures other than not-found / precondition (default ERR_RUNTIME). */
  code?: ErrorCode;
}

interface RunOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const NOT_FOUND = /container does not exist|container ".*" does not exist|no such container/i;
const PRECONDITION =
  /is not running|not running|is paused|is not paused|cannot (?:pause|resume|exec|delete)|not stopped|already (?:paused|running)|has already been started|cannot start (?:a|an) /i;

/** A typed client of the runc CLI for one state root. */
export class Runc implements RuncClient {
  private fast: Promise<boolean> | undefined;

  constructor(readonly opts: RuncOptions) {}

  private get g(): args.RuncGlobal {
    return { root: this.opts.root, criu: this.opts.criu };
  }

  /** Whether this binary's state dir may be read directly (asked once). */
  private fastPaths(): Promise<boolean> {
    if (this.opts.fastPaths === false) return Promise.resolve(false);
    this.fast ??= fastPathsFor(this.opts.binary, this.opts.timeoutMs).catch(() => false);
    return this.fast;
  }

  /** The container's state, or null when runc says it does not exist (never created, deleted, or checkpointed). */
  async state(id: string): Promise<RuncState | null> {
    if (await this.fastPaths()) {
      const fast = await readRuncState(this.opts.root, id).catch(() => undefined);
      if (fast !== undefined) return fast;
    }
    try {
      const { stdout } = await this.run('state', id, args.stateArgs(this.g, id));
      return toState(JSON.parse(stdout));
    } catch (e) {
      if (e instanceof StasisError && e.code === 'ERR_NOT_FOUND') return null;
      throw e;
    }
  }

  /** All containers under this root (runc prints `null` for none). */
  async list(): Promise<RuncState[]> {
    const { stdout } = await this.run('list', '', args.listArgs(this.g));
    const parsed: unknown = JSON.parse(stdout.trim() || 'null');
    return Array.isArray(parsed) ? parsed.map(toState) : [];
  }

  /** Starts a created container (runs the user process). */
  async start(id: string): Promise<void> {
    if ((await this.fastPaths()) && (await readExecFifo(path.join(this.opts.root, id, 'exec.fifo')))) return;
    await this.run('start', id, args.startArgs(this.g, id));
  }

  /** Sends a signal (name like 'KILL'/'SIGTERM' or a number) to init, or to every process with `all`. */
  async kill(id: string, signal: string | number, all = false): Promise<void> {
    const sig = args.normalizeSignal(signal);
    if (signalNumber(sig) === undefined) {
      throw new StasisError('ERR_INVALID_ARGUMENT', `Expected a signal name or number, got \`${String(signal)}\``, { field: 'signal' });
    }
    await this.run('kill', id, args.killArgs(this.g, id, sig, all));
  }

  /** Freezes every process of the container (cgroup freezer). */
  async pause(id: string): Promise<void> {
    await this.run('pause', id, args.pauseArgs(this.g, id));
  }

  /** Thaws a paused container. */
  async resume(id: string): Promise<void> {
    await this.run('resume', id, args.resumeArgs(this.g, id));
  }

  /** Host pids of the container's processes (`runc ps --format json`). */
  async ps(id: string): Promise<number[]> {
    const { stdout } = await this.run('ps', id, args.psArgs(this.g, id));
    const parsed: unknown = JSON.parse(stdout.trim() || 'null');
    return Array.isArray(parsed) ? parsed.filter((p): p is number => typeof p === 'number') : [];
  }

  /** One stats sample (`runc events --stats`): the `data` object (cgroup v1 cpu/memory/pids/blkio…). */
  async stats(id: string): Promise<unknown> {
    const { stdout } = await this.run('events', id, args.statsArgs(this.g, id));
    const parsed = JSON.parse(stdout) as { data?: unknown };
    return parsed.data ?? null;
  }

  /** Updates cgroup limits from an OCI `linux.resources` object (fed to `runc update -r -` on stdin). */
  async update(id: string, resources: Record<string, unknown>): Promise<void> {
    await this.run('update', id, args.updateArgs(this.g, id, '-'), { input: JSON.stringify(resources) });
  }

  /**
   * Checkpoints the container with CRIU into `a.imagePath` (CRIU's dump.log goes to `a.workPath`).
   * Without leaveRunning the container is gone afterwards (`state` returns null) and its monitor
   * records exit 137. Failures are ERR_CHECKPOINT with details.criuLog.
   */
  async checkpoint(id: string, a: CheckpointArgs): Promise<void> {
    // The image dir must be readable by a user-namespaced task's root during its restore (CRIU opens
    // some images, e.g. timens, from inside the namespace): 0755, not runc's own 0700.
    await fs.promises.mkdir(a.imagePath, { recursive: true, mode: 0o755 });
    await fs.promises.chmod(a.imagePath, 0o755);
    await fs.promises.mkdir(a.workPath, { recursive: true });
    try {
      await this.run('checkpoint', id, args.checkpointArgs(this.g, id, a), { code: 'ERR_CHECKPOINT' });
    } catch (e) {
      if (!(e instanceof StasisError) || e.code !== 'ERR_CHECKPOINT') throw e;
      const criuLog = e.details.criuLog ?? existing(path.join(a.workPath, 'dump.log'));
      const criuError = criuLog ? await readCriuError(criuLog) : undefined;
      const incremental = !!(a.preDump || a.parentPath);
      const noDirtyTracking = incremental && (isDirtyTrackingError(e.details.runtimeError) || isDirtyTrackingError(criuError));
      const hint = noDirtyTracking
        ? ' (incremental checkpoints, --pre-dump/--parent-path, need soft-dirty memory tracking, which this kernel does not provide: CONFIG_MEM_SOFT_DIRTY; take a full checkpoint instead)'
        : '';
      throw new StasisError('ERR_CHECKPOINT', e.message + (criuError ? `; CRIU: ${criuError}` : '') + hint, {
        ...e.details,
        ...(criuLog ? { criuLog } : {}),
        ...(criuError ? { criuError } : {}),
        ...(incremental ? { incrementalUnsupported: noDirtyTracking } : {}),
      });
    }
  }

  /** Deletes the container's runc state; `force` kills it first. No error when it does not exist. */
  async delete(id: string, force = false): Promise<void> {
    if ((await this.fastPaths()) && (await deleteStopped(this.opts.root, id).catch(() => false))) return;
    try {
      await this.run('delete', id, args.deleteArgs(this.g, id, force));
    } catch (e) {
      if (e instanceof StasisError && e.code === 'ERR_NOT_FOUND') return;
      throw e;
    }
  }

  /**
   * Runs a process in the container in the foreground and returns its exit code and output
   * (for short probes; detached execs with a recorded exit go through conmon's exec mode).
   * Throws only when runc itself fails (it prints a `level=error` line).
   */
  async exec(id: string, argv: string[], flags: args.ExecFlags = {}): Promise<ExecResult> {
    const full = args.execArgs(this.g, id, argv, flags);
    const r = await this.spawn(full);
    if (r.exitCode !== 0 && /level=(?:error|fatal)/.test(r.stderr)) this.fail('exec', id, full, r);
    return r;
  }

  private async run(verb: string, id: string, argv: string[], o: RunOpts = {}): Promise<RunOutput> {
    const r = await this.spawn(argv, o.input);
    if (r.exitCode !== 0) this.fail(verb, id, argv, r, o.code);
    return r;
  }

  private async spawn(argv: string[], input?: string): Promise<RunOutput> {
    const r = await runCommand(this.opts.binary, argv, {
      ...(input === undefined ? {} : { input }),
      ...(this.opts.timeoutMs ? { timeoutMs: this.opts.timeoutMs } : {}),
      ...(this.opts.env ? { env: this.opts.env } : {}),
    });
    if (r.timedOut) {
      throw new StasisError('ERR_UNAVAILABLE', `runc ${argv.slice(args.globalArgs(this.g).length).join(' ')} timed out after ${this.opts.timeoutMs} ms`, {
        argv: [this.opts.binary, ...argv],
        runtimeError: 'timed out',
      });
    }
    if (r.error) {
      throw new StasisError('ERR_UNAVAILABLE', `cannot run ${this.opts.binary}: ${r.error}`, {
        argv: [this.opts.binary, ...argv],
        runtimeError: r.error,
      });
    }
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1 };
  }

  private fail(verb: string, id: string, argv: string[], r: RunOutput, code: ErrorCode = 'ERR_RUNTIME'): never {
    const line = lastErrorLine(r.stderr) ?? lastErrorLine(r.stdout) ?? `exited with status ${r.exitCode} and no output`;
    const criuLog = criuLogPath(r.stderr) ?? criuLogPath(line);
    const category: ErrorCode = NOT_FOUND.test(line) ? 'ERR_NOT_FOUND' : PRECONDITION.test(line) ? 'ERR_FAILED_PRECONDITION' : code;
    throw new StasisError(category, `runc ${verb}${id ? ` ${id}` : ''}: ${oneLine(line)}`, {
      runtimeError: line,
      argv: [this.opts.binary, ...argv],
      exitCode: r.exitCode,
      ...(criuLog ? { criuLog } : {}),
    });
  }
}

/** True when runc/CRIU refused an incremental dump for lack of memory dirty tracking. */
export function isDirtyTrackingError(line: string | undefined): boolean {
  return !!line && /missing features|dirty|tracking memory|soft.?dirty|mem_dirty_track/i.test(line);
}

function existing(p: string): string | undefined {
  return fs.existsSync(p) ? p : undefined;
}

function toState(raw: unknown): RuncState {
  const o = (raw ?? {}) as Record<string, unknown>;
  const status = String(o.status ?? 'stopped') as RuncStatus;
  return {
    id: String(o.id ?? ''),
    pid: typeof o.pid === 'number' ? o.pid : 0,
    status,
    bundle: String(o.bundle ?? ''),
    created: String(o.created ?? ''),
    ...(typeof o.rootfs === 'string' ? { rootfs: o.rootfs } : {}),
    ...(o.annotations && typeof o.annotations === 'object' ? { annotations: o.annotations as Record<string, string> } : {}),
  };
}
