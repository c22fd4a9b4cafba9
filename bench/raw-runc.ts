/**
 * Baseline: raw `runc run` of a busybox `true` container (no monitor, no overlay, no queue), with
 * a private runc root. N sequential runs for latency, then `parallel` runners for containers/s.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { globalArgs } from '../src/runc/args.js';
import { Runc } from '../src/runc/runc.js';
import { rawSpec } from './raw-spec.js';
import { latencyMeasurements, type ScenarioResult } from './report.js';
import type { BenchContext, Scenario } from './scenario.js';

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

/** The raw runc scenario. */
export const rawRunc: Scenario = {
  name: 'raw runc run',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const tag = `b${randomUUID().slice(0, 6)}`;
    const root = path.join(ctx.runDir, 'runc-root');
    const bundles = [0, 1, 2, 3].slice(0, Math.max(1, ctx.parallel)).map((i) => path.join(ctx.workDir, `bundle-${i}`));
    await fs.mkdir(root, { recursive: true });
    for (const [i, b] of bundles.entries()) await writeBundle(b, ctx.rootfs, i, tag);
    const runcApi = new Runc({ binary: ctx.runc, root });
    ctx.defer(async () => {
      for (const c of await runcApi.list().catch(() => [])) await runcApi.delete(c.id, true).catch(() => undefined);
    });
    let n = 0;
    // Warm-up (page cache, cgroup hierarchy).
    for (let i = 0; i < 3; i++) await runOnce(ctx.runc, root, bundles[0]!, `${tag}-w${i}`);
    const seq: number[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      seq.push(await runOnce(ctx.runc, root, bundles[0]!, `${tag}-s${n++}`));
      ctx.progress.tick('raw runc, sequential', i + 1, ctx.runs);
    }
    const par: number[] = [];
    let started = 0;
    const t0 = performance.now();
    await Promise.all(
      bundles.map(async (b) => {
        while (started < ctx.throughputRuns) {
          started++;
          par.push(await runOnce(ctx.runc, root, b, `${tag}-p${n++}`));
          ctx.progress.tick(`raw runc, ${ctx.parallel} in parallel`, par.length, ctx.throughputRuns);
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    return {
      scenario: 'raw runc run',
      group: 'true container',
      kind: 'baseline',
      measurements: [
        ...latencyMeasurements(seq, '`true`'),
        {
          metric: 'throughput',
          label: `throughput, ${ctx.parallel} in parallel`,
          unit: '/s',
          value: par.length / elapsed,
          better: 'higher',
        },
      ],
      samples: { sequential: seq, parallel: par },
      notes: [`runc ${ctx.runc} --root ${root} run (bundle on the shared busybox rootfs, read-only, no monitor)`],
    };
  },
};
