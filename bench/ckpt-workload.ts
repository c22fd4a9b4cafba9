/**
 * What the checkpoint/restore and migration scenarios share: the busybox processes they checkpoint
 * (one holding N MiB of dirty anonymous memory, one counting on stdout), how to wait until the
 * memory is really there (RssAnon in /proc), image sizes, CRIU's own time from its log, medians.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Limits } from '../src/sandbox/types.js';

const MiB = 1024 * 1024;

/** Sizes of the checkpoint/restore groups (MiB of dirty memory). */
export const CKPT_SIZES_MIB = [16, 256, 1024] as const;

/**
 * A process tree that holds `mib` MiB of dirty anonymous memory and then sleeps, with busybox only:
 * busybox `tail -c N` keeps the last N bytes of its input in a heap buffer, and its input never
 * ends (the writer execs `sleep` after N bytes of 'a'), so tail sits on N MiB of written pages
 * (measured: RssAnon = N MiB + ~60 KiB; the sh and sleep add ~100 KiB each).
 */
export function memoryHolderArgs(mib: number): string[] {
  const n = mib * MiB;
  return ['sh', '-c', `{ head -c ${n} /dev/zero | tr '\\000' a; exec sleep 2147483647; } | tail -c ${n}`];
}

/** Limits of the memory holder: room for its N MiB plus its shell, and a pids cap. */
export function memoryHolderLimits(mib: number): Limits {
  return { memoryBytes: (mib + Math.ceil(mib / 8) + 64) * MiB, pids: 64 };
}

const COUNT = 'i=0; while :; do echo $i; i=$((i+1)); usleep 5000; done';
// The wall clock (CLOCK_REALTIME) from adjtimex(2): CRIU 4 restores a process into a new time
// namespace whose offsets hide the downtime from CLOCK_MONOTONIC/BOOTTIME (/proc/uptime included).
// The status goes with it: with STA_NANO set (the host's time sync may set it) tv_usec holds ns.
const STAMPED_COUNT = "i=0; while [ $i -lt 1000000 ]; do echo $i $(adjtimex | grep -E '^ *(status|time[.]tv_)'); i=$((i+1)); usleep 5000; done";

/** adjtimex' status bit that says its time.tv_usec holds nanoseconds. */
const STA_NANO = 0x2000;

/** A stamped counter line: the count and the wall clock (ms since the epoch) when the job wrote it. */
export interface Stamp {
  n: number;
  at: number;
}

/**
 * Reads one line of the stamped counter, `N status: S (…) time.tv_sec: T time.tv_usec: U`; U is
 * in ns when S has STA_NANO. A line without a status (older stamps) reads U as µs.
 */
export function parseStamp(line: string): Stamp | undefined {
  const m = /^(\d+)(?: status: (\d+)[^\n]*?)? time\.tv_sec: (\d+) time\.tv_usec: (\d+)/.exec(line);
  if (!m) return undefined;
  const nano = m[2] !== undefined && (Number(m[2]) & STA_NANO) !== 0;
  return { n: Number(m[1]), at: Number(m[3]) * 1000 + Number(m[4]) / (nano ? 1e6 : 1e3) };
}

/** The migration workload: how much memory to hold next to the counter, and whether lines carry the time. */
export interface CounterOptions {
  /** MiB held by the memory holder of memoryHolderArgs, in the same container (default 0: none). */
  mib?: number;
  /** Print `N status: S (…) time.tv_sec: T time.tv_usec: U` (the wall clock when the job wrote the line; parseStamp) instead of `N`. */
  stamped?: boolean;
}

/** A counter printing one increasing number per line every ~5 ms, optionally next to N MiB of dirty memory. */
export function counterArgs(o: CounterOptions = {}): string[] {
  const count = o.stamped ? STAMPED_COUNT : COUNT;
  if (!o.mib || o.mib <= 0) return ['sh', '-c', count];
  const n = o.mib * MiB;
  return ['sh', '-c', `{ head -c ${n} /dev/zero | tr '\\000' a; exec sleep 2147483647; } | tail -c ${n} & ${count}`];
}

/** Sum of RssAnon (bytes) of `pids` from /proc; processes that vanished count 0. */
export async function anonBytes(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const text = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const m = /^RssAnon:\s+(\d+) kB/m.exec(text);
    if (m) total += Number(m[1]) * 1024;
  }
  return total;
}

/** Polls the container's processes until they hold at least `mib` MiB anonymous; returns the bytes seen. */
export async function waitForAnon(listPids: () => Promise<number[]>, mib: number, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const bytes = await anonBytes(await listPids());
    if (bytes >= mib * MiB) return bytes;
    if (Date.now() > deadline) throw new Error(`the memory holder reached only ${(bytes / MiB).toFixed(1)} of ${mib} MiB anonymous memory`);
    await sleep(100);
  }
}

/** Total size in bytes of the regular files under `dir`. */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else if (e.isFile()) total += (await fs.stat(p)).size;
  }
  return total;
}

/** CRIU's own duration (ms) of a dump or restore: the last `(SS.uuuuuu)` timestamp of its log; NaN when unreadable. */
export async function criuLogMs(logFile: string): Promise<number> {
  const text = await fs.readFile(logFile, 'utf8').catch(() => '');
  const all = [...text.matchAll(/^\((\d+\.\d+)\)/gm)];
  const last = all[all.length - 1];
  return last ? Number(last[1]) * 1000 : NaN;
}

/** Median of `xs` (mean of the two middle values for an even count); NaN for none. */
export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Bytes as MiB. */
export function toMiB(bytes: number): number {
  return bytes / MiB;
}
