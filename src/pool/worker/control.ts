/**
 * The worker-thread side of job control: control calls arriving on a task's port (TaskControl
 * `control`) are carried out on the task the thread owns and answered with a `control-result` event
 * carrying the same requestId. Errors are answered as ErrorData; nothing is thrown across.
 *
 * Calls run concurrently with supervision (the runtime serializes them per task with its lock). A
 * call still in flight when supervision ends is answered all the same while the port is open.
 */
import { randomUUID } from 'node:crypto';
import type { MessagePort } from 'node:worker_threads';
import { assertNever, errors, toErrorData } from '../../errors.js';
import type { ExecProcess, Task } from '../../runtime/task.js';
import type { ExecCallResult, StatsResult, TaskCall, TaskCallArgs, TaskCallResults } from '../control-verbs.js';
import type { TaskControl } from '../protocol.js';
import { OutputCollector } from './output.js';
import { send } from './port.js';

async function stats(task: Task): Promise<StatsResult> {
  const { raw: _raw, ...rest } = await task.stats();
  return rest;
}

/** The task's environment with `extra` (`K=V`) added or replacing same-named entries (like `docker exec -e`). */
export function mergeEnv(base: unknown, extra: string[]): string[] {
  const out = new Map<string, string>();
  for (const kv of [...(Array.isArray(base) ? base.filter((x): x is string => typeof x === 'string') : []), ...extra]) {
    const eq = kv.indexOf('=');
    out.set(eq < 0 ? kv : kv.slice(0, eq), kv);
  }
  return [...out.values()];
}

/** Runs an exec process to its end and collects its output (capped), its exit and whether it timed out. */
async function execCall(task: Task, a: TaskCallArgs<'exec'>): Promise<ExecCallResult> {
  const execId = `ctl-${randomUUID().slice(0, 8)}`;
  const p: ExecProcess = await task.exec(execId, {
    args: a.args,
    terminal: a.tty,
    ...(a.env ? { env: mergeEnv(task.info.spec.process.env, a.env) } : {}),
    ...(a.cwd ? { cwd: a.cwd } : {}),
    ...(a.user ? { user: a.user } : {}),
    ...(a.stdin !== undefined ? { stdin: true } : {}),
  });
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    await p.start();
    timer = setTimeout(() => {
      timedOut = true;
      void p.kill('SIGKILL').catch(() => undefined);
    }, a.timeoutMs);
    if (a.stdin !== undefined) {
      const input = a.stdin;
      void (async () => {
        if (input.length > 0) await p.writeStdin(input);
        await p.closeIO();
      })().catch(() => undefined);
    }
    // The backstop covers an exec whose monitor never reports (the kill above should end it).
    const exit = await p.wait(AbortSignal.timeout(a.timeoutMs + 15_000));
    clearTimeout(timer);
    const out = new OutputCollector(a.outputBytes);
    for await (const e of p.logs()) out.add(e);
    return {
      execId,
      exitStatus: exit.status,
      signal: exit.signal,
      exitedAt: exit.exitedAt,
      stdout: out.stdout.text(),
      stderr: out.stderr.text(),
      stdoutTruncated: out.stdout.truncated,
      stderrTruncated: out.stderr.truncated,
      timedOut,
    };
  } finally {
    clearTimeout(timer);
    await p.kill('SIGKILL').catch(() => undefined);
    await p.wait(AbortSignal.timeout(5_000)).catch(() => undefined);
    await p.delete().catch(() => undefined);
  }
}

/** Carries out one control call on `task`. */
export async function runTaskCall(task: Task, call: TaskCall): Promise<TaskCallResults[TaskCall['verb']]> {
  switch (call.verb) {
    case 'pause':
      await task.pause();
      return { status: (await task.state()).status };
    case 'resume':
      await task.resume();
      return { status: (await task.state()).status };
    case 'kill':
      await task.kill(call.args.signal, { all: call.args.all });
      return { status: (await task.state()).status };
    case 'exec':
      return execCall(task, call.args);
    case 'ps': {
      const [processes, state] = await Promise.all([task.pids(), task.state()]);
      return { status: state.status, processes };
    }
    case 'stats':
      return stats(task);
    case 'update':
      await task.update(call.args.resources);
      return stats(task);
    case 'resize':
      if (!task.info.spec.process || !(task.info.spec.process as { terminal?: boolean }).terminal) {
        throw errors.failedPrecondition(`task ${task.id} has no terminal (submit the job with \`tty: true\` to resize it)`);
      }
      await task.resizePty({ width: call.args.width, height: call.args.height });
      return {};
    case 'checkpoint': {
      const { path, ...opts } = call.args;
      return task.checkpoint(path, opts);
    }
    default:
      return assertNever(call);
  }
}

/**
 * Answers control calls for `task` arriving on `port` until the returned function is called
 * (calls in flight are still answered).
 */
export function serveControl(port: MessagePort, task: Task): () => void {
  const onMessage = (m: TaskControl) => {
    if (!m || m.type !== 'control') return;
    runTaskCall(task, m.call).then(
      (value) => send(port, { type: 'control-result', requestId: m.requestId, response: { ok: true, value } }),
      (e: unknown) => send(port, { type: 'control-result', requestId: m.requestId, response: { ok: false, error: toErrorData(e) } }),
    );
  };
  port.on('message', onMessage);
  return () => void port.off('message', onMessage);
}
