/**
 * Set-up of the fault-injection suite: a Redis that can be taken down and brought back on the same
 * socket with its data (AOF, fsync always), `stasis serve` nodes armed with crash points
 * (STASIS_FAILPOINTS, src/os/failpoint.ts), and the checks every fault test ends with: one result per
 * job, nothing of a node left behind (tasks, monitors, mounts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { Redis, type RedisOptions } from 'ioredis';
import type { FailpointName } from '../../../src/os/failpoint.js';
import { leftoverTasks, wipeState } from '../queue/harness.js';
import { cleanupStateDir, MAIN, settledTasks, startNode, stopNode, tmpDir, type Node } from '../migration/nodes.js';

/** A private redis-server whose outage a test controls. */
export interface FaultRedis {
  url: string;
  options: RedisOptions;
  /** Kills redis-server (its AOF keeps every write acknowledged so far). */
  down(): Promise<void>;
  /** Starts it again on the same socket and data. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a redis-server on a unix socket with `appendonly yes`, `appendfsync always`. */
export async function startFaultRedis(): Promise<FaultRedis> {
  const dir = tmpDir('stf-redis-');
  const sock = path.join(dir, 'redis.sock');
  const options: RedisOptions = { path: sock, maxRetriesPerRequest: null };
  let child: ChildProcess | null = null;
  // Every server this harness started: stop() makes sure none outlives the test.
  const started: ChildProcess[] = [];
  const up = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return; // already up
    child = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' });
    started.push(child);
    for (let i = 0; i < 200; i++) {
      const r = new Redis({ ...options, lazyConnect: true, retryStrategy: () => null });
      r.on('error', () => undefined);
      const ok = await r.connect().then(() => r.ping()).then(() => true, () => false);
      r.disconnect();
      if (ok) return;
      await sleep(50);
    }
    throw new Error('redis-server did not come up');
  };
  const down = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
  };
  await up();
  return {
    url: `unix://${sock}`,
    options,
    up,
    down,
    stop: async () => {
      await down();
      for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The fault suite's cluster: one Redis, one checkpoint store, nodes started (and restarted) on demand. */
export interface FaultCluster {
  readonly redis: FaultRedis;
  readonly store: string;
  /**
   * Starts `stasis serve` as node `id`; `dir` reuses a state dir (a restart), `failpoints` arms crash
   * points, `extra` adds serve flags.
   */
  node(id: string, queue: string, o?: { dir?: string; failpoints?: FailpointName[]; extra?: string[] }): Promise<{ n: Node; dir: string }>;
}

/** Registers the suite's hooks (Redis and store before all; nodes stopped after each test; all wiped after). */
export function useFaultCluster(): FaultCluster {
  const dirs: string[] = [];
  const nodes: Node[] = [];
  const c = {
    redis: undefined as unknown as FaultRedis,
    store: '',
    async node(id: string, queue: string, o: { dir?: string; failpoints?: FailpointName[]; extra?: string[] } = {}) {
      const dir = o.dir ?? tmpDir('stf-');
      if (!dirs.includes(dir)) dirs.push(dir);
      const n = await startNode({
        id,
        redis: c.redis.url,
        queue,
        stateDir: dir,
        checkpointDir: c.store,
        ...(o.extra ? { extra: o.extra } : {}),
        ...(o.failpoints ? { env: { STASIS_FAILPOINTS: o.failpoints.join(',') } } : {}),
      });
      nodes.push(n);
      return { n, dir };
    },
  };
  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build`);
    c.redis = await startFaultRedis();
    c.store = tmpDir('stf-store-');
  });
  afterEach(async () => {
    await c.redis.up().catch(() => undefined); // a test that failed with Redis down
    await Promise.all(nodes.splice(0).map((n) => stopNode(n)));
  });
  afterAll(async () => {
    for (const d of dirs) {
      await wipeState(d).catch(() => undefined);
      cleanupStateDir(d);
    }
    fs.rmSync(c.store, { recursive: true, force: true });
    await c.redis?.stop();
  });
  return c;
}

/** How many times BullMQ's event stream says `jobId` completed (one result per job means 1). */
export async function completions(redis: FaultRedis, queue: string, jobId: string): Promise<number> {
  const r = new Redis(redis.options);
  try {
    const entries = (await r.xrange(`bull:${queue}:events`, '-', '+')) as [string, string[]][];
    return entries.filter(([, kv]) => {
      const m = new Map<string, string>();
      for (let i = 0; i + 1 < kv.length; i += 2) m.set(kv[i]!, kv[i + 1]!);
      return m.get('event') === 'completed' && m.get('jobId') === jobId;
    }).length;
  } finally {
    r.disconnect();
  }
}

/** Live conmon processes of a state dir. */
export function monitorsOf(dir: string): number[] {
  const out: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    if (args[0]?.endsWith('conmon') && args.some((a) => a.startsWith(dir + path.sep))) out.push(Number(pid));
  }
  return out;
}

/** Mount points under a state dir's task directories. */
export function taskMountsOf(dir: string): string[] {
  const prefix = path.join(fs.realpathSync(dir), 'run', 'tasks') + path.sep;
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(prefix));
}

/** Containers runc knows under a state dir, with their status (`id:status`). */
export function containersOf(dir: string): string[] {
  const root = path.join(dir, 'run', 'runc');
  if (!fs.existsSync(root)) return [];
  for (let i = 0; ; i++) {
    try {
      const out = execFileSync('runc', ['--root', root, 'list', '--format', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      const list = (out && out !== 'null' ? JSON.parse(out) : []) as { id: string; status: string }[];
      return list.map((c) => `${c.id}:${c.status}`);
    } catch (e) {
      if (i >= 10) throw e; // runc list fails when a container is deleted while it reads: read again
    }
  }
}

/** Stops the node and asserts it left no task, container of a job, monitor or task mount behind. */
export async function expectCleanNode(n: Node, dir: string): Promise<{ tasks: string[]; monitors: number[]; mounts: string[] }> {
  await stopNode(n);
  return {
    tasks: await settledTasks(() => leftoverTasks(dir)),
    monitors: monitorsOf(dir),
    mounts: taskMountsOf(dir),
  };
}

/**
 * What a runner in a container loses when that container dies: the runner, its monitors and its
 * containers' processes all at once (monitors first, so none records an exit).
 */
export async function killWithContainers(n: Node, dir: string): Promise<void> {
  n.child.kill('SIGKILL');
  await n.exited;
  for (const pid of monitorsOf(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already (a monitor kept ready for a restore, killed by its spawn helper as the node died)
    }
  }
  await sleep(200);
  for (const c of containersOf(dir)) {
    const [id, status] = c.split(':');
    if (status !== 'running' && status !== 'paused') continue;
    try {
      execFileSync('runc', ['--root', path.join(dir, 'run', 'runc'), 'kill', '--all', id!, 'KILL'], { stdio: 'ignore' });
    } catch {
      // gone already
    }
  }
}
