/**
 * Supervision of one started task inside a worker thread: stream its output over the port (capped),
 * keep its deadlines (wall clock and CPU time: TERM, grace, KILL), obey stop requests, sample usage,
 * wait for the exit (inotify in the runtime, no polling), derive why it ended (cause.ts), keep its
 * log, delete the task. The task is deleted on every path out.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import type { Exit, Task } from '../../runtime/task.js';
import { toErrorData } from '../../errors.js';
import type { LifecycleOptions, RuntimeSettings, StopReason, TaskControl, TaskEvent, TaskOutcome } from '../protocol.js';
import { maxUsage, readCgroupUsage, type CgroupUsage } from './cgroup-usage.js';
import { Checkpointer } from './checkpointing.js';
import { causeOf, type StopKind } from './cause.js';
import { timeoutAt, watchDeadlines } from './deadlines.js';
import { OutputStream } from './output-stream.js';

/** A migrate/drain request (TaskControl 'preempt') not yet carried out. */
export interface PendingPreempt {
  reason: 'migrate' | 'drain';
  requestId: string;
}

/** Inputs of supervise(). */
export interface SuperviseInput {
  task: Task;
  port: MessagePort;
  options: LifecycleOptions;
  startedAt: string;
  /** The task's k8s-file log (runtime layout). */
  logFile: string;
  /** Directory where kept logs go (<stateDir>/logs). */
  logsDir: string;
  /** Only stream log lines written at or after this time (attach after a restart). */
  streamSince?: string;
  /** Stop requests that arrived before supervision began. */
  pendingStop?: StopReason;
  /** A preempt request that arrived before supervision began. */
  pendingPreempt?: PendingPreempt;
  stdin?: string;
  /** Binaries for checkpoints (options.checkpoint); without it the task is never checkpointed. */
  runtime?: Pick<RuntimeSettings, 'criu' | 'runc'>;
}

function send(port: MessagePort, e: TaskEvent): void {
  try {
    port.postMessage(e);
  } catch {
    // the main thread closed its end; nothing to report to
  }
}

function cgroupsPathOf(task: Task): string | null {
  const linux = task.info.spec.linux as { cgroupsPath?: unknown } | undefined;
  return typeof linux?.cgroupsPath === 'string' ? linux.cgroupsPath : null;
}

/** Usage samples: cheap cgroupfs reads (runc events when the cgroup is not readable); the max is kept. */
class UsageSampler {
  usage: CgroupUsage | null = null;
  exited = false;
  constructor(
    private readonly task: Task,
    private readonly cgroupsPath: string | null,
    private readonly port: MessagePort,
  ) {}

  async sample(): Promise<void> {
    let u = this.cgroupsPath ? await readCgroupUsage(this.cgroupsPath) : null;
    if (!u && !this.exited) {
      u = await this.task.stats().then(
        (st) => ({ cpuMs: st.cpu.usageNs / 1e6, peakMemoryBytes: st.memory.maxUsageBytes, memoryBytes: st.memory.usageBytes }),
        () => null,
      );
    }
    this.usage = maxUsage(this.usage, u);
    if (u) send(this.port, { type: 'stats', cpuMs: u.cpuMs, peakMemoryBytes: u.peakMemoryBytes, memoryBytes: u.memoryBytes });
  }
}

