/**
 * Memory outside each running task: N sleeping containers started with raw `runc run --detach`
 * (no monitor), then N sleeping jobs through a `stasis serve` child (concurrency N, no prepared
 * sandboxes), and what each costs beyond its own cgroup's charge: the monitor's Pss (conmon), the
 * growth of the node's Pss (node, its spawn helper, the embedded Redis) and the kernel's
 * unreclaimable memory that no container's cgroup was charged for (mounts, cgroup structures,
 * conmon's stacks and page tables). System-wide kernel counters move with everything else on the
 * machine too, so that row is an estimate; the Pss rows are exact.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { runDirOf } from '../src/config/load.js';
import { globalArgs } from '../src/runc/args.js';
import { TMPFS_MAGIC } from '../src/runtime/run-dir.js';
import { lastErrorLine } from '../src/runc/runtime-log.js';
import { Runc } from '../src/runc/runc.js';
import { StasisClient } from '../src/queue/client.js';
import { resolveConnection } from '../src/queue/connection.js';
import { embeddedRedisPaths } from '../src/queue/embedded-redis.js';
import { childrenOf, processTree, readPidFile } from '../src/os/proc.js';
import { rawSpec } from './raw-spec.js';
import { startServeChild } from './serve-child.js';
import { containersMemory, findProcesses, kernelMemory, mib, pssOf, type CgroupMemory } from './memory-probe.js';
import type { Measurement, ScenarioResult } from './report.js';
import type { BenchContext, Scenario } from './scenario.js';

/** Running containers measured at once. */
const TASKS = 16;
/** Time for the machine to settle before a reading (page cache writeback, freed slabs). */
const SETTLE_MS = 1500;

/** One side's reading: per-container figures in bytes. */
interface PerTask {
  monitor: number;
  node: number;
  /** Its files on the run dir's tmpfs (records, logs, runc's state): memory, not disk. */
  runFiles: number;
  kernelOutside: number;
  own: number;
}

function measurements(p: PerTask): Measurement[] {
  const row = (metric: string, label: string, bytes: number): Measurement => ({ metric, label, unit: 'MiB', value: mib(bytes), better: 'lower' });
  return [
    row('memory.outside', 'memory outside each running task', p.monitor + p.node + p.runFiles + p.kernelOutside),
    row('memory.monitor', '  of which its monitor (conmon, Pss)', p.monitor),
    row('memory.node', '  of which the node (node, spawn helper, Redis: Pss growth)', p.node),
    row('memory.runfiles', '  of which its files on the run tmpfs (runc state, records, log)', p.runFiles),
    row('memory.kernel', '  of which kernel memory outside its cgroup (estimate)', p.kernelOutside),
    row('memory.own', "the task's own cgroup charge", p.own),
  ];
}

/** Bytes in use on the tmpfs at `dir` (0 when it is not one: then its files are on disk). */
async function tmpfsUsed(dir: string): Promise<number> {
  // A run dir that is not there yet holds nothing.
  const s = await fs.statfs(dir).catch(() => null);
  return s && s.type === TMPFS_MAGIC ? (s.blocks - s.bfree) * s.bsize : 0;
}

/** Kernel memory growth not charged to the containers' cgroups, per container. */
function kernelOutside(before: number, after: number, own: CgroupMemory, n: number): number {
  return Math.max(0, after - before - own.kernel) / n;
}

/** The memory scenario. */
export const memory: Scenario = {
  name: 'memory per running task',
  async run(ctx: BenchContext): Promise<ScenarioResult[]> {
    return [await raw(ctx), await stasis(ctx)];
  },
};

async function raw(ctx: BenchContext): Promise<ScenarioResult> {
  const tag = `m${randomUUID().slice(0, 6)}`;
  const root = path.join(ctx.runDir, 'memory-runc-root');
  await fs.mkdir(root, { recursive: true });
  const runc = new Runc({ binary: ctx.runc, root });
  ctx.defer(async () => {
    for (const c of await runc.list().catch(() => [])) await runc.delete(c.id, true).catch(() => undefined);
  });
  const ids = Array.from({ length: TASKS }, (_, i) => `${tag}-${i}`);
  await sleep(SETTLE_MS);
  const k0 = await kernelMemory();
  const f0 = await tmpfsUsed(ctx.runDir);
  for (const [i, id] of ids.entries()) {
    const bundle = path.join(ctx.workDir, `memory-bundle-${i}`);
    const spec = rawSpec({ hostname: 'bench', args: ['/bin/sleep', '600'], cgroupsPath: `/stasis-bench/${id}`, rootPath: ctx.rootfs });
    spec.root.readonly = true;
    await fs.mkdir(bundle, { recursive: true });
    await fs.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
    // The container inherits runc's stdio (no pipe of ours may stay open), so runc's own errors go to a log.
    const log = path.join(bundle, 'runc.log');
    const r = await execa(ctx.runc, ['--log', log, ...globalArgs({ root }), 'run', '--detach', '--bundle', bundle, id], { stdio: 'ignore', reject: false });
    if (r.exitCode !== 0) {
      const line = lastErrorLine(await fs.readFile(log, 'utf8').catch(() => '')) ?? `exit status ${r.exitCode}`;
      throw new Error(`runc run --detach ${id}: ${line} (log: ${log})`);
    }
    ctx.progress.tick('raw runc, sleeping containers', i + 1, TASKS);
  }
  await sleep(SETTLE_MS);
  const pids = await Promise.all(
    ids.map(async (id) => {
      const st = await runc.state(id);
      if (!st?.pid) throw new Error(`runc state ${id}: no running container`);
      return st.pid;
    }),
  );
  const own = await containersMemory(pids);
  const k1 = await kernelMemory();
  const runFiles = ((await tmpfsUsed(ctx.runDir)) - f0) / TASKS;
  // A failed delete is not this row's concern: the deferred cleanup above lists the root and retries.
  for (const id of ids) await runc.delete(id, true).catch(() => undefined);
  return {
    scenario: 'raw runc run --detach',
    group: 'memory per running task',
    kind: 'baseline',
    measurements: measurements({ monitor: 0, node: 0, runFiles, kernelOutside: kernelOutside(k0, k1, own, TASKS), own: own.usage / TASKS }),
    samples: {},
    notes: [`${TASKS} busybox \`sleep\` containers at once, each with its own cgroup; no monitor`],
  };
}

