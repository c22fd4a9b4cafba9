/**
 * stasis side of the checkpoint/restore groups: the same memory holder as a stasis task
 * (TaskManager.create + start: overlay, conmon, runc). Each repetition is Task.checkpoint (marker,
 * `runc checkpoint`, config.json, rootfs-diff.tar, checkpoint.json, conmon's exit record) then
 * TaskManager.restore under a new id (checks, fresh overlay with the diff applied, conmon running
 * `runc restore`: the one a runner thread keeps ready); the restored task is the next one
 * checkpointed, the stopped one is deleted.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadRuntimeConfig, runtimePaths } from '../src/config/load.js';
import { Runc } from '../src/runc/runc.js';
import { removeEmptyCgroupParents } from '../src/runtime/cgroups.js';
import { parseMountinfo, unmountOverlay } from '../src/sandbox/rootfs.js';
import { mountRunDir } from '../src/runtime/run-dir.js';
import { openTaskManager } from '../src/runtime/task-manager.js';
import type { Task, TaskManager } from '../src/runtime/task.js';
import { criuLogMs, dirBytes, memoryHolderArgs, memoryHolderLimits, waitForAnon } from './ckpt-workload.js';
import type { CkptSample, CkptSide } from './raw-criu.js';
import type { BenchContext } from './scenario.js';

/** Force-removes whatever a stasis state dir of the bench still holds: containers, overlay mounts, empty cgroups. */
export async function sweepStateDir(stateDir: string, runcBinary: string): Promise<void> {
  const runc = new Runc({ binary: runcBinary, root: runtimePaths({ stateDir }).runcRoot });
  for (const c of await runc.list().catch(() => [])) await runc.delete(c.id, true).catch(() => undefined);
  // Whatever a node left mounted under its state dir (overlays, writable layers), deepest first.
  const root = `${path.resolve(stateDir)}/`;
  const mounted = parseMountinfo(await fs.readFile('/proc/self/mountinfo', 'utf8'))
    .map((e) => e.mountPoint)
    .filter((m) => m.startsWith(root))
    .sort((a, b) => b.length - a.length);
  for (const m of mounted) await unmountOverlay(m);
  await removeEmptyCgroupParents(stateDir).catch(() => 0);
}

/** The stasis side for `mib` MiB. */
export class StasisCheckpointSide implements CkptSide {
  private readonly stateDir: string;
  private readonly images: string;
  private readonly tag: string;
  private tm: TaskManager | undefined;
  private task: Task | undefined;

  constructor(
    private readonly ctx: BenchContext,
    private readonly mib: number,
  ) {
    this.tag = `sc${mib}-${randomUUID().slice(0, 6)}`;
    this.stateDir = path.join(ctx.workDir, 'stasis-ckpt', this.tag);
    this.images = path.join(this.stateDir, 'images');
  }

  /** The CRIU binary stasis uses (the baseline must use the same one). */
  static criu(): string {
    return loadRuntimeConfig({}).criu;
  }

  async start(): Promise<void> {
    this.ctx.defer(() => this.close());
    // As a runner's worker thread opens it (src/pool/worker/handle.ts): a monitor kept ready for restores,
    // and on a run dir of its own on a tmpfs, as a runner mounts it (src/runtime/run-dir.ts).
    if (loadRuntimeConfig({}).runTmpfs) await mountRunDir(this.stateDir);
    this.tm = await openTaskManager({ stateDir: this.stateDir, runc: this.ctx.runc }, { readyRestores: 1 });
    this.task = await this.tm.create({
      id: `${this.tag}-0`,
      rootfs: this.ctx.rootfs,
      process: { args: memoryHolderArgs(this.mib) },
      limits: memoryHolderLimits(this.mib),
    });
    await this.task.start();
    await waitForAnon(() => this.pids(), this.mib);
  }

  private async pids(): Promise<number[]> {
    return (await this.task!.pids()).map((p) => p.pid);
  }

  async rep(i: number): Promise<CkptSample> {
    const old = this.task!;
    const dir = path.join(this.images, String(i));
    const t0 = performance.now();
    const ck = await old.checkpoint(dir);
    const checkpointMs = performance.now() - t0;
    const t1 = performance.now();
    this.task = await this.tm!.restore({ id: `${this.tag}-${i + 1}`, from: dir });
    const restoreMs = performance.now() - t1;
    const sample: CkptSample = {
      checkpointMs,
      restoreMs,
      runcCheckpointMs: ck.dumpMs,
      criuDumpMs: await criuLogMs(ck.criuLog),
      criuRestoreMs: await criuLogMs(path.join(this.task.info.bundle, 'restore.log')),
      imageBytes: await dirBytes(dir),
    };
    await waitForAnon(() => this.pids(), this.mib, 10_000);
    await old.delete();
    await fs.rm(dir, { recursive: true, force: true });
    return sample;
  }

  async close(): Promise<void> {
    const t = this.task;
    this.task = undefined;
    if (t) {
      await t.kill('KILL', { all: true }).catch(() => undefined);
      await t.wait(AbortSignal.timeout(10_000)).catch(() => undefined);
      await t.delete().catch(() => undefined);
    }
    // Its ready monitor: whatever a failed close leaves, the sweep below removes.
    await this.tm?.close().catch(() => undefined);
    await sweepStateDir(this.stateDir, this.ctx.runc);
    await fs.rm(this.stateDir, { recursive: true, force: true });
  }
}
