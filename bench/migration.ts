/**
 * Migration of a counting task between two nodes, at the runtime level: two TaskManagers with their
 * own state directories (node A, node B) and one shared checkpoint store, as two `stasis serve
 * --node-id` processes on one machine would have. A move is Task.checkpoint into a store allocation
 * (page files hashed while CRIU writes them), store.commit (the other digests, manifest),
 * startRestorable on the other node (compatibility; CRIU's input verified during the restore's own
 * preparation, the page contents once the restored task runs), TaskManager.restore there under the same
 * id; the stopped source task is deleted. Downtime = the
 * monitor's timestamp of the last line before → that of the first line after (conmon's k8s-file log).
 * Moves alternate A→B, B→A, … next to raw runc doing the same by hand (bench/raw-migration.ts).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { readHostInfo } from '../src/checkpoint/host-info.js';
import { openFsCheckpointStore, type FsCheckpointStore } from '../src/checkpoint/fs-store.js';
import { LivePageDigests } from '../src/checkpoint/live-digest.js';
import { startRestorable } from '../src/checkpoint/restorable.js';
import type { HostInfo } from '../src/checkpoint/manifest.js';
import { openTaskManager } from '../src/runtime/task-manager.js';
import type { Task, TaskManager } from '../src/runtime/task.js';
import { counterArgs, median, memoryHolderLimits, waitForAnon } from './ckpt-workload.js';
import { nowMs, parseLogTime, RawMigration, waitCountLines, type CountLine, type MigrationSample } from './raw-migration.js';
import type { Measurement, ScenarioResult } from './report.js';
import type { BenchContext, Scenario } from './scenario.js';
import { StasisCheckpointSide, sweepStateDir } from './stasis-checkpoint.js';
import { loadRuntimeConfig } from '../src/config/load.js';
import { mountRunDir } from '../src/runtime/run-dir.js';

async function countLines(task: Task): Promise<CountLine[]> {
  const out: CountLine[] = [];
  for await (const e of task.logs()) {
    const n = Number(e.data);
    if (e.stream === 'stdout' && !e.partial && e.data !== '' && Number.isInteger(n)) out.push({ n, at: parseLogTime(e.time) });
  }
  return out;
}

interface Node {
  name: string;
  stateDir: string;
  tm: TaskManager;
  store: FsCheckpointStore;
}

/** The stasis side: one counter moved between two task managers through a shared store. */
class StasisMigration {
  private readonly base: string;
  private readonly jobId = `mig-${randomUUID().slice(0, 8)}`;
  private nodes: Node[] = [];
  private host: HostInfo | undefined;
  private task: Task | undefined;
  private at = 0;

  constructor(
    private readonly ctx: BenchContext,
    private readonly mib: number,
  ) {
    this.base = path.join(ctx.workDir, 'stasis-migration');
  }

  async start(): Promise<void> {
    this.ctx.defer(() => this.close());
    const criu = StasisCheckpointSide.criu();
    for (const name of ['a', 'b']) {
      const stateDir = path.join(this.base, `node-${name}`);
      // As a runner's worker thread opens it (src/pool/worker/handle.ts): a monitor kept ready for
      // restores, and on a run dir of its own on a tmpfs, as a runner mounts it (src/runtime/run-dir.ts).
      if (loadRuntimeConfig({}).runTmpfs) await mountRunDir(stateDir);
      const tm = await openTaskManager({ stateDir, runc: this.ctx.runc }, { readyRestores: 1 });
      const store = await openFsCheckpointStore({ root: path.join(this.base, 'store'), nodeId: `bench-${name}`, criu, runc: this.ctx.runc });
      this.nodes.push({ name, stateDir, tm, store });
    }
    // A node reads its host facts once at start-up, not per restore.
    this.host = await readHostInfo({ criu, runc: this.ctx.runc });
    this.task = await this.nodes[0]!.tm.create({ id: this.jobId, rootfs: this.ctx.rootfs, process: { args: counterArgs({ mib: this.mib }) }, limits: memoryHolderLimits(this.mib) });
    await this.task.start();
    await waitCountLines(() => countLines(this.task!), 20);
    if (this.mib > 0) await waitForAnon(async () => (await this.task!.pids()).map((p) => p.pid), this.mib);
  }

  async migrate(): Promise<MigrationSample> {
    const src = this.nodes[this.at]!;
    const dst = this.nodes[1 - this.at]!;
    const old = this.task!;
    const steps: Record<string, number> = {};
    let t = nowMs();
    const t0 = t;
    const lap = (k: string) => {
      const now = nowMs();
      steps[k] = now - t;
      t = now;
    };
    const pending = await src.store.allocate(this.jobId);
    // As a node checkpoints: the page files hashed while CRIU writes them.
    const live = new LivePageDigests(pending.path);
    await old.checkpoint(pending.path).catch(async (e: unknown) => {
      await live.close();
      throw e;
    });
    lap('checkpoint');
    const ck = await src.store.commit(pending, { digests: await live.finish(), labels: { reason: 'migrate' } });
    lap('commit');
    // As a node restores: compatibility now, the digests verified while the task dir is laid out
    // (CRIU's input) and once the restored task runs (the page contents).
    const ok = await startRestorable(dst.store, { jobId: this.jobId, seq: ck.seq }, this.host!);
    lap('compatible');
    const next = await dst.tm.restore({ id: this.jobId, from: ok.checkpoint.path, gate: ok.parsed, release: ok.verified });
    lap('restore');
    const moveMs = nowMs() - t0;
    this.task = next;
    this.at = 1 - this.at;
    const before = await countLines(old);
    const after = await waitCountLines(() => countLines(next), 1);
    await old.delete();
    await dst.store.prune(this.jobId, 1);
    const last = before[before.length - 1]!;
    const first = after[0]!;
    return { downtimeMs: first.at - last.at, moveMs, lastBefore: last.n, firstAfter: first.n, steps };
  }

