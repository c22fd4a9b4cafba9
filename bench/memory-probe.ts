/**
 * Where a running container's memory is, read from /proc and the cgroup files: a process' Pss, a
 * cgroup's usage and the kernel's part of it, and the kernel's own unreclaimable memory. For the
 * bench's "memory outside each running task" rows (bench/memory.ts).
 */
import fs from 'node:fs/promises';

const KIB = 1024;

/** Proportional set size of `pid` in bytes (shared pages split among their users); 0 when gone. */
export async function pss(pid: number): Promise<number> {
  const text = await fs.readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * KIB;
}

/** Sum of pss() over `pids`. */
export async function pssOf(pids: number[]): Promise<number> {
  let sum = 0;
  for (const p of pids) sum += await pss(p);
  return sum;
}

/** The kernel's unreclaimable memory in bytes: unreclaimable slab, page tables, kernel stacks, per-CPU areas. */
export async function kernelMemory(): Promise<number> {
  const text = await fs.readFile('/proc/meminfo', 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * KIB;
  return field('SUnreclaim') + field('PageTables') + field('KernelStack') + field('Percpu');
}

/** A memory cgroup's charge: all of it, and the kernel's part (slab, stacks, page tables of its processes). */
export interface CgroupMemory {
  usage: number;
  kernel: number;
}

/** The memory cgroup of `pid` (cgroup v2, or v1's memory hierarchy), or undefined when it is gone. */
export async function cgroupMemoryOf(pid: number): Promise<CgroupMemory | undefined> {
  const text = await fs.readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
  const v1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(text)?.[1];
  if (v1 !== undefined) {
    const dir = `/sys/fs/cgroup/memory${v1}`;
    const read = async (f: string) => Number((await fs.readFile(`${dir}/${f}`, 'utf8').catch(() => '0')).trim());
    return { usage: await read('memory.usage_in_bytes'), kernel: await read('memory.kmem.usage_in_bytes') };
  }
  const v2 = /^0::(.*)$/m.exec(text)?.[1];
  if (v2 === undefined) return undefined;
  const dir = `/sys/fs/cgroup${v2}`;
  const usage = Number((await fs.readFile(`${dir}/memory.current`, 'utf8').catch(() => '0')).trim());
  const stat = await fs.readFile(`${dir}/memory.stat`, 'utf8').catch(() => '');
  const field = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(stat)?.[1] ?? 0);
  // `kernel` (Linux 5.18+) is the sum of the others.
  const kernel = field('kernel') || field('kernel_stack') + field('pagetables') + field('percpu') + field('sock') + field('slab');
  return { usage, kernel };
}

/** Sums cgroupMemoryOf() over one pid per container (each container has a cgroup of its own). */
export async function containersMemory(pids: number[]): Promise<CgroupMemory> {
  const sum = { usage: 0, kernel: 0 };
  for (const p of pids) {
    const m = await cgroupMemoryOf(p);
    if (!m) throw new Error(`no memory cgroup for container process ${p} (it exited?)`);
    sum.usage += m.usage;
    sum.kernel += m.kernel;
  }
  return sum;
}

/** Pids of processes named `comm` whose command line contains `needle`. */
export async function findProcesses(comm: string, needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const d of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const name = (await fs.readFile(`/proc/${d}/comm`, 'utf8').catch(() => '')).trim();
    if (name !== comm) continue;
    const cmd = await fs.readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) out.push(Number(d));
  }
  return out;
}

/** MiB, for a measurement. */
export function mib(bytes: number): number {
  return bytes / KIB / KIB;
}
