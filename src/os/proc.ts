/**
 * Processes as Linux shows them in /proc, and pid files: the one place that parses /proc/PID/stat,
 * tells a live process from a zombie, lists a process' children and reads a pid file. Parsing is pure.
 */
import fs from './local-fs.js';

/** Fields of /proc/PID/stat that stasis uses. */
export interface ProcStat {
  comm: string;
  /** One letter: R, S, D, Z, T, X… */
  state: string;
  ppid: number;
  /** user / system CPU time in clock ticks. */
  utime: number;
  stime: number;
  /** Start time after boot in clock ticks (field 22), as text: a pid's identity with it. */
  startTime: string;
}

/** Parses /proc/PID/stat; comm may contain spaces and parentheses, so split at the last ')'. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).trim().split(/\s+/);
  // rest[0] = state (field 3), rest[1] = ppid (4), rest[11] = utime (14), rest[12] = stime (15), rest[19] = starttime (22)
  if (rest.length < 20) return undefined;
  return {
    comm: text.slice(open + 1, close),
    state: rest[0]!,
    ppid: Number(rest[1]),
    utime: Number(rest[11]),
    stime: Number(rest[12]),
    startTime: rest[19]!,
  };
}

/** /proc/PID/stat of a process, or undefined when it is gone. */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  const text = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseProcStat(text);
}

/** True for a state letter of a process that has exited (a zombie waiting to be reaped, or dead). */
export function isExitedState(state: string): boolean {
  return state === 'Z' || state === 'X';
}

/** True while `pid` runs (a zombie counts as gone). */
export async function processRunning(pid: number): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const st = await readProcStat(pid);
  return st !== undefined && !isExitedState(st.state);
}

/** The pids whose parent is `pid` (every thread's children). */
export async function childrenOf(pid: number): Promise<number[]> {
  const tasks = await fs.readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const out = new Set<number>();
  for (const t of tasks) {
    const text = await fs.readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '');
    for (const c of text.trim().split(/\s+/).filter(Boolean)) out.add(Number(c));
  }
  return [...out];
}

/** `pid` and all its descendants, parents first. */
export async function processTree(pid: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (out.includes(p)) continue;
    out.push(p);
    queue.push(...(await childrenOf(p)));
  }
  return out;
}

/** SIGKILLs `pid` and its descendants (children first listed, then killed together). No error for gone ones. */
export async function killTree(pid: number): Promise<number[]> {
  const tree = await processTree(pid);
  for (const p of tree) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return tree;
}

/** SIGKILLs `pid`, a spawned child not yet reaped (so the pid cannot have been reused); no error when it is gone. */
export function killSpawned(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Reads a pid file (conmon writes it without a newline); null when missing or not a pid. */
export async function readPidFile(file: string): Promise<number | null> {
  const n = parseInt((await fs.readFile(file, 'utf8').catch(() => '')).trim(), 10);
  return Number.isInteger(n) && n > 0 ? n : null;
}