/** Supervises a started (or re-attached) task to its end and deletes it. */
export async function supervise(s: SuperviseInput): Promise<TaskOutcome> {
  const { task, port, options } = s;
  const cgroupsPath = cgroupsPathOf(task);
  const output = new OutputStream({ port, logFile: s.logFile, cap: options.outputBytes, stream: options.streamLogs, ...(s.streamSince ? { since: s.streamSince } : {}) });
  const usage = new UsageSampler(task, cgroupsPath, port);
  const timers: NodeJS.Timeout[] = [];
  let stopped: StopKind | null = null;

  const kill = (signal: string) => task.kill(signal, { all: true }).catch(() => undefined);
  const stop = (why: StopKind, graceMs: number) => {
    // A lost lock escalates any stop in progress to an immediate KILL (and suppresses the result).
    if (stopped && !(why === 'lock-lost' && stopped !== 'lock-lost')) return;
    stopped = why;
    if (graceMs <= 0 || why === 'lock-lost') return void kill('SIGKILL');
    void kill('SIGTERM');
    timers.push(setTimeout(() => void kill('SIGKILL'), graceMs));
  };
  const ckpt = options.checkpoint && s.runtime ? new Checkpointer(task, options.checkpoint, s.runtime, port) : null;
  const onControl = (m: TaskControl) => {
    if (m && m.type === 'stop') {
      ckpt?.close();
      stop(m.reason, m.graceMs);
    } else if (m && m.type === 'preempt') {
      if (ckpt && !stopped) ckpt.preempt(m.reason, m.requestId);
      else send(port, { type: 'checkpoint-failed', reason: m.reason, requestId: m.requestId, error: { name: 'StasisError', code: 'ERR_FAILED_PRECONDITION', message: ckpt ? 'the task is stopping' : 'checkpoints are not enabled for this job (no --checkpoint-dir, or checkpoint.allow is false)' } });
    }
  };
  port.on('message', onControl);
  if (s.pendingStop) stop(s.pendingStop, s.pendingStop === 'lock-lost' ? 0 : options.killGraceMs);
  ckpt?.start();
  if (s.pendingPreempt) onControl({ type: 'preempt', ...s.pendingPreempt });
  const deadline = timeoutAt(options.deadlines, s.startedAt);
  const unwatch = watchDeadlines(options.deadlines, s.startedAt, cgroupsPath, (what) => {
    // A task that already stopped (found so after a restart) keeps the reason its exit gives.
    void task.state().then((st) => {
      if (st.status === 'stopped' || st.status === 'deleted') return;
      ckpt?.close();
      stop(what, options.killGraceMs);
    }, () => undefined);
  });
  timers.push(setInterval(() => void usage.sample(), options.statsIntervalMs));
  output.start();

  if (s.stdin !== undefined) {
    const data = s.stdin;
    void (async () => {
      if (data.length > 0) await task.writeStdin(data);
      await task.closeIO();
    })().catch((e: unknown) => send(port, { type: 'warning', message: "could not write the job's stdin", error: toErrorData(e) }));
  }

  let exit: Exit;
  try {
    exit = await task.wait();
  } catch (e) {
    await kill('SIGKILL');
    exit = await task.wait().catch(() => {
      throw e;
    });
  } finally {
    unwatch();
    for (const t of timers) clearTimeout(t);
    port.off('message', onControl);
    ckpt?.close();
  }
  // A final checkpoint ends the task before its commit is done: wait for it.
  await ckpt?.settle();
  usage.exited = true;
  await usage.sample();
  await output.finish();

  // The log is kept by a hard link, so it stays in the task too: a node that dies before posting
  // re-reads the whole output from the task after its restart.
  const logPath = await keepLog(task, s.logFile, s.logsDir, options.keepLogs, (e) =>
    send(port, { type: 'warning', message: "could not keep the task's log (the envelope's logPath is null)", error: toErrorData(e) }),
  );
  const u = usage.usage;
  const out = output.out;
  const outcome: TaskOutcome = {
    taskId: task.id,
    namespace: task.namespace(),
    startedAt: s.startedAt,
    exit,
    cause: causeOf({
      exit,
      stopped,
      preempted: ckpt?.preempted !== undefined,
      ...(deadline ? { timeoutAt: deadline } : {}),
      ...(options.deadlines?.cpuTimeSeconds !== undefined ? { cpuTimeSeconds: options.deadlines.cpuTimeSeconds } : {}),
      cpuMs: u?.cpuMs ?? 0,
      ...(output.firstStderr !== undefined ? { firstStderr: output.firstStderr } : {}),
    }),
    cpuMs: Math.round(u?.cpuMs ?? 0),
    peakMemoryBytes: u?.peakMemoryBytes ?? 0,
    stdout: out.stdout.text(),
    stderr: out.stderr.text(),
    stdoutTruncated: out.stdout.truncated,
    stderrTruncated: out.stderr.truncated,
    logPath,
    lockLost: stopped === 'lock-lost',
    ...(ckpt ? { checkpoints: ckpt.taken } : {}),
    ...(ckpt?.preempted ? { preempted: ckpt.preempted } : {}),
  };
  // The main thread posts now; the stopped task (its exit on disk) stays until it says `release`, so a
  // node that dies before posting finds it after a restart and posts then.
  const released = new Promise<void>((resolve) => {
    const onRelease = (m: TaskControl) => {
      if (m?.type !== 'release') return;
      port.off('message', onRelease);
      resolve();
    };
    port.on('message', onRelease);
    port.once('close', () => resolve());
  });
  send(port, { type: 'outcome', outcome });
  await released;
  await task.delete().catch(async () => {
    await new Promise((r) => setTimeout(r, 200));
    await task.delete();
  });
  return outcome;
}

/** Links a non-empty task log to <logsDir>/<namespace>/<id>.log (a copy across filesystems); its path, or null. */
async function keepLog(task: Task, src: string, logsDir: string, keep: boolean, warn: (e: unknown) => void): Promise<string | null> {
  if (!keep) return null;
  try {
    const st = await fs.stat(src);
    if (st.size === 0) return null;
    const dest = path.join(logsDir, task.namespace(), `${task.id}.log`);
    await fs.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
    await fs.rm(dest, { force: true }); // a link made before a crash, or an older run's log
    await fs.link(src, dest).catch(() => fs.copyFile(src, dest));
    return dest;
  } catch (e) {
    // No log file at all (a task that never wrote one) is not worth a line.
    if ((e as { code?: unknown }).code !== 'ENOENT') warn(e);
    return null;
  }
}