async function stasis(ctx: BenchContext): Promise<ScenarioResult> {
  const stateDir = path.join(ctx.workDir, 'memory-state');
  const queue = `bench-mem-${randomUUID().slice(0, 8)}`;
  const conn = await resolveConnection({ env: {}, stateDir });
  ctx.defer(() => conn.release());
  const client = new StasisClient({ connection: conn.options, queue });
  ctx.defer(() => client.close());
  const { child: serve } = await startServeChild(
    ctx,
    ['--state-dir', stateDir, '--queue', queue, '--concurrency', String(TASKS), '--warm-pool', '0', '--node-id', 'bench-mem'],
    {},
    () => client.runnerCount(),
  );
  const deadline = Date.now() + 180_000;
  // The node's threads, helper and caches warmed up by two short jobs first.
  for (let i = 0; i < 2; i++) await client.wait(await client.submit({ command: ['/bin/true'] }), { timeoutMs: 60_000 });
  const redisPid = await readPidFile(embeddedRedisPaths(stateDir).pidfile);
  /** Pss of serve's main process, of its children (the threads' spawn helpers) and of the embedded Redis. */
  const nodeParts = async () => {
    const helpers = (await processTree(serve.pid!)).filter((p) => p !== serve.pid);
    return { serve: await pssOf([serve.pid!]), helpers: await pssOf(helpers), redis: redisPid ? await pssOf([redisPid]) : 0 };
  };
  const sum = (n: { serve: number; helpers: number; redis: number }) => n.serve + n.helpers + n.redis;
  await sleep(SETTLE_MS);
  const node0 = await nodeParts();
  const k0 = await kernelMemory();
  const f0 = await tmpfsUsed(runDirOf(stateDir));

  const jobs: string[] = [];
  try {
    for (let i = 0; i < TASKS; i++) jobs.push(await client.submit({ command: ['sleep', '600'] }));
    for (const [i, id] of jobs.entries()) {
      while (((await client.status(id)).progress as { status?: string } | null)?.status !== 'running') {
        if (serve.exitCode !== null || Date.now() > deadline) throw new Error(`job ${id} did not start`);
        await sleep(100);
      }
      ctx.progress.tick('stasis, sleeping jobs', i + 1, TASKS);
    }
    await sleep(SETTLE_MS);
    const conmons = await findProcesses('conmon', stateDir);
    if (conmons.length !== TASKS) throw new Error(`expected ${TASKS} conmon processes, found ${conmons.length}`);
    const containers = (await Promise.all(conmons.map(childrenOf))).map((c) => c[0]!);
    const own = await containersMemory(containers);
    const monitor = await pssOf(conmons);
    const k1 = await kernelMemory();
    const node1 = await nodeParts();
    const runFiles = ((await tmpfsUsed(runDirOf(stateDir))) - f0) / TASKS;
    const per = (k: 'serve' | 'helpers' | 'redis') => `${mib((node1[k] - node0[k]) / TASKS).toFixed(2)}`;
    return {
      scenario: 'stasis serve, sleeping jobs',
      group: 'memory per running task',
      kind: 'stasis',
      measurements: measurements({ monitor: monitor / TASKS, node: (sum(node1) - sum(node0)) / TASKS, runFiles, kernelOutside: kernelOutside(k0, k1, own, TASKS), own: own.usage / TASKS }),
      samples: {},
      notes: [`${TASKS} \`sleep\` jobs at once on one node (concurrency ${TASKS}, no prepared sandboxes); node = Pss growth of serve, its threads' spawn helper and the embedded Redis`,
        `node per task: serve ${per('serve')} MiB, spawn helpers ${per('helpers')} MiB, embedded Redis ${per('redis')} MiB`,
      ],
    };
  } finally {
    // Cancelled, then awaited one by one: a failure to cancel one leaves it to the runner's deferred stop.
    for (const id of jobs) await client.cancel(id).catch(() => undefined);
    for (const id of jobs) await client.wait(id, { timeoutMs: 60_000 }).catch(() => undefined);
  }
}
