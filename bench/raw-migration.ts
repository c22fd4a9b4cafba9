/**
 * Baseline of the migration group: the same counter moved by hand with conmon + raw runc + CRIU
 * between two "nodes" (two runc roots, two bundle directories), the way runtime-facts §2.3 and §7 did
 * it: `runc checkpoint`, the overlay's upper layer carried as a tar into a fresh overlay, the spec
 * copied with a new cgroup path, conmon running `runc restore` under a new id. conmon is there
 * because the counter's stdout must be a pipe CRIU can dump (Node's 'pipe' stdio are unix socket
 * pairs, which CRIU refuses), and it timestamps lines exactly as it does for stasis tasks.
 * No store, digests, task records or locks: that is what stasis adds.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { loadRuntimeConfig } from '../src/config/load.js';
import { launchMonitor } from '../src/monitor/launch.js';
import { readLog } from '../src/monitor/log.js';
import { Runc } from '../src/runc/runc.js';
import { applyRootfsDiff, mountOverlay, unmountOverlay, writeRootfsDiff } from '../src/sandbox/rootfs.js';
import { rawSpec } from './raw-spec.js';
import { counterArgs, memoryHolderLimits, parseStamp, waitForAnon, type CounterOptions } from './ckpt-workload.js';
import type { BenchContext } from './scenario.js';

/** One migration: when the last line before and the first line after were seen, and their counts. */
export interface MigrationSample {
  downtimeMs: number;
  /** Start of the checkpoint → the restored task is running (the command path, without waiting for output). */
  moveMs: number;
  lastBefore: number;
  firstAfter: number;
  /** Steps in ms (stasis: checkpoint, commit, verify, restore; raw: checkpoint, rootfs, restore). */
  steps: Record<string, number>;
}

/** A counter line: its number and when the monitor read it (ms since the epoch, sub-ms). */
export interface CountLine {
  n: number;
  at: number;
}

/** Wall clock in ms with sub-millisecond precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** ms since the epoch of conmon's RFC3339Nano timestamp, keeping the sub-millisecond digits. */
export function parseLogTime(t: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return NaN;
  const frac = m[2] ?? '';
  return Date.parse(`${m[1]}.${frac.slice(0, 3).padEnd(3, '0')}${m[3]}`) + (frac.length > 3 ? Number(`0.${frac.slice(3)}`) : 0);
}

/**
 * The counter lines of a conmon k8s-file log, timed by conmon's timestamp (when it read the line) or,
 * for the stamped counter, by the wall-clock time the job printed (when it wrote the line).
 */
export async function countLinesOf(log: string, stamped = false): Promise<CountLine[]> {
  const out: CountLine[] = [];
  for await (const e of readLog(log)) {
    if (e.stream !== 'stdout' || e.partial) continue;
    if (stamped) {
      const stamp = parseStamp(e.data);
      if (stamp) out.push(stamp);
    } else if (/^\d+$/.test(e.data)) out.push({ n: Number(e.data), at: parseLogTime(e.time) });
  }
  return out;
}

