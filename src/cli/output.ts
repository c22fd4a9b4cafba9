/** Output formatting of the CLI: plain-text tables for people, stable JSON shapes for scripts. Pure. */
import type { ErrorDetails } from '../errors.js';
import type { Exit, ProcessInfo, State, TaskStats, TaskSummary } from '../runtime/task.js';
import { formatBytes } from '../config/units.js';

/** Lays out rows as left-aligned columns separated by two spaces (the last column is not padded). */
export function formatTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return all.map(line).join('\n') + '\n';
}

/** The stable JSON shape of a task for `list --json` and `state --json`. */
export interface TaskJson {
  id: string;
  namespace: string;
  status: State['status'];
  pid: number;
  exitStatus: number | null;
  exitedAt: string | null;
  signal: string | null;
  reason: Exit['reason'] | null;
  createdAt: string;
  bundle: string;
  terminal: boolean;
  log: string;
  restoredFrom: string | null;
}

/** Converts a task's info and state into its stable JSON shape. */
export function taskJson(s: TaskSummary): TaskJson {
  const { info, state } = s;
  return {
    id: info.id,
    namespace: info.namespace,
    status: state.status,
    pid: state.pid,
    exitStatus: state.exit?.status ?? state.exitStatus ?? null,
    exitedAt: state.exit?.exitedAt ?? state.exitedAt ?? null,
    signal: state.exit?.signal ?? null,
    reason: state.exit?.reason ?? null,
    createdAt: info.createdAt,
    bundle: info.bundle,
    terminal: state.terminal,
    log: state.stdout,
    restoredFrom: info.restoredFrom ?? null,
  };
}

/** `stasis task list`: one row per task. */
export function formatTaskList(tasks: TaskSummary[]): string {
  const rows = tasks.map((t) => {
    const j = taskJson(t);
    const pid = j.pid && j.status !== 'stopped' ? String(j.pid) : '-';
    return [j.id, j.status, pid, exitText(j), j.createdAt];
  });
  return formatTable(['ID', 'STATUS', 'PID', 'EXIT', 'CREATED'], rows);
}

function exitText(j: Pick<TaskJson, 'exitStatus' | 'signal' | 'reason' | 'status'>): string {
  if (j.status !== 'stopped' && j.status !== 'deleted') return '-';
  if (j.exitStatus === null) return '-';
  const why = [j.signal, j.reason && j.reason !== 'exited' ? j.reason : null].filter(Boolean).join(', ');
  return why ? `${j.exitStatus} (${why})` : String(j.exitStatus);
}

/** `stasis task state`: `key: value` lines. */
export function formatTaskState(t: TaskSummary): string {
  const j = taskJson(t);
  const lines: [string, string][] = [
    ['id', j.id],
    ['namespace', j.namespace],
    ['status', j.status],
    ['pid', j.pid ? String(j.pid) : '-'],
  ];
  if (j.status === 'stopped') {
    lines.push(['exit', exitText(j)], ['exited at', j.exitedAt ?? '-']);
  }
  lines.push(['created', j.createdAt], ['bundle', j.bundle], ['log', j.log], ['terminal', String(j.terminal)]);
  if (j.restoredFrom) lines.push(['restored from', j.restoredFrom]);
  return formatKeyValues(lines);
}

/** Aligned `key: value` lines. */
export function formatKeyValues(lines: [string, string][]): string {
  const w = Math.max(...lines.map(([k]) => k.length)) + 1;
  return lines.map(([k, v]) => `${`${k}:`.padEnd(w)} ${v}`).join('\n') + '\n';
}

/** The stable JSON shape of `wait --json`. */
export interface ExitJson {
  exitStatus: number;
  exitedAt: string;
  signal: string | null;
  reason: Exit['reason'];
  pid: number;
}

/** Converts an Exit into its stable JSON shape. */
export function exitJson(e: Exit): ExitJson {
  return { exitStatus: e.status, exitedAt: e.exitedAt, signal: e.signal, reason: e.reason, pid: e.pid };
}

