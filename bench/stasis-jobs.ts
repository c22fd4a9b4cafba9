/**
 * stasis end to end: the same `true` container as a stasis job, measured from the producer's
 * `queue.add` until it sees the result (`job.waitUntilFinished` over QueueEvents). The runner node is
 * `stasis serve` in a child process (or in-process with --runner inprocess), concurrency = parallel,
 * on the embedded Redis under the bench's state directory.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Job, Queue, QueueEvents } from 'bullmq';
import { runtimePaths } from '../src/config/load.js';
import { Runc } from '../src/runc/runc.js';
import { openTaskManager } from '../src/runtime/task-manager.js';
import { resolveConnection } from '../src/queue/connection.js';
import { isJobResult } from '../src/queue/result.js';
import { startRunner, type Runner } from '../src/node/runner.js';
import { SERVE_WARM_POOL } from '../src/runtime/warm/serve-default.js';
import { latencyMeasurements, percentile, type Measurement, type ScenarioResult } from './report.js';
import type { BenchContext, Scenario } from './scenario.js';
import { startServeChild } from './serve-child.js';
import { freePort } from '../test/helpers/net.js';
import fs from 'node:fs/promises';
import { buildLayout } from '../test/integration/image/registry.js';

/** Where the runner node runs. */
export type RunnerMode = 'child' | 'inprocess';

/** Prepared-sandbox starts so far, as the node counts them: ready ones adopted, ones waited for, misses. */
type Counts = { hit: number; waited: number; miss: number };
type WarmCounts = () => Promise<Counts>;

