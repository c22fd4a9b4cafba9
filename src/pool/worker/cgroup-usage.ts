/**
 * CPU time and peak memory of a task's cgroup read straight from cgroupfs. Unlike `runc events
 * --stats`, this still works after the task's process exited (until `runc delete` removes the
 * cgroup), and it costs two file reads instead of a runc process.
 */
import fs from '../../os/local-fs.js';
import path from 'node:path';

/** CPU time and memory of a cgroup. */
export interface CgroupUsage {
  cpuMs: number;
  peakMemoryBytes: number;
  memoryBytes: number;
}

const ROOT = '/sys/fs/cgroup';

async function readNumber(file: string): Promise<number | null> {
  try {
    const n = Number((await fs.readFile(file, 'utf8')).trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

async function readV2(cgroupsPath: string): Promise<CgroupUsage | null> {
  const dir = path.join(ROOT, cgroupsPath);
  let stat: string;
  try {
    stat = await fs.readFile(path.join(dir, 'cpu.stat'), 'utf8');
  } catch {
    return null;
  }
  const usec = Number(/^usage_usec (\d+)/m.exec(stat)?.[1] ?? 0);
  const [peak, current] = await Promise.all([readNumber(path.join(dir, 'memory.peak')), readNumber(path.join(dir, 'memory.current'))]);
  return { cpuMs: usec / 1000, peakMemoryBytes: peak ?? current ?? 0, memoryBytes: current ?? 0 };
}

/** Reads a cgroup's usage (v1 first, then v2); null when the cgroup is gone or unreadable. */
export async function readCgroupUsage(cgroupsPath: string): Promise<CgroupUsage | null> {
  const [cpuNs, peak, current] = await Promise.all([
    readNumber(path.join(ROOT, 'cpuacct', cgroupsPath, 'cpuacct.usage')),
    readNumber(path.join(ROOT, 'memory', cgroupsPath, 'memory.max_usage_in_bytes')),
    readNumber(path.join(ROOT, 'memory', cgroupsPath, 'memory.usage_in_bytes')),
  ]);
  if (cpuNs === null && peak === null) return readV2(cgroupsPath);
  return { cpuMs: (cpuNs ?? 0) / 1e6, peakMemoryBytes: peak ?? 0, memoryBytes: current ?? 0 };
}

/** The larger of two samples, field by field (a later read after the cgroup emptied may read lower). */
export function maxUsage(a: CgroupUsage | null, b: CgroupUsage | null): CgroupUsage | null {
  if (!a) return b;
  if (!b) return a;
  return {
    cpuMs: Math.max(a.cpuMs, b.cpuMs),
    peakMemoryBytes: Math.max(a.peakMemoryBytes, b.peakMemoryBytes),
    memoryBytes: b.memoryBytes,
  };
}
