/**
 * stasis end to end: the same `true` container as a stasis job, measured from the producer's
 * `queue.add` until it sees the result (`job.waitUntilFinished` over QueueEvents). The runner node is
 * `stasis serve` in a child process (or in-process with --runner inprocess), concurrency = parallel,
 * on the embedded Redis under the bench's state directory. true-container.ts measures it interleaved
 * with raw `runc run`.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { Job, Queue, QueueEvents } from 'bullmq';
import { runtimePaths } from '../src/config/load.js';
import type { RuntimePaths } from '../src/config/schema.js';
import { isWarmKey } from '../src/runtime/warm/key.js';
import { listKeys, listSlots, readPrepared, slotClaim } from '../src/runtime/warm/slots.js';
import { Runc } from '../src/runc/runc.js';
import { openTaskManager } from '../src/runtime/task-manager.js';
import { resolveConnection } from '../src/queue/connection.js';
import { isJobResult } from '../src/queue/result.js';
import { startRunner } from '../src/node/runner.js';
import { SERVE_WARM_POOL } from '../src/runtime/warm/serve-default.js';
import type { BenchContext } from './scenario.js';
import { startServeChild } from './serve-child.js';
import { freePort } from '../test/helpers/net.js';
import fs from 'node:fs/promises';
import { buildLayout } from '../test/integration/image/registry.js';

/** Where the runner node runs. */
export type RunnerMode = 'child' | 'inprocess';

/** Prepared-sandbox starts so far, as the node counts them: ready ones adopted, ones waited for, misses. */
export type Counts = { hit: number; waited: number; miss: number };
type WarmCounts = () => Promise<Counts>;