/** Reads `stasis_warm_pool_starts_total` from a node's /metrics. */
async function scrapeWarm(url: string): Promise<Counts> {
  const text = await (await fetch(url)).text();
  const count = (result: string) => Number(new RegExp(`^stasis_warm_pool_starts_total\\{[^}]*result="${result}"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { hit: count('hit'), waited: count('waited'), miss: count('miss') };
}

/**
 * Between two counts: the share of jobs that adopted a prepared sandbox (ready, or being prepared
 * and waited for), and a note saying how many of each.
 */
function hitRate(a: Counts, b: Counts): { pct: number; text: string } {
  const hit = b.hit - a.hit;
  const waited = b.waited - a.waited;
  const all = hit + waited + (b.miss - a.miss);
  return { pct: all > 0 ? (100 * (hit + waited)) / all : NaN, text: `${hit} ready + ${waited} waited for, of ${all}` };
}

/** Builds the stasis scenario. */
export function stasisJobs(mode: RunnerMode): Scenario {
  return {
    name: 'stasis job end to end',
    async run(ctx: BenchContext): Promise<ScenarioResult[]> {
      const queueName = `bench-${randomUUID().slice(0, 8)}`;
      const conn = await resolveConnection({ env: {}, stateDir: ctx.stateDir });
      // Last resort after the runner has stopped: no container of this run may outlive it.
      const runc = new Runc({ binary: ctx.runc, root: runtimePaths({ stateDir: ctx.stateDir }).runcRoot });
      ctx.defer(async () => {
        for (const c of await runc.list().catch(() => [])) await runc.delete(c.id, true).catch(() => undefined);
      });
      // Before that: tasks the runner left (stopped before it deleted them) and prepared sandboxes, so
      // no overlay stays mounted under the scratch dir.
      ctx.defer(async () => {
        const tm = await openTaskManager({ stateDir: ctx.stateDir, runc: ctx.runc });
        for (const t of await tm.list().catch(() => [])) {
          const task = await tm.get(t.info.id, t.info.namespace).catch(() => null);
          await task?.kill('KILL', { all: true }).catch(() => undefined);
          await task?.wait(AbortSignal.timeout(5_000)).catch(() => undefined);
          await task?.delete().catch(() => undefined);
        }
        await tm.recover().catch(() => undefined);
      });
      ctx.defer(() => conn.release());
      const queue = new Queue(queueName, { connection: conn.options });
      const events = new QueueEvents(queueName, { connection: conn.options });
      ctx.defer(async () => {
        await events.close();
        await queue.close();
      });
      await events.waitUntilReady();

      let runner: Runner | null = null;
      let warmCounts: WarmCounts;
      // The same `true` from an OCI image (the busybox rootfs as one layer, in a layout the policy allows).
      const image = await busyboxImage(ctx);
      // Prepared sandboxes as `stasis serve` has them (STASIS_WARM_POOL=0 measures without).
      const warm = process.env.STASIS_WARM_POOL ?? String(SERVE_WARM_POOL);
      if (mode === 'inprocess') {
        const counts = { hit: 0, waited: 0, miss: 0 };
        warmCounts = async () => ({ ...counts });
        runner = await startRunner({
          connection: conn.options,
          runtime: { stateDir: ctx.stateDir, runc: ctx.runc, warmPool: Number(warm) },
          runner: { queue: queueName, concurrency: ctx.parallel, nodeId: 'bench' },
          env: { STASIS_POLICY: image.policy },
          events: (e) => {
            if (e.event === 'started' && e.warm) counts[e.warm]++;
          },
        });
        const r = runner;
        ctx.defer(() => r.close());
      } else {
        // Its /metrics counts prepared-sandbox hits (on a port the kernel just had free).
        const port = await freePort();
        warmCounts = () => scrapeWarm(`http://127.0.0.1:${port}/metrics`);
        await startServeChild(
          ctx,
          ['--state-dir', ctx.stateDir, '--queue', queueName, '--concurrency', String(ctx.parallel), '--node-id', 'bench', '--http', `127.0.0.1:${port}`],
          { STASIS_WARM_POOL: warm, STASIS_POLICY: image.policy },
          () => queue.getWorkersCount(),
        );
      }

      // Where the time of a sequential job goes (ms), from BullMQ's and the envelope's timestamps.
      const phases: Record<string, number[]> = { pickup: [], start: [], finish: [], notify: [] };
      // Jobs whose `true` did not exit 0 (a stasis bug worth seeing in the report, not a reason to stop).
      const bad: string[] = [];
      const one = async (breakdown = false, from: { image?: string } = {}): Promise<number> => {
        const t0 = performance.now();
        const added = Date.now();
        const job = await queue.add('bench', { command: ['/bin/true'], ...from });
        const rv: unknown = await job.waitUntilFinished(events, 60_000);
        const ms = performance.now() - t0;
        const seen = Date.now();
        if (!isJobResult(rv)) throw new Error(`bench job ${job.id} returned no result envelope: ${JSON.stringify(rv)}`);
        if (rv.exitStatus !== 0) bad.push(`${rv.reason}/${rv.exitStatus}`);
        const done = await Job.fromId(queue, job.id!);
        if (breakdown && done?.processedOn && done.finishedOn && rv.startedAt && rv.exitedAt) {
          phases.pickup!.push(done.processedOn - added);
          phases.start!.push(Date.parse(rv.startedAt) - done.processedOn);
          phases.finish!.push(done.finishedOn - Date.parse(rv.exitedAt));
          phases.notify!.push(seen - done.finishedOn);
        }
        await done?.remove().catch(() => undefined);
        return ms;
      };

      for (let i = 0; i < 3; i++) await one(); // warm-up: pool threads, rootfs, cgroups
      const seq: number[] = [];
      const w0 = await warmCounts();
      for (let i = 0; i < ctx.runs; i++) {
        seq.push(await one(true));
        ctx.progress.tick('stasis jobs, sequential', i + 1, ctx.runs);
      }
      const w1 = await warmCounts();
      const par: number[] = [];
      let started = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: ctx.parallel }, async () => {
          while (started < ctx.throughputRuns) {
            started++;
            par.push(await one());
            ctx.progress.tick(`stasis jobs, ${ctx.parallel} in parallel`, par.length, ctx.throughputRuns);
          }
        }),
      );
      const elapsed = (performance.now() - t0) / 1000;
      const w2 = await warmCounts();
      // Sequential again, from the image (pulled and unpacked by the warm-up), beside the same
      // sequential jobs on the directory rootfs, interleaved so both see the same machine.
      const dirSeq: number[] = [];
      const imgSeq: number[] = [];
      for (let i = 0; i < 3; i++) await one(false, { image: image.ref });
      for (let i = 0; i < ctx.runs; i++) {
        dirSeq.push(await one());
        imgSeq.push(await one(false, { image: image.ref }));
        ctx.progress.tick('stasis jobs, directory rootfs and image, interleaved', i + 1, ctx.runs);
      }
      const seqHits = hitRate(w0, w1);
      const parHits = hitRate(w1, w2);
      const total = 3 + seq.length + par.length;
      if (bad.length === total) throw new Error(`no bench job exited 0: ${bad.join(', ')}`);
      const badNote = bad.length
        ? [`${bad.length} of ${total} jobs did not exit 0 (reason/status: ${[...new Set(bad)].map((b) => `${b} ×${bad.filter((x) => x === b).length}`).join(', ')})`]
        : [];
      if (bad.length) ctx.progress.note(`  warning: ${badNote[0]}`);
      const fromImage: ScenarioResult[] = [
        { scenario: 'stasis job, directory rootfs', group: 'true job from a cached image', kind: 'baseline', measurements: latencyMeasurements(dirSeq, '`true`'), samples: { sequential: dirSeq }, notes: [] },
        {
          scenario: 'stasis job from an OCI image',
          group: 'true job from a cached image',
          kind: 'stasis',
          measurements: latencyMeasurements(imgSeq, '`true`'),
          samples: { sequential: imgSeq },
          notes: [`the same \`true\` job with \`image: ${image.ref}\` (busybox as one layer, unpacked once by the warm-up), interleaved with directory-rootfs jobs; the "raw" column is the directory rootfs`],
        },
      ];
      return [{
        scenario: 'stasis job end to end',
        group: 'true container',
        kind: 'stasis',
        measurements: [
          ...latencyMeasurements(seq, '`true`'),
          { metric: 'throughput', label: `throughput, ${ctx.parallel} in parallel`, unit: '/s', value: par.length / elapsed, better: 'higher' },
          ...breakdown(phases),
          { metric: 'warm.sequential', label: `prepared-sandbox hit rate, sequential (${seqHits.text})`, unit: '%', value: seqHits.pct, better: 'higher' },
          { metric: 'warm.parallel', label: `prepared-sandbox hit rate, ${ctx.parallel} in parallel (${parHits.text})`, unit: '%', value: parHits.pct, better: 'higher' },
        ],
        samples: { sequential: seq, parallel: par, ...Object.fromEntries(Object.entries(phases).map(([k, v]) => [`phase.${k}`, v])) },
        notes: [
          `queue.add → waitUntilFinished; runner ${mode === 'child' ? '`stasis serve` child process' : 'in-process'}, concurrency ${ctx.parallel}, embedded Redis (unix socket), prepared sandboxes per key: ${warm}`,
          Number(warm) > 0
            ? 'each job: zod payload check, adopt a prepared sandbox (or overlay + conmon + runc create on a miss), start via the exec FIFO, exit file, stats, result envelope, task delete; refill in the background'
            : 'each job: zod payload check, overlay rootfs, conmon + runc create, start via the exec FIFO, exit file, stats, result envelope, task delete',
          ...badNote,
          'phases (p50): pickup = add → worker took it; start = took it → container started; finish = container exited → job completed; notify = completed → producer saw it',
        ],
      }, ...fromImage];
    },
  };
}

/** An OCI layout holding the bench's busybox rootfs as an image, and a node policy file that allows it. */
async function busyboxImage(ctx: BenchContext): Promise<{ ref: string; policy: string }> {
  const dir = path.join(ctx.workDir, 'images');
  await fs.mkdir(dir, { recursive: true, mode: 0o711 });
  const layout = path.join(dir, 'layout');
  await buildLayout({ layout, tag: 'busybox', layers: [ctx.rootfs] });
  const policy = path.join(ctx.workDir, 'policy.json');
  await fs.writeFile(policy, JSON.stringify({ images: { allowedLayouts: [dir] } }));
  return { ref: `oci:${layout}:busybox`, policy };
}

const PHASES: Record<string, string> = {
  pickup: 'phase: add → picked up',
  start: 'phase: picked up → started',
  finish: 'phase: exited → completed',
  notify: 'phase: completed → seen',
};

function breakdown(phases: Record<string, number[]>): Measurement[] {
  return Object.entries(phases)
    .filter(([, v]) => v.length > 0)
    .map(([k, v]) => ({ metric: `phase.${k}`, label: `${PHASES[k]} p50`, unit: 'ms' as const, value: percentile(v, 50), better: 'lower' as const }));
}
