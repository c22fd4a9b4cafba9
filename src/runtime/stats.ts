/** `runc events --stats` data (cgroup v1) normalized into TaskStats. Pure. */
import type { TaskStats } from './task.js';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** runc reports "no limit" as the largest int64 page-aligned value; normalize anything that large to 0. */
function limit(v: unknown): number {
  const n = num(v);
  return n >= 2 ** 62 ? 0 : n;
}

/** Normalizes runc's stats `data` object. Missing fields read as 0; a limit of 0 means unlimited. */
export function normalizeStats(id: string, raw: unknown, readAt = new Date().toISOString()): TaskStats {
  const d = obj(raw);
  const cpu = obj(d.cpu);
  const usage = obj(cpu.usage);
  const thr = obj(cpu.throttling);
  const mem = obj(d.memory);
  const mu = obj(mem.usage);
  const memRaw = obj(mem.raw);
  const pids = obj(d.pids);
  return {
    id,
    readAt,
    cpu: {
      usageNs: num(usage.total),
      userNs: num(usage.user),
      kernelNs: num(usage.kernel),
      throttledPeriods: num(thr.throttledPeriods),
      throttledTimeNs: num(thr.throttledTime),
    },
    memory: {
      usageBytes: num(mu.usage),
      maxUsageBytes: num(mu.max),
      limitBytes: limit(mu.limit),
      failcnt: num(mu.failcnt),
      rssBytes: num(memRaw.total_rss ?? memRaw.rss),
      cacheBytes: num(mem.cache ?? memRaw.total_cache ?? memRaw.cache),
    },
    pids: { current: num(pids.current), limit: limit(pids.limit) },
    raw,
  };
}
