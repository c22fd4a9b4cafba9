/**
 * `npm run bench:cpu`: where the CPU of a `true` job goes. Runs N sequential `true` containers with
 * raw `runc run`, then N sequential `true` jobs through a `stasis serve` child (embedded Redis,
 * prepared sandboxes as configured), each window under a system-wide `perf record` (cpu-clock at
 * 999 Hz), and prints CPU ms per job by process (the serve node's main thread apart from its other
 * threads), plus processes started per job (/proc/stat `processes`). Needs root and `perf`.
 * Flags: --jobs N (default 100), --parallel N (jobs at once, default 1; the table then also says how busy
 * the CPUs were), --warm N (STASIS_WARM_POOL of the node, default: serve's), --keep DIR (record
 * call graphs and keep both perf files in DIR, for `perf report -i DIR/stasis.perf --tid ...`).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, QueueEvents } from 'bullmq';
import { execa, execaNode } from 'execa';
import { runDirOf } from '../src/config/load.js';
import { globalArgs } from '../src/runc/args.js';
import { mountRunDir } from '../src/runtime/run-dir.js';
import { sweepStateDir } from './stasis-checkpoint.js';
import { resolveConnection } from '../src/queue/connection.js';
import { ensureBusyboxRootfs } from '../src/sandbox/busybox.js';
import { removeEmptyCgroupDir } from '../src/runtime/cgroups.js';
import { rawSpec } from './raw-spec.js';
import { lanes } from './blocks.js';
import { SERVE_WARM_POOL } from '../src/runtime/warm/serve-default.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(REPO, 'dist/src/cli/main.js');
const HZ = 999;

/** Processes started since boot and busy CPU jiffies, from /proc/stat. */
async function procStat(): Promise<{ forks: number }> {
  const text = await fs.readFile('/proc/stat', 'utf8');
  return { forks: Number(/^processes (\d+)$/m.exec(text)?.[1] ?? 0) };
}

