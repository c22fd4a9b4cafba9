/**
 * Baseline: raw `runc run` of a busybox `true` container (no monitor, no overlay, no queue), with
 * a private runc root, one bundle per lane (containers running at once need cgroups of their own).
 * true-container.ts measures it interleaved with the same `true` as a stasis job.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { globalArgs } from '../src/runc/args.js';
import { Runc } from '../src/runc/runc.js';
import { rawSpec } from './raw-spec.js';
import type { BenchContext } from './scenario.js';

/** Writes a bundle whose root is the shared rootfs, read-only, running `true`. */
async function writeBundle(dir: string, rootfs: string, slot: number, tag: string): Promise<void> {
  const spec = rawSpec({
    hostname: 'bench',
    args: ['/bin/true'],
    cgroupsPath: `/stasis-bench/${tag}-${slot}`,
    rootPath: rootfs,
  });
  spec.root.readonly = true;
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(spec));
}

/** Runs one container to completion; resolves to its wall time in ms. */
async function runOnce(runc: string, root: string, bundle: string, id: string): Promise<number> {
  const t0 = performance.now();
  const r = await execa(runc, [...globalArgs({ root }), 'run', '--bundle', bundle, id], { stdin: 'ignore', reject: false });
  const ms = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`runc run ${id} exited ${r.exitCode}: ${r.stderr.trim().split('\n').pop()}`);
  return ms;
}

/** The raw side of the `true` container group, set up and warmed up. */
export interface RawRunc {
  /** Runs one `true` container on `lane` (0 … parallel-1); resolves to its wall time in ms. */
  run(lane: number): Promise<number>;
  /** What was run, for the report's notes. */
  note: string;
}

/** Writes the bundles, registers their cleanup and warms up (page cache, cgroup hierarchy). */
export async function openRawRunc(ctx: BenchContext): Promise<RawRunc> {
  const tag = `b${randomUUID().slice(0, 6)}`;
  const root = path.join(ctx.runDir, 'runc-root');
  const bundles = Array.from({ length: Math.max(1, ctx.parallel) }, (_, i) => path.join(ctx.workDir, `bundle-${i}`));
  await fs.mkdir(root, { recursive: true });
  for (const [i, b] of bundles.entries()) await writeBundle(b, ctx.rootfs, i, tag);
  const runcApi = new Runc({ binary: ctx.runc, root });
  ctx.defer(async () => {
    for (const c of await runcApi.list().catch(() => [])) await runcApi.delete(c.id, true).catch(() => undefined);
  });
  let n = 0;
  const run = (lane: number) => runOnce(ctx.runc, root, bundles[lane]!, `${tag}-${n++}`);
  for (let i = 0; i < 3; i++) await run(0);
  return { run, note: `runc ${ctx.runc} --root ${root} run (bundle on the shared busybox rootfs, read-only, no monitor)` };
}
