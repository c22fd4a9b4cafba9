/**
 * Baseline of the checkpoint/restore groups: raw runc + CRIU on the same kind of bundle stasis
 * uses (the spec from src/sandbox/spec.ts, an overlay over the shared busybox rootfs, the same
 * limits), with a private runc root and no monitor. `runc run -d` starts the memory holder with
 * /dev/null stdio; each repetition is `runc checkpoint` then `runc restore -d` of the same id into
 * the same bundle (the overlay stays mounted, so no rootfs step), timed from spawn to exit.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { Runc } from '../src/runc/runc.js';
import { mountOverlay, unmountOverlay } from '../src/sandbox/rootfs.js';
import { rawSpec } from './raw-spec.js';
import { criuLogMs, dirBytes, memoryHolderArgs, memoryHolderLimits, waitForAnon } from './ckpt-workload.js';
import type { BenchContext } from './scenario.js';

/** One checkpoint + restore repetition of one side. */
export interface CkptSample {
  checkpointMs: number;
  restoreMs: number;
  /** `runc checkpoint` alone (equal to checkpointMs for the raw side). */
  runcCheckpointMs: number;
  /** CRIU's own dump / restore time from its logs. */
  criuDumpMs: number;
  criuRestoreMs: number;
  /** Everything the checkpoint wrote (CRIU images, plus stasis' spec, rootfs diff and metadata). */
  imageBytes: number;
}

/** One side (raw or stasis) of a checkpoint/restore group: a memory holder checkpointed and restored in a chain. */
export interface CkptSide {
  /** Starts the memory holder and waits until it holds its memory. */
  start(): Promise<void>;
  /** Checkpoints the current container, restores it, checks the memory is back; the restored one is the next to checkpoint. */
  rep(i: number): Promise<CkptSample>;
  /** Removes every container, mount and file of this side. */
  close(): Promise<void>;
}

async function runRaw(runc: string, argv: string[], log: string): Promise<number> {
  const t0 = performance.now();
  const r = await execa(runc, ['--log', log, ...argv], { stdio: 'ignore', reject: false });
  const ms = performance.now() - t0;
  if (r.exitCode !== 0) {
    const text = await fs.readFile(log, 'utf8').catch(() => '');
    throw new Error(`runc ${argv.slice(4, 6).join(' ')} exited ${r.exitCode}: ${text.trim().split('\n').pop() ?? ''}`);
  }
  return ms;
}

/** The raw runc + CRIU side for `mib` MiB. */
export class RawCriuSide implements CkptSide {
  private readonly dir: string;
  private readonly root: string;
  private readonly bundle: string;
  private readonly id: string;
  private readonly g: string[];
  private readonly runcApi: Runc;

  constructor(
    private readonly ctx: BenchContext,
    private readonly mib: number,
    criu: string,
  ) {
    const tag = `rc${mib}-${randomUUID().slice(0, 6)}`;
    this.dir = path.join(ctx.workDir, 'raw-criu', tag);
    this.root = path.join(ctx.runDir, 'raw-criu');
    this.bundle = path.join(this.dir, 'bundle');
    this.id = tag;
    this.g = ['--root', this.root, '--criu', criu];
    this.runcApi = new Runc({ binary: ctx.runc, root: this.root, criu });
  }

  async start(): Promise<void> {
    await fs.mkdir(this.bundle, { recursive: true });
    await fs.mkdir(this.root, { recursive: true });
    this.ctx.defer(() => this.close());
    const spec = rawSpec({
      hostname: 'bench',
      args: memoryHolderArgs(this.mib),
      limits: memoryHolderLimits(this.mib),
      cgroupsPath: `/stasis-bench/${this.id}`,
    });
    await fs.writeFile(path.join(this.bundle, 'config.json'), JSON.stringify(spec));
    const overlay = path.join(this.dir, 'overlay');
    await mountOverlay({ lower: this.ctx.rootfs, upper: path.join(overlay, 'upper'), work: path.join(overlay, 'work'), target: path.join(this.bundle, 'rootfs') });
    await runRaw(this.ctx.runc, [...this.g, 'run', '-d', '--bundle', this.bundle, this.id], path.join(this.dir, 'runc.log'));
    await waitForAnon(() => this.runcApi.ps(this.id), this.mib);
  }

  async rep(i: number): Promise<CkptSample> {
    const images = path.join(this.dir, `images-${i}`);
    const dumpWork = path.join(this.dir, `dump-work-${i}`);
    const restoreWork = path.join(this.dir, `restore-work-${i}`);
    for (const d of [images, dumpWork, restoreWork]) await fs.mkdir(d, { recursive: true });
    const log = path.join(this.dir, 'runc.log');
    const checkpointMs = await runRaw(this.ctx.runc, [...this.g, 'checkpoint', '--image-path', images, '--work-path', dumpWork, this.id], log);
    const restoreMs = await runRaw(
      this.ctx.runc,
      [...this.g, 'restore', '-d', '--image-path', images, '--work-path', restoreWork, '--bundle', this.bundle, this.id],
      log,
    );
    const sample: CkptSample = {
      checkpointMs,
      restoreMs,
      runcCheckpointMs: checkpointMs,
      criuDumpMs: await criuLogMs(path.join(dumpWork, 'dump.log')),
      criuRestoreMs: await criuLogMs(path.join(restoreWork, 'restore.log')),
      imageBytes: await dirBytes(images),
    };
    await waitForAnon(() => this.runcApi.ps(this.id), this.mib, 10_000);
    for (const d of [images, dumpWork, restoreWork]) await fs.rm(d, { recursive: true, force: true });
    return sample;
  }

  async close(): Promise<void> {
    for (const c of await this.runcApi.list().catch(() => [])) await this.runcApi.delete(c.id, true).catch(() => undefined);
    await unmountOverlay(path.join(this.bundle, 'rootfs')).catch(() => undefined);
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
