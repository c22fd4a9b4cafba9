/**
 * One supervised task while it runs: what may stop it (stop and preempt requests on its port, those
 * that came before, its deadlines), what is collected meanwhile (output, usage, checkpoints), and the
 * outcome once it stopped. supervise.ts drives it from begin() to conclude().
 */
import type { Exit, Task } from '../../runtime/task.js';
import { toErrorData } from '../../errors.js';
import type { TaskControl, TaskOutcome } from '../protocol.js';
import { causeOf, type StopKind } from './cause.js';
import { Checkpointer } from './checkpointing.js';
import { timeoutAt, watchDeadlines } from './deadlines.js';
import { keepLog } from './keep-log.js';
import { OutputStream } from './output-stream.js';
import { send } from './port.js';
import { Stopper } from './stopper.js';
import type { PendingPreempt, SuperviseInput } from './supervise-input.js';
import { cgroupsPathOf, UsageSampler } from './usage-sampler.js';

/** Why a preempt cannot be carried out without a Checkpointer. */
const NO_CHECKPOINTS = 'checkpoints are not enabled for this job (no --checkpoint-dir, or checkpoint.allow is false)';

/** A started (or re-attached) task under supervision. */
export class SupervisedTask {
  private readonly task: Task;
  private readonly cgroupsPath: string | null;
  private readonly output: OutputStream;
  private readonly usage: UsageSampler;
  private readonly stopper: Stopper;
  private readonly ckpt: Checkpointer | null;
  private readonly onControl = (m: TaskControl) => this.control(m);
  private unwatch: () => void = () => undefined;
  private sampling: NodeJS.Timeout | undefined;

  constructor(private readonly s: SuperviseInput) {
    const { task, port, options } = s;
    this.task = task;
    this.cgroupsPath = cgroupsPathOf(task);
    this.output = new OutputStream({ port, logFile: s.logFile, cap: options.outputBytes, stream: options.streamLogs, ...(s.streamSince ? { since: s.streamSince } : {}) });
    this.usage = new UsageSampler(task, this.cgroupsPath, port);
    this.stopper = new Stopper(task);
    this.ckpt = options.checkpoint && s.runtime ? new Checkpointer(task, options.checkpoint, s.runtime, port) : null;
  }

  /** Starts watching: control messages, the requests that came before, deadlines, usage, output, stdin. */
  begin(): void {
    const { port, options, pendingStop, pendingPreempt } = this.s;
    port.on('message', this.onControl);
    if (pendingStop) this.stopFor(pendingStop, pendingStop === 'lock-lost' ? 0 : options.killGraceMs);
    this.ckpt?.start();
    if (pendingPreempt) this.preempt(pendingPreempt);
    this.unwatch = watchDeadlines(options.deadlines, this.s.startedAt, this.cgroupsPath, (what) => void this.deadlinePassed(what));
    this.sampling = setInterval(() => void this.usage.sample(), options.statsIntervalMs);
    this.output.start();
    if (this.s.stdin !== undefined) void feedStdin(this.task, this.s.stdin);
  }

  /** Waits for the exit (when waiting fails: KILL, and wait once more), then stops watching. */
  async waitForExit(): Promise<Exit> {
    try {
      return await this.task.wait();
    } catch (e) {
      await this.stopper.kill('SIGKILL');
      return await this.task.wait().catch(() => {
        throw e;
      });
    } finally {
      this.unwatch();
      this.stopper.dispose();
      clearInterval(this.sampling);
      this.s.port.off('message', this.onControl);
      this.ckpt?.close();
    }
  }

  /** After the exit: lets checkpoints in flight finish, takes the last sample and output, keeps the log. */
  async conclude(exit: Exit): Promise<TaskOutcome> {
    // A final checkpoint ends the task before its commit is done: wait for it.
    await this.ckpt?.settle();
    this.usage.exited = true;
    await this.usage.sample();
    await this.output.finish();
    const logPath = await keepLog(this.task, this.s.logFile, this.s.logsDir, this.s.options.keepLogs, (e) =>
      send(this.s.port, { type: 'warning', message: "could not keep the task's log (the envelope's logPath is null)", error: toErrorData(e) }),
    );
    return this.outcome(exit, logPath);
  }

  private outcome(exit: Exit, logPath: string | null): TaskOutcome {
    const { options } = this.s;
    const u = this.usage.usage;
    const out = this.output.out;
    const deadline = timeoutAt(options.deadlines, this.s.startedAt);
    const stopped: StopKind | null = this.stopper.stopped;
    return {
      taskId: this.task.id,
      namespace: this.task.namespace(),
      startedAt: this.s.startedAt,
      exit,
      cause: causeOf({
        exit,
        stopped,
        preempted: this.ckpt?.preempted !== undefined,
        ...(deadline ? { timeoutAt: deadline } : {}),
        ...(options.deadlines?.cpuTimeSeconds !== undefined ? { cpuTimeSeconds: options.deadlines.cpuTimeSeconds } : {}),
        cpuMs: u?.cpuMs ?? 0,
        ...(this.output.firstStderr !== undefined ? { firstStderr: this.output.firstStderr } : {}),
      }),
      cpuMs: Math.round(u?.cpuMs ?? 0),
      peakMemoryBytes: u?.peakMemoryBytes ?? 0,
      stdout: out.stdout.text(),
      stderr: out.stderr.text(),
      stdoutTruncated: out.stdout.truncated,
      stderrTruncated: out.stderr.truncated,
      logPath,
      lockLost: stopped === 'lock-lost',
      ...(this.ckpt ? { checkpoints: this.ckpt.taken } : {}),
      ...(this.ckpt?.preempted ? { preempted: this.ckpt.preempted } : {}),
    };
  }

  private control(m: TaskControl): void {
    if (m?.type === 'stop') this.stopFor(m.reason, m.graceMs);
    else if (m?.type === 'preempt') this.preempt(m);
  }

  /** Stops the task; a task being stopped is not checkpointed any more. */
  private stopFor(why: StopKind, graceMs: number): void {
    this.ckpt?.close();
    this.stopper.stop(why, graceMs);
  }

  /** Checkpoints the task to end it (migrate/drain), or says on the port why it cannot. */
  private preempt(p: PendingPreempt): void {
    if (this.ckpt && !this.stopper.stopped) return this.ckpt.preempt(p.reason, p.requestId);
    const message = this.ckpt ? 'the task is stopping' : NO_CHECKPOINTS;
    send(this.s.port, { type: 'checkpoint-failed', reason: p.reason, requestId: p.requestId, error: { name: 'StasisError', code: 'ERR_FAILED_PRECONDITION', message } });
  }

  /** A deadline passed: stop the task, unless it already stopped (found so after a restart: its exit gives the reason). */
  private async deadlinePassed(what: 'timeout' | 'cpu-time'): Promise<void> {
    const st = await this.task.state().catch(() => undefined);
    if (!st || st.status === 'stopped' || st.status === 'deleted') return;
    this.stopFor(what, this.s.options.killGraceMs);
  }
}

/** Writes the job's stdin and closes it; a task that ended meanwhile is no error here. */
async function feedStdin(task: Task, data: string): Promise<void> {
  try {
    if (data.length > 0) await task.writeStdin(data);
    await task.closeIO();
  } catch {
    // the task stopped before reading its input: its exit tells the rest
  }
}
