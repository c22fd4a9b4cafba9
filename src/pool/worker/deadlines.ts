/**
 * A task's deadlines inside the thread that owns it: the wall-clock deadline (first start + timeout,
 * so it holds across restores and restarts) and the CPU-time limit, watched on the task's cgroup.
 * Either one calls `onPass` once; the supervisor stops the task (TERM, grace, KILL).
 */
import type { Deadlines } from '../protocol.js';
import { readCgroupUsage } from './cgroup-usage.js';

/** How often CPU time is read when a CPU-time limit is set. */
export const CPU_POLL_MS = 200;

/** The wall-clock deadline (ISO 8601) of a run that started at `startedAt`, if it has a timeout. */
export function timeoutAt(d: Deadlines | undefined, startedAt: string): string | undefined {
  if (d?.timeoutSeconds === undefined) return undefined;
  return new Date(Date.parse(d.firstStartedAt ?? startedAt) + d.timeoutSeconds * 1000).toISOString();
}

/** Watches `d` for a task started at `startedAt`; returns a function that stops watching. */
export function watchDeadlines(d: Deadlines | undefined, startedAt: string, cgroupsPath: string | null, onPass: (what: 'timeout' | 'cpu-time') => void): () => void {
  const timers: NodeJS.Timeout[] = [];
  let fired = false;
  const pass = (what: 'timeout' | 'cpu-time') => {
    if (fired) return;
    fired = true;
    onPass(what);
  };
  const at = timeoutAt(d, startedAt);
  if (at !== undefined) {
    const left = Date.parse(at) - Date.now();
    // setTimeout takes at most 2^31-1 ms (the schema keeps timeouts below that).
    timers.push(setTimeout(() => pass('timeout'), Math.max(0, Math.min(left, 2 ** 31 - 1))));
  }
  if (d?.cpuTimeSeconds !== undefined && cgroupsPath) {
    const limitMs = d.cpuTimeSeconds * 1000;
    const poll = setInterval(() => {
      void readCgroupUsage(cgroupsPath).then((u) => {
        if (u && u.cpuMs >= limitMs) pass('cpu-time');
      });
    }, CPU_POLL_MS);
    timers.push(poll);
  }
  return () => {
    for (const t of timers) clearTimeout(t);
  };
}