/** One line describing an exit: `exit status 137 (SIGKILL) at 2026-…`. */
export function formatExit(e: Exit): string {
  const why = [e.signal, e.reason !== 'exited' ? e.reason : null].filter(Boolean).join(', ');
  return `exit status ${e.status}${why ? ` (${why})` : ''} at ${e.exitedAt}\n`;
}

/** `stasis task ps`: one row per process. */
export function formatProcesses(ps: ProcessInfo[]): string {
  const rows = ps.map((p) => [
    String(p.pid),
    String(p.info.ppid),
    p.info.state,
    formatBytes(p.info.rssBytes),
    `${(p.info.cpuMs / 1000).toFixed(2)}s`,
    p.info.execId ?? '-',
    p.info.args.length ? p.info.args.join(' ') : p.info.comm,
  ]);
  return formatTable(['PID', 'PPID', 'STATE', 'RSS', 'CPU', 'EXEC', 'COMMAND'], rows);
}

/** `stasis task stats`: the normalized numbers, one per line. */
export function formatStats(s: TaskStats): string {
  const limit = (n: number) => (n > 0 && n < 2 ** 62 ? formatBytes(n) : 'unlimited');
  return formatKeyValues([
    ['cpu', `${(s.cpu.usageNs / 1e9).toFixed(3)}s (user ${(s.cpu.userNs / 1e9).toFixed(3)}s, kernel ${(s.cpu.kernelNs / 1e9).toFixed(3)}s)`],
    ['throttled', `${s.cpu.throttledPeriods} periods, ${(s.cpu.throttledTimeNs / 1e9).toFixed(3)}s`],
    ['memory', `${formatBytes(s.memory.usageBytes)} of ${limit(s.memory.limitBytes)} (max ${formatBytes(s.memory.maxUsageBytes)}, failcnt ${s.memory.failcnt})`],
    ['rss/cache', `${formatBytes(s.memory.rssBytes)} / ${formatBytes(s.memory.cacheBytes)}`],
    ['pids', `${s.pids.current} of ${s.pids.limit > 0 ? s.pids.limit : 'unlimited'}`],
    ['read at', s.readAt],
  ]);
}

/** The lines printed for a failed command: `stasis: <message>` plus the useful details. */
export function formatError(message: string, details: ErrorDetails = {}): string {
  const out = [`stasis: ${message}`];
  if (details.runtimeError) out.push(`  runtime error: ${details.runtimeError}`);
  if (details.criuLog) out.push(`  CRIU log: ${details.criuLog}`);
  if (details.argv && details.argv.length) out.push(`  command: ${details.argv.join(' ')}`);
  if (details.exitCode !== undefined && details.exitCode !== null) out.push(`  exit code: ${String(details.exitCode)}`);
  return out.join('\n') + '\n';
}

/** Serialises a value as one line of JSON (scripts read one JSON document per command). */
export function jsonLine(v: unknown): string {
  return JSON.stringify(v) + '\n';
}

/** A writable the CLI prints to (process.stdout, or a test's stream). */
export interface Drainable {
  write(chunk: string | Uint8Array, cb?: (err?: Error | null) => void): boolean;
  once?(event: 'drain', listener: () => void): unknown;
  writableNeedDrain?: boolean;
}

/** Resolves once `out` can take more (after a write returned false). */
export function waitDrain(out: Drainable): Promise<void> {
  if (!out.once || out.writableNeedDrain === false) return Promise.resolve();
  return new Promise((resolve) => out.once!('drain', resolve));
}

/** Resolves once everything written to `out` so far has been handed to the OS (a pipe's reader may be slow). */
export function flushed(out: Drainable): Promise<void> {
  return new Promise((resolve) => {
    try {
      out.write('', () => resolve());
    } catch {
      resolve();
    }
  });
}