  async close(): Promise<void> {
    const t = this.task;
    this.task = undefined;
    if (t) {
      await t.kill('KILL', { all: true }).catch(() => undefined);
      await t.wait(AbortSignal.timeout(10_000)).catch(() => undefined);
      await t.delete().catch(() => undefined);
    }
    for (const n of this.nodes) {
      // Its ready monitors: whatever a failed close leaves, the sweep below removes.
      await n.tm.close().catch(() => undefined);
      await sweepStateDir(n.stateDir, this.ctx.runc);
    }
    this.nodes = [];
    await fs.rm(this.base, { recursive: true, force: true });
  }
}

function result(kind: 'baseline' | 'stasis', group: string, xs: MigrationSample[], notes: string[]): ScenarioResult {
  const ms = (metric: string, label: string, v: number): Measurement => ({ metric, label, unit: 'ms', value: v, better: 'lower' });
  const stepNames = [...new Set(xs.flatMap((x) => Object.keys(x.steps)))];
  const gaps = xs.filter((x) => x.firstAfter !== x.lastBefore + 1);
  return {
    scenario: kind === 'baseline' ? 'raw runc migration by hand' : 'stasis migration (runtime level)',
    group,
    kind,
    measurements: [
      ms('downtime', 'downtime: last line before → first after (median)', median(xs.map((x) => x.downtimeMs))),
      ms('downtime.max', 'downtime, worst', Math.max(...xs.map((x) => x.downtimeMs))),
      ms('move', 'checkpoint start → restored task running (median)', median(xs.map((x) => x.moveMs))),
      ...stepNames.map((k) => ms(`step.${k}`, `  step: ${k} (median)`, median(xs.map((x) => x.steps[k] ?? NaN)))),
    ],
    samples: {
      downtimeMs: xs.map((x) => x.downtimeMs),
      moveMs: xs.map((x) => x.moveMs),
      ...Object.fromEntries(stepNames.map((k) => [`step.${k}`, xs.map((x) => x.steps[k] ?? NaN)])),
    },
    notes: [
      ...notes,
      gaps.length === 0
        ? `the count continued after every move (first line after = last line before + 1, ${xs.length}/${xs.length})`
        : `count jumps after ${gaps.length} of ${xs.length} moves: ${gaps.map((g) => `${g.lastBefore}→${g.firstAfter}`).join(', ')}`,
    ],
  };
}

/** Builds the migration scenario. */
export function migration(o: { quick: boolean }): Scenario {
  return {
    name: 'migration between two nodes, raw runc + CRIU and stasis',
    async run(ctx: BenchContext): Promise<ScenarioResult[]> {
      const out: ScenarioResult[] = [];
      for (const mib of o.quick ? [0] : [0, 256]) {
        // Even: each side moves first in half of the repetitions (the order alternates).
        const reps = o.quick ? 4 : mib > 0 ? 6 : 8;
        const group = mib > 0 ? `migration (counter + ${mib} MiB)` : 'migration (counter)';
        out.push(...(await measure(ctx, mib, reps, group)));
      }
      return out;
    },
  };
}

/** Moves one workload `reps` times on each side, interleaved; returns the baseline and stasis results of `group`. */
async function measure(ctx: BenchContext, mib: number, reps: number, group: string): Promise<ScenarioResult[]> {
  const raw = new RawMigration(ctx, { mib });
  const st = new StasisMigration(ctx, mib);
  const rawXs: MigrationSample[] = [];
  const stXs: MigrationSample[] = [];
  try {
    await raw.start();
    await st.start();
    await raw.migrate(); // warm-up
    await st.migrate();
    for (let i = 1; i <= reps; i++) {
      if (i % 2) {
        rawXs.push(await raw.migrate());
        stXs.push(await st.migrate());
      } else {
        stXs.push(await st.migrate());
        rawXs.push(await raw.migrate());
      }
      ctx.progress.tick(group, i, reps);
    }
  } finally {
    await st.close();
    await raw.close();
  }
  return [
    result('baseline', group, rawXs, [
      `${reps} moves after a warm-up, alternating between two runc roots: runc checkpoint, upper layer tar → fresh overlay, conmon + runc restore under a new id; lines timestamped by conmon`,
    ]),
    result('stasis', group, stXs, [
      `${reps} moves after a warm-up, alternating A→B→A between two TaskManagers (own state dirs) sharing one checkpoint store: Task.checkpoint, store.commit, startRestorable, TaskManager.restore; lines timestamped by conmon`,
      'runtime level (no queue, no control channel): the steps of a migration timed one by one; `stasis job migrate` itself is the group "migration via the queue"',
    ]),
  ];
}