/** The pids of the spawn helpers of node `pid` (its children running workers/spawn-helper.js). */
async function spawnHelpers(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const d of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = await fs.readFile(`/proc/${d}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== pid) continue;
    const cmd = await fs.readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('spawn-helper')) out.push(Number(d));
  }
  return out;
}

/** Runs `window` under `perf record -a`; resolves to the samples (comm, pid, tid), the forks it saw and its wall time. */
async function profiled(file: string, window: () => Promise<void>, callGraph = false): Promise<{ samples: { comm: string; pid: number; tid: number }[]; forks: number; wallMs: number }> {
  const perf = execa('perf', ['record', '-a', ...(callGraph ? ['-g'] : []), '-F', String(HZ), '-o', file], { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', reject: false });
  await sleep(500); // perf's own start-up, outside the window
  const before = await procStat();
  const t0 = performance.now();
  await window();
  const wallMs = performance.now() - t0;
  const after = await procStat();
  perf.kill('SIGINT');
  await perf;
  const { stdout } = await execa('perf', ['script', '-i', file, '-F', 'comm,pid,tid'], { maxBuffer: 1024 ** 3 });
  const samples = stdout
    .split('\n')
    .map((l) => /^\s*(.*?)\s+(\d+)\/(\d+)\s*$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ comm: m[1]!, pid: Number(m[2]), tid: Number(m[3]) }));
  return { samples, forks: after.forks - before.forks, wallMs };
}

/** The process a sample belongs to, for the table. */
function category(s: { comm: string; pid: number; tid: number }, roles: Map<number, string>): string | null {
  if (s.pid === 0) return null; // idle
  const role = roles.get(s.pid);
  if (role) return s.tid === s.pid ? `${role} (main thread)` : `${role} (other threads: ${s.comm})`;
  if (/^runc/.test(s.comm)) return s.comm.startsWith('runc:[') ? 'runc init (runc:[0..2])' : 'runc';
  if (/^(kworker|ksoftirqd|rcu|migration|kcompactd|khugepaged|kdamond|jbd2|cpuhp)/.test(s.comm)) return `kernel threads`;
  return s.comm;
}

/** CPU ms per job by category, largest first. */
function table(samples: { comm: string; pid: number; tid: number }[], roles: Map<number, string>, jobs: number): [string, number][] {
  const ms = new Map<string, number>();
  for (const s of samples) {
    const c = category(s, roles);
    if (c) ms.set(c, (ms.get(c) ?? 0) + 1000 / HZ);
  }
  return [...ms].map(([k, v]) => [k, v / jobs] as [string, number]).sort((a, b) => b[1] - a[1]);
}

function print(title: string, rows: [string, number][], forks: number, jobs: number, wallMs: number): void {
  const total = rows.reduce((a, [, v]) => a + v, 0);
  // How busy the machine's CPUs were in the window (100 % = every CPU all the time).
  const busy = (100 * total * jobs) / (wallMs * os.availableParallelism());
  process.stdout.write(
    `\n${title}: ${jobs} jobs in ${(wallMs / 1000).toFixed(2)} s (${(wallMs / jobs).toFixed(1)} ms a job); CPU ${total.toFixed(1)} ms per job, CPUs ${busy.toFixed(0)} % busy; ${(forks / jobs).toFixed(1)} processes started per job\n`,
  );
  for (const [k, v] of rows) if (v >= 0.05) process.stdout.write(`  ${v.toFixed(2).padStart(7)} ms  ${k}\n`);
}

async function rawRun(work: string, rootfs: string, jobs: number, parallel: number, keep?: string): Promise<void> {
  // On a tmpfs, as runc's own /run/runc (stasis' run dir is one too).
  const root = path.join(runDirOf(work), 'runc-root');
  // One bundle per lane: containers running at once need cgroups of their own.
  const tag = randomUUID().slice(0, 6);
  const bundles: string[] = [];
  for (let lane = 0; lane < parallel; lane++) {
    const bundle = path.join(work, `bundle-${lane}`);
    await fs.mkdir(bundle, { recursive: true });
    const spec = rawSpec({ hostname: 'bench', args: ['/bin/true'], cgroupsPath: `/stasis-bench/cpu-${tag}-${lane}`, rootPath: rootfs });
    spec.root.readonly = true;
    await fs.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
    bundles.push(bundle);
  }
  const one = (id: string, lane = 0) => execa('/usr/sbin/runc', [...globalArgs({ root }), 'run', '--bundle', bundles[lane]!, id], { stdin: 'ignore' });
  for (let i = 0; i < 3; i++) await one(`w${i}`);
  let n = 0;
  const { samples, forks, wallMs } = await profiled(
    path.join(keep ?? work, 'raw.perf'),
    async () => void (await lanes(jobs, parallel, (lane) => one(`j${n++}`, lane).then(() => 0))),
    keep !== undefined,
  );
  const roles = new Map([[process.pid, 'bench (execa spawns)']]);
  print(`raw runc run, ${parallel} at a time`, table(samples, roles, jobs), forks, jobs, wallMs);
}

async function stasisRun(work: string, jobs: number, parallel: number, warm: string, keep?: string): Promise<void> {
  const stateDir = path.join(work, 'state');
  const queueName = `cpu-${randomUUID().slice(0, 8)}`;
  const conn = await resolveConnection({ env: {}, stateDir });
  const queue = new Queue(queueName, { connection: conn.options });
  const events = new QueueEvents(queueName, { connection: conn.options });
  const child = execaNode(CLI, ['serve', '--state-dir', stateDir, '--queue', queueName, '--concurrency', String(Math.max(2, parallel)), '--node-id', 'cpu', '--log-level', 'warn'], {
    env: { REDIS_URL: '', STASIS_WARM_POOL: warm },
    // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where the node's own CPU goes.
    nodeOptions: (process.env.BENCH_NODE_OPTIONS ?? '').split(' ').filter(Boolean),
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    reject: false,
  });
  try {
    await events.waitUntilReady();
    while ((await queue.getWorkersCount()) === 0) await sleep(50);
    const one = async () => {
      const job = await queue.add('cpu', { command: ['/bin/true'] }, { removeOnComplete: true });
      await job.waitUntilFinished(events, 60_000);
    };
    try {
      for (let i = 0; i < 5; i++) await one();
    } catch (e) {
      child.kill('SIGTERM');
      throw new Error(`${e instanceof Error ? e.message : String(e)}; the node said: ${(await child).stderr}`);
    }
    const redisPid = Number((await fs.readFile(path.join(stateDir, 'redis', 'redis.pid'), 'utf8').catch(() => '0')).trim());
    const { samples, forks, wallMs } = await profiled(
      path.join(keep ?? work, 'stasis.perf'),
      async () => void (await lanes(jobs, parallel, () => one().then(() => 0))),
      keep !== undefined,
    );
    const roles = new Map([
      [child.pid!, 'stasis serve'],
      [process.pid, 'producer (bench)'],
      [redisPid, 'redis-server (embedded)'],
      ...(await spawnHelpers(child.pid!)).map((pid) => [pid, 'spawn helper'] as [number, string]),
    ]);
    print(`stasis job (queue → result, prepared sandboxes: ${warm}), ${parallel} at a time`, table(samples, roles, jobs), forks, jobs, wallMs);
  } finally {
    child.kill('SIGTERM');
    await Promise.race([child, sleep(30_000)]);
    await events.close();
    await queue.close();
    await conn.release();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { jobs: { type: 'string' }, parallel: { type: 'string' }, warm: { type: 'string' }, keep: { type: 'string' } } });
  const jobs = Number(values.jobs ?? 100);
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new Error(`Expected --jobs to be a whole number above 0, got ${values.jobs}`);
  const parallel = Number(values.parallel ?? 1);
  if (!Number.isSafeInteger(parallel) || parallel < 1) throw new Error(`Expected --parallel to be a whole number above 0, got ${values.parallel}`);
  await fs.mkdir(path.join(REPO, '.bench'), { recursive: true });
  const work = await fs.mkdtemp(path.join(REPO, '.bench', 'cpu-'));
  await fs.chmod(work, 0o711); // under a user namespace runc reaches the bundles as an unprivileged user
  try {
    await mountRunDir(work);
    const rootfs = await ensureBusyboxRootfs(path.join(REPO, '.bench', 'rootfs', 'busybox'));
    const keep = values.keep === undefined ? undefined : path.resolve(values.keep);
    if (keep) await fs.mkdir(keep, { recursive: true });
    await rawRun(work, rootfs, jobs, parallel, keep);
    await stasisRun(work, jobs, parallel, values.warm ?? String(SERVE_WARM_POOL), keep);
  } finally {
    await execa('/usr/sbin/runc', [...globalArgs({ root: path.join(runDirOf(work), 'runc-root') }), 'list', '-q']).then(
      async (r) => {
        for (const id of r.stdout.split('\n').filter(Boolean)) await execa('/usr/sbin/runc', [...globalArgs({ root: path.join(runDirOf(work), 'runc-root') }), 'delete', '-f', id]).catch(() => undefined);
      },
      () => undefined,
    );
    // The node's containers first (its runc root is on its run dir's tmpfs), then every mount left.
    await sweepStateDir(path.join(work, 'state'), '/usr/sbin/runc');
    await sweepStateDir(work, '/usr/sbin/runc'); // the raw side's tmpfs, and a node's run dir if it was left
    await fs.rm(work, { recursive: true, force: true });
    for (const name of ['stasis-bench', 'stasis']) await removeEmptyCgroupDir(name); // only where empty
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench:cpu failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
