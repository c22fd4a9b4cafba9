import type { CliIO } from '../command.js';
import { jsonLine } from '../output.js';
import { taskCommand } from '../task-command.js';
import { targetProcess } from '../task-context.js';
import type { LogEntry, Process } from '../../runtime/task.js';

/** Writes one log entry: its text to stdout or stderr as the process wrote it, or a JSON line. */
export function writeLogEntry(io: Pick<CliIO, 'stdout' | 'stderr'>, e: LogEntry, json: boolean): void {
  if (json) io.stdout.write(jsonLine(e));
  else (e.stream === 'stderr' ? io.stderr : io.stdout).write(e.partial ? e.data : `${e.data}\n`);
}

/**
 * Copies a process' log to the CLI's output until it ends (following: until the process exits).
 * Ctrl-C stops reading unless `keepOnInterrupt` (the caller then handles SIGINT itself).
 */
export async function pipeLogs(p: Process, io: CliIO, o: { follow: boolean; json: boolean; keepOnInterrupt?: boolean }): Promise<void> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  if (!o.keepOnInterrupt) process.once('SIGINT', stop);
  try {
    for await (const e of p.logs({ follow: o.follow, signal: ac.signal })) writeLogEntry(io, e, o.json);
  } catch (e) {
    if (!ac.signal.aborted) throw e;
  } finally {
    process.off('SIGINT', stop);
  }
}

/** `stasis task logs ID`: prints the task's output; --follow keeps printing until it exits. */
export const taskLogs = taskCommand({
  verb: 'logs',
  summary: "print a task's output (--follow to stream it)",
  about: `Prints the task's log: what it wrote to stdout goes to stdout, stderr to stderr. --follow keeps
printing until the task stops (or Ctrl-C). --json prints one {"time","stream","data","partial"}
object per line. --exec-id reads an exec process' log instead.`,
  flags: {
    follow: { type: 'boolean', short: 'f', help: 'keep printing until the task stops (or Ctrl-C)' },
    'exec-id': { type: 'string', value: 'EXEC', help: "read this exec process' log instead" },
  },
  async act({ task, ctx, values }) {
    const p = await targetProcess(task, values['exec-id']);
    await pipeLogs(p, ctx.io, { follow: values.follow ?? false, json: ctx.json });
  },
});
