/** Per-process details from /proc/PID (stat, cmdline, status) for Task.pids(). Parsing is pure. */
import fs from 'node:fs/promises';
import type { ProcessDetails } from './task.js';

/** Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on every Linux architecture in use). */
export const CLOCK_TICKS = 100;

import { parseProcStat, type ProcStat } from '../os/proc.js';

/** VmRSS of /proc/PID/status in bytes (0 for kernel threads and zombies). */
export function parseRssBytes(statusText: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(statusText);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Splits /proc/PID/cmdline (NUL-separated, NUL-terminated). */
export function parseCmdline(text: string): string[] {
  const parts = text.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Builds ProcessDetails from the three /proc texts. */
export function toDetails(stat: ProcStat, cmdline: string[], rssBytes: number, execId?: string): ProcessDetails {
  return {
    ppid: stat.ppid,
    state: stat.state,
    comm: stat.comm,
    args: cmdline,
    rssBytes,
    cpuMs: Math.round(((stat.utime + stat.stime) * 1000) / CLOCK_TICKS),
    ...(execId ? { execId } : {}),
  };
}

/** Reads the details of host pid `pid`; undefined when the process is gone. */
export async function readProcessDetails(pid: number, execId?: string): Promise<ProcessDetails | undefined> {
  const dir = `/proc/${pid}`;
  try {
    const [statText, cmd, status] = await Promise.all([
      fs.readFile(`${dir}/stat`, 'utf8'),
      fs.readFile(`${dir}/cmdline`, 'utf8'),
      fs.readFile(`${dir}/status`, 'utf8'),
    ]);
    const stat = parseProcStat(statText);
    return stat ? toDetails(stat, parseCmdline(cmd), parseRssBytes(status), execId) : undefined;
  } catch {
    return undefined;
  }
}