/** Polls a log until it holds `count` counter lines. */
export async function waitCountLines(read: () => Promise<CountLine[]>, count: number, timeoutMs = 20_000): Promise<CountLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = await read();
    if (lines.length >= count) return lines;
    if (Date.now() > deadline) throw new Error(`the counter printed ${lines.length} of ${count} lines`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Gen {
  dir: string;
  bundle: string;
  runDir: string;
  root: string;
  id: string;
}

/** The raw side: generations of one counter, each restored from the previous one's checkpoint. */
export class RawMigration {
  private readonly base: string;
  private readonly tag = `rm-${randomUUID().slice(0, 6)}`;
  private readonly cfg = loadRuntimeConfig({});
  private cur: Gen | undefined;
  private gen = 0;
  private readonly stamped: boolean;
  private readonly mib: number;

  constructor(
    private readonly ctx: BenchContext,
    private readonly workload: CounterOptions,
  ) {
    this.base = path.join(ctx.workDir, 'raw-migration');
    this.mib = workload.mib ?? 0;
    this.stamped = !!workload.stamped;
  }

  private async newGen(): Promise<Gen> {
    const n = this.gen++;
    const dir = path.join(this.base, `g${n}`);
    const g: Gen = {
      dir,
      bundle: path.join(dir, 'bundle'),
      runDir: path.join(this.ctx.runDir, 'raw-migration', `g${n}`),
      root: path.join(this.ctx.runDir, 'raw-migration', n % 2 ? 'runc-b' : 'runc-a'),
      id: `${this.tag}-${n}`,
    };
    for (const d of [g.bundle, g.runDir, g.root]) await fs.mkdir(d, { recursive: true });
    const spec = rawSpec({ hostname: 'bench', args: counterArgs(this.workload), limits: memoryHolderLimits(this.mib), cgroupsPath: `/stasis-bench/${g.id}` });
    await fs.writeFile(path.join(g.bundle, 'config.json'), JSON.stringify(spec));
    return g;
  }

  private overlay(g: Gen) {
    return { lower: this.ctx.rootfs, upper: path.join(g.dir, 'upper'), work: path.join(g.dir, 'work'), target: path.join(g.bundle, 'rootfs') };
  }

  private launch(g: Gen, restoreFrom?: string) {
    return launchMonitor({
      conmon: this.cfg.conmon,
      runc: this.ctx.runc,
      runcRoot: g.root,
      criu: this.cfg.criu,
      containerId: g.id,
      bundle: g.bundle,
      runDir: g.runDir,
      ...(restoreFrom ? { restoreFrom } : {}),
    });
  }

  /** Starts the counter on "node A" and waits for its first lines. */
  async start(): Promise<void> {
    this.ctx.defer(() => this.close());
    const g = await this.newGen();
    await mountOverlay(this.overlay(g));
    await this.launch(g);
    await execa(this.ctx.runc, ['--root', g.root, 'start', g.id]);
    this.cur = g;
    await waitCountLines(() => countLinesOf(path.join(g.runDir, 'ctr.log'), this.stamped), 20);
    if (this.mib > 0) await waitForAnon(() => new Runc({ binary: this.ctx.runc, root: g.root }).ps(g.id), this.mib);
  }

  /** Moves the counter to the other runc root and bundle. */
  async migrate(): Promise<MigrationSample> {
    const src = this.cur!;
    const dst = await this.newGen();
    const images = path.join(src.dir, 'images');
    const steps: Record<string, number> = {};
    let t = nowMs();
    const t0 = t;
    const lap = (k: string) => {
      const now = nowMs();
      steps[k] = now - t;
      t = now;
    };
    const log = path.join(src.dir, 'runc.log');
    const r = await execa(
      this.ctx.runc,
      ['--root', src.root, '--criu', this.cfg.criu, '--log', log, 'checkpoint', '--image-path', images, '--work-path', path.join(src.dir, 'dump'), src.id],
      { stdio: 'ignore', reject: false },
    );
    if (r.exitCode !== 0) throw new Error(`runc checkpoint ${src.id}: ${(await fs.readFile(log, 'utf8').catch(() => '')).trim().split('\n').pop() ?? ''}`);
    lap('checkpoint');
    const diff = path.join(src.dir, 'rootfs-diff.tar');
    await writeRootfsDiff(path.join(src.dir, 'upper'), diff);
    await applyRootfsDiff(diff, path.join(dst.dir, 'upper'));
    await mountOverlay(this.overlay(dst));
    lap('rootfs');
    await this.launch(dst, images);
    lap('restore');
    const moveMs = nowMs() - t0;
    this.cur = dst;
    const after = await waitCountLines(() => countLinesOf(path.join(dst.runDir, 'ctr.log'), this.stamped), this.stamped ? 2 : 1);
    // conmon of the source has flushed its log once it wrote the exit file.
    await waitFile(path.join(src.runDir, 'exit'));
    const before = await countLinesOf(path.join(src.runDir, 'ctr.log'), this.stamped);
    await this.removeGen(src);
    const last = before[before.length - 1]!;
    const first = after[0]!;
    return { downtimeMs: downtime(before, after, this.stamped), moveMs, lastBefore: last.n, firstAfter: first.n, steps };
  }

  private async removeGen(g: Gen): Promise<void> {
    await new Runc({ binary: this.ctx.runc, root: g.root }).delete(g.id, true).catch(() => undefined);
    await unmountOverlay(path.join(g.bundle, 'rootfs')).catch(() => undefined);
    await fs.rm(g.dir, { recursive: true, force: true });
    await fs.rm(g.runDir, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    const g = this.cur;
    this.cur = undefined;
    if (g) await this.removeGen(g);
    for (const root of ['runc-a', 'runc-b']) {
      const runc = new Runc({ binary: this.ctx.runc, root: path.join(this.ctx.runDir, 'raw-migration', root) });
      for (const c of await runc.list().catch(() => [])) await runc.delete(c.id, true).catch(() => undefined);
    }
    for (const e of await fs.readdir(this.base).catch(() => [] as string[])) {
      await unmountOverlay(path.join(this.base, e, 'bundle', 'rootfs')).catch(() => undefined);
    }
    await fs.rm(this.base, { recursive: true, force: true });
    await fs.rm(path.join(this.ctx.runDir, 'raw-migration'), { recursive: true, force: true });
  }
}

async function waitFile(file: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fs.stat(file).catch(() => null)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/**
 * Last line before → first line after. With job-written stamps the freeze may fall between reading
 * the clock and printing, so the line printed first after the restore can carry a stamp from before
 * the freeze; the freeze then shows as the largest gap between consecutive stamps around the move.
 */
function downtime(before: CountLine[], after: CountLine[], stamped: boolean): number {
  if (!stamped) return after[0]!.at - before[before.length - 1]!.at;
  const around = [...before.slice(-2), ...after.slice(0, 2)];
  return Math.max(...around.slice(1).map((l, i) => l.at - around[i]!.at));
}
