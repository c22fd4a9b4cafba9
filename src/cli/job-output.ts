/** Output of the job commands (run, submit, status, logs, result): summaries and log lines. Pure. */
import type { JobStatusInfo } from '../queue/client.js';
import type { JobResult } from '../queue/result.js';
import { STDERR_LOG_PREFIX } from '../queue/output-log.js';
import { formatBytes } from '../config/units.js';

/** Exit code of `stasis run` when the job did not produce an exit status (as `docker run`'s 125). */
export const EXIT_NO_STATUS = 125;

/** One line of job output and the stream it belongs on. */
export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/**
 * One job.log entry as an output line: the runner writes one entry per line, stderr lines prefixed
 * with STDERR_LOG_PREFIX (`[stderr] `), stdout lines as they are.
 */
export function splitLogEntry(entry: string): OutputLine[] {
  const body = entry.endsWith('\n') ? entry.slice(0, -1) : entry;
  return body.split('\n').map((line) =>
    line.startsWith(STDERR_LOG_PREFIX) ? { stream: 'stderr', text: line.slice(STDERR_LOG_PREFIX.length) } : { stream: 'stdout', text: line },
  );
}

/** Exit codes of `stasis run` for endings the job did not choose (docs/cli.md). */
export const RUN_EXIT_CODES = { timeout: 124, 'cpu-time': 152, oom: 137, cancelled: 130, lost: 255 } as const;

/**
 * The process exit code `stasis run` ends with for a result: the job's own status when it exited (or
 * failed to start: 127 / 126), a fixed code when a limit or a cancel ended it (a job that traps TERM
 * and exits 0 on a timeout still ends 124), 125 when it has no status.
 */
export function runExitCode(r: JobResult): number {
  const fixed = (RUN_EXIT_CODES as Record<string, number>)[r.reason];
  if (fixed !== undefined) return fixed;
  const s = r.exitStatus;
  if (s === null || !Number.isInteger(s)) return EXIT_NO_STATUS;
  return s < 0 || s > 255 ? 255 : s;
}

function ms(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

/** The one-line summary `stasis run` prints to stderr when the job has finished. */
export function formatRunSummary(r: JobResult): string {
  const head =
    r.exitStatus === null
      ? `job ${r.jobId} did not run (${r.reason}${r.error ? `: ${r.error.message}` : ''})`
      : `job ${r.jobId} ${r.reason === 'exited' ? 'exited' : r.reason} with status ${r.exitStatus}${r.signal ? ` (${r.signal})` : ''}`;
  const parts = [head];
  if (r.exitStatus !== null) {
    parts.push(`wall ${ms(r.wallMs)}`, `cpu ${ms(r.cpuMs)}`, `peak memory ${formatBytes(r.peakMemoryBytes)}`);
  }
  if (r.stdoutTruncated || r.stderrTruncated) parts.push('output truncated in the result');
  parts.push(`node ${r.nodeId}`);
  return `stasis: ${parts.join(', ')}\n`;
}

/** `stasis result ID` for people: `key: value` lines, then stdout/stderr. */
export function formatResult(r: JobResult): string {
  const rows: [string, string][] = [
    ['job', r.jobId],
    ['attempt', String(r.attempt)],
    ['node', r.nodeId],
    ['task', `${r.namespace}/${r.taskId}`],
    ['status', r.status],
    ['reason', r.reason],
    ['exit status', r.exitStatus === null ? '-' : String(r.exitStatus)],
    ['signal', r.signal ?? '-'],
    ['started at', r.startedAt ?? '-'],
    ['exited at', r.exitedAt ?? '-'],
    ['wall', ms(r.wallMs)],
    ['cpu', ms(r.cpuMs)],
    ['peak memory', formatBytes(r.peakMemoryBytes)],
    ['log', r.logPath ?? '-'],
  ];
  if (r.error) rows.push(['error', `${r.error.code}: ${r.error.message}`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  let out = rows.map(([k, v]) => `${`${k}:`.padEnd(w + 1)} ${v}`).join('\n') + '\n';
  const block = (name: string, text: string, truncated: boolean) =>
    text ? `--- ${name}${truncated ? ' (truncated)' : ''} ---\n${text.endsWith('\n') ? text : `${text}\n`}` : '';
  out += block('stdout', r.stdout, r.stdoutTruncated) + block('stderr', r.stderr, r.stderrTruncated);
  return out;
}

/** `stasis status ID` for people. */
export function formatStatus(s: JobStatusInfo): string {
  const rows: [string, string][] = [
    ['job', s.id],
    ['name', s.name],
    ['state', s.state + (s.cancelRequested && s.state !== 'completed' ? ' (cancel requested)' : '')],
    ['attempts made', String(s.attemptsMade)],
    ['created at', s.createdAt ?? '-'],
    ['processed at', s.processedAt ?? '-'],
    ['finished at', s.finishedAt ?? '-'],
  ];
  if (s.progress !== null) rows.push(['progress', JSON.stringify(s.progress)]);
  if (s.failedReason) rows.push(['failed reason', s.failedReason]);
  if (s.result) {
    rows.push(['reason', s.result.reason], ['exit status', s.result.exitStatus === null ? '-' : String(s.result.exitStatus)]);
    rows.push(['exited at', s.result.exitedAt ?? '-']);
  }
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(w + 1)} ${v}`).join('\n') + '\n';
}
