/**
 * Cold pull + unpack of a ~50 MB image (busybox plus five 10 MiB layers of random data) from a
 * registry on 127.0.0.1: through the node's image store (`ImageStore.ensure`: inspect, copy into
 * the shared layout, publish, `umoci raw unpack`) against raw `skopeo copy` + `umoci unpack` into a
 * private layout, in the same run. Each run starts from an empty store / directory; the two sides
 * alternate which goes first. Medians over `runs`.
 *
 * Without `ref`, it starts its own registry and builds the image with the test harness
 * (test/integration/image/registry.ts), and stops and removes both afterwards.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { ImageStore } from '../src/image/store.js';
import { buildTestImages, startRegistry } from '../test/integration/image/registry.js';
import { percentile, type ScenarioResult } from './report.js';
import type { BenchContext, Scenario } from './scenario.js';

/** Options of the image pull bench. */
export interface ImagePullBenchOptions {
  /** Scratch directory (stores and layouts are made and removed under it). */
  workDir: string;
  /** Measured runs per side (default 6), after one warm-up each. */
  runs?: number;
  /** A plain-HTTP registry reference of the image to pull; default: a local registry and image made here. */
  ref?: string;
  /** Called after each run. */
  onRun?: (done: number, total: number) => void;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Measures both sides; returns the baseline (raw tools) and the stasis result of group 'image pull'. */
export async function imagePullBench(o: ImagePullBenchOptions): Promise<ScenarioResult[]> {
  // Even: each side goes first in half of the runs.
  const runs = o.runs ?? 6;
  const cleanup: (() => Promise<void>)[] = [];
  try {
    let ref = o.ref;
    if (!ref) {
      const reg = await startRegistry();
      cleanup.push(() => reg.stop());
      const imgs = await buildTestImages(reg, { big: true });
      cleanup.push(() => fs.rm(imgs.work, { recursive: true, force: true }));
      ref = imgs.big!.ref;
    }
    const registry = ref.split('/')[0]!;
    const policy = { allowedRegistries: [registry], insecureRegistries: [registry] };
    let n = 0;
    const scratch = async () => fs.mkdtemp(path.join(o.workDir, `image-pull-${n++}-`));
    let sizeBytes = 0;
    const storeSide = async () => {
      const dir = await scratch();
      try {
        return await timed(async () => {
          const store = await ImageStore.open({ stateDir: dir });
          sizeBytes = (await store.ensure(ref!, { policy })).sizeBytes;
        });
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    };
    const rawSide = async (unpack: string[]) => {
      const dir = await scratch();
      try {
        return await timed(async () => {
          await execa('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${dir}/layout:img`]);
          await execa('umoci', [...unpack, '--image', `${dir}/layout:img`, `${dir}/bundle${unpack[0] === 'raw' ? '-rootfs' : ''}`]);
        });
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    };
    await storeSide();
    await rawSide(['unpack']);
    const store: number[] = [];
    const raw: number[] = [];
    const rawRootfsOnly: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        store.push(await storeSide());
        raw.push(await rawSide(['unpack']));
      } else {
        raw.push(await rawSide(['unpack']));
        store.push(await storeSide());
      }
      rawRootfsOnly.push(await rawSide(['raw', 'unpack']));
      o.onRun?.(i + 1, runs);
    }
    const mib = (sizeBytes / 1024 / 1024).toFixed(1);
    const m = (xs: number[]) => percentile(xs, 50);
    const measure = (xs: number[]) => [{ metric: 'image.pull.p50', label: `cold pull + unpack of a ${mib} MiB image, median`, unit: 'ms' as const, value: m(xs), better: 'lower' as const }];
    const notes = [
      `${runs} runs per side from a registry on ${registry}; each from an empty store/dir.`,
      `raw skopeo copy + umoci raw unpack (rootfs only, no mtree), for reference: median ${m(rawRootfsOnly).toFixed(0)} ms.`,
    ];
    return [
      { scenario: 'raw skopeo copy + umoci unpack', group: 'image pull', kind: 'baseline', measurements: measure(raw), samples: { pull: raw, rawRootfsOnly }, notes },
      { scenario: 'stasis ImageStore.ensure', group: 'image pull', kind: 'stasis', measurements: measure(store), samples: { pull: store }, notes },
    ];
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  }
}

/** The bench scenario (to be listed in bench/main.ts). */
export const imagePull: Scenario = {
  name: 'image pull',
  run: (ctx: BenchContext) =>
    imagePullBench({ workDir: ctx.workDir, runs: ctx.runs >= 6 ? 6 : 4, onRun: (d, t) => ctx.progress.tick('image pull', d, t) }),
};