/** Reads `stasis_warm_pool_starts_total` from a node's /metrics. */
async function scrapeWarm(url: string): Promise<Counts> {
  const text = await (await fetch(url)).text();
  const count = (result: string) => Number(new RegExp(`^stasis_warm_pool_starts_total\\{[^}]*result="${result}"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { hit: count('hit'), waited: count('waited'), miss: count('miss') };
}

/** `into` plus what was counted between `a` and `b`. */
export function addCounts(into: Counts, a: Counts, b: Counts): Counts {
  return { hit: into.hit + b.hit - a.hit, waited: into.waited + b.waited - a.waited, miss: into.miss + b.miss - a.miss };
}

/**
 * Between two counts: the share of jobs that adopted a prepared sandbox (ready, or being prepared
 * and waited for), and a note saying how many of each.
 */
export function hitRate(a: Counts, b: Counts): { pct: number; text: string } {
  const hit = b.hit - a.hit;
  const waited = b.waited - a.waited;
  const all = hit + waited + (b.miss - a.miss);
  return { pct: all > 0 ? (100 * (hit + waited)) / all : NaN, text: `${hit} ready + ${waited} waited for, of ${all}` };
}

/** The stasis side of the `true` container group: a runner node on its own queue, warmed up. */
export interface StasisJobs {
  /** Adds one `true` job (from the image with `image`) and resolves to add → result in ms; `breakdown` records its phases. */
  one(o?: { breakdown?: boolean; image?: boolean }): Promise<number>;
  /**
   * Waits until the node is idle: no task left to delete, every key's prepared sandboxes made and
   * none being made. False when that took longer than `timeoutMs`.
   */
  settle(timeoutMs?: number): Promise<boolean>;
  /** Prepared-sandbox starts so far. */
  counts(): Promise<Counts>;
  /** Phases of the jobs run with `breakdown`, in ms. */
  phases: Record<string, number[]>;
  /** reason/status of jobs whose `true` did not exit 0. */
  bad: string[];
  /** Jobs run so far. */
  total(): number;
  /** Prepared sandboxes per key. */
  warm: number;
  /** The image reference the image jobs run. */
  imageRef: string;
}

/** Starts the runner node (`mode`) and a producer, and warms up with three jobs of each kind. */
export async function openStasisJobs(ctx: BenchContext, mode: RunnerMode): Promise<StasisJobs> {
  const queueName = `bench-${randomUUID().slice(0, 8)}`;
  const conn = await resolveConnection({ env: {}, stateDir: ctx.stateDir });
  const paths = runtimePaths({ stateDir: ctx.stateDir });
  // Last resort after the runner has stopped: no container of this run may outlive it.
  const runc = new Runc({ binary: ctx.runc, root: paths.runcRoot });
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

  let counts: WarmCounts;
  // The same `true` from an OCI image (the busybox rootfs as one layer, in a layout the policy allows).
  const image = await busyboxImage(ctx);
  // Prepared sandboxes as `stasis serve` has them (STASIS_WARM_POOL=0 measures without).
  const warm = Number(process.env.STASIS_WARM_POOL ?? SERVE_WARM_POOL);
  if (mode === 'inprocess') {
    const c = { hit: 0, waited: 0, miss: 0 };
    counts = async () => ({ ...c });
    const runner = await startRunner({
      connection: conn.options,
      runtime: { stateDir: ctx.stateDir, runc: ctx.runc, warmPool: warm },
      runner: { queue: queueName, concurrency: ctx.parallel, nodeId: 'bench' },
      env: { STASIS_POLICY: image.policy },
      events: (e) => {
        if (e.event === 'started' && e.warm) c[e.warm]++;
      },
    });
    ctx.defer(() => runner.close());
  } else {
    // Its /metrics counts prepared-sandbox hits (on a port the kernel just had free).
    const port = await freePort();
    counts = () => scrapeWarm(`http://127.0.0.1:${port}/metrics`);
    await startServeChild(
      ctx,
      ['--state-dir', ctx.stateDir, '--queue', queueName, '--concurrency', String(ctx.parallel), '--node-id', 'bench', '--http', `127.0.0.1:${port}`],
      { STASIS_WARM_POOL: String(warm), STASIS_POLICY: image.policy },
      () => queue.getWorkersCount(),
    );
  }

  // Where the time of a sequential job goes (ms), from BullMQ's and the envelope's timestamps.
  const phases: Record<string, number[]> = { pickup: [], start: [], finish: [], notify: [] };
  // Jobs whose `true` did not exit 0 (a stasis bug worth seeing in the report, not a reason to stop).
  const bad: string[] = [];
  let total = 0;
  const one = async (o: { breakdown?: boolean; image?: boolean } = {}): Promise<number> => {
    const t0 = performance.now();
    const added = Date.now();
    const job = await queue.add('bench', { command: ['/bin/true'], ...(o.image ? { image: image.ref } : {}) });
    const rv: unknown = await job.waitUntilFinished(events, 60_000);
    const ms = performance.now() - t0;
    const seen = Date.now();
    total++;
    if (!isJobResult(rv)) throw new Error(`bench job ${job.id} returned no result envelope: ${JSON.stringify(rv)}`);
    if (rv.exitStatus !== 0) bad.push(`${rv.reason}/${rv.exitStatus}`);
    const done = await Job.fromId(queue, job.id!);
    if (o.breakdown && done?.processedOn && done.finishedOn && rv.startedAt && rv.exitedAt) {
      phases.pickup!.push(done.processedOn - added);
      phases.start!.push(Date.parse(rv.startedAt) - done.processedOn);
      phases.finish!.push(done.finishedOn - Date.parse(rv.exitedAt));
      phases.notify!.push(seen - done.finishedOn);
    }
    await done?.remove().catch(() => undefined);
    return ms;
  };
  const settle = async (timeoutMs = 5_000): Promise<boolean> => {
    for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(10)) if (await idle(paths, warm)) return true;
    return false;
  };
  // Warm-up: pool threads, rootfs, cgroups; the image pulled and unpacked.
  for (let i = 0; i < 3; i++) await one();
  for (let i = 0; i < 3; i++) await one({ image: true });
  return { one, settle, counts: () => counts(), phases, bad, total: () => total, warm, imageRef: image.ref };
}

/** Whether no task dir is left and every warm-pool key has `size` ready, unclaimed slots and no other. */
async function idle(paths: RuntimePaths, size: number): Promise<boolean> {
  for (const ns of await fs.readdir(paths.tasksDir).catch(() => [] as string[])) {
    if ((await fs.readdir(path.join(paths.tasksDir, ns)).catch(() => [])).length > 0) return false;
  }
  const ctx = { paths };
  for (const key of (await listKeys(ctx)).filter(isWarmKey)) {
    let ready = 0;
    for (const slot of await listSlots(ctx, key)) {
      // Claimed (being adopted or removed) or without a container yet (being made): not settled.
      if ((await slotClaim(slot)) !== undefined || !(await readPrepared(slot))?.pid) return false;
      ready++;
    }
    if (ready < size) return false;
  }
  return true;
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
