/** Two-node set-up of the migration tests: `stasis serve` child processes on one Redis and one checkpoint store. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { readLineage } from '../../../src/queue/lineage.js';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startTestRedis, wipeState, type TestRedis } from '../queue/harness.js';
import { repoRoot } from '../../../src/pool/pool.js';

/** The compiled CLI. */
export const MAIN = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');

/** A running `stasis serve`. */
export interface Node {
  id: string;
  child: ChildProcess;
  ready: { recovery: { adopted: string[]; orphaned: string[]; discarded: string[] } };
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts `stasis serve --json …` and resolves once it printed its ready line. */
export async function startNode(o: {
  id: string;
  redis: string;
  queue: string;
  stateDir: string;
  checkpointDir: string;
  extra?: string[];
  /** Added to this process' environment (STASIS_FAILPOINTS, …). */
  env?: Record<string, string>;
}): Promise<Node> {
  const args = [
    MAIN, 'serve', '--json', '--redis', o.redis, '--queue', o.queue, '--node-id', o.id, '--state-dir', o.stateDir,
    '--checkpoint-dir', o.checkpointDir, '--lock-duration', '3000', '--stalled-interval', '1000', '--kill-grace', '500',
    ...(o.extra ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = await new Promise<Node['ready']>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    void exited.then((code) => reject(new Error(`serve ${o.id} exited with ${code}: ${err}`)));
  });
  return { id: o.id, child, ready, stderr: () => err, exited };
}

/** A short private directory. */
export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A job that prints `count 0` … `count N-1`, one every 0.2 s, then exits 0. */
export function counter(n: number): string[] {
  return ['sh', '-c', `i=0; while [ $i -lt ${n} ]; do echo count $i; i=$((i+1)); sleep 0.2; done`];
}

/** The numbers of the `count N` lines of a text. */
export function counts(text: string): number[] {
  return [...text.matchAll(/^count (\d+)$/gm)].map((m) => Number(m[1]));
}

/** Resolves once the job's log has a `count N` line with N >= `min`. */
export async function waitForCount(q: Queue, jobId: string, min: number, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const logs = await jobLog(q, jobId);
    if (counts(logs.join('\n')).some((c) => c >= min)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`job ${jobId} did not reach count ${min} in ${timeoutMs} ms`);
}

/** Resolves once the job's lineage records at least `min` committed checkpoints (periodic ones included). */
export async function waitForCheckpoints(redis: Redis, queue: string, jobId: string, min = 1, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await readLineage(redis, { queue }, jobId)).checkpoints.length >= min) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`job ${jobId} did not record ${min} checkpoint(s) in ${timeoutMs} ms`);
}

/** The job's log lines (the runner writes several lines per entry). */
export async function jobLog(q: Queue, jobId: string): Promise<string[]> {
  return (await q.getJobLogs(jobId, 0, -1)).logs.flatMap((e) => e.split('\n'));
}

/** Task ids left in a state dir once the node had a moment to delete finished tasks (deletes follow the posted result). */
export async function settledTasks(list: () => Promise<string[]>, timeoutMs = 10_000): Promise<string[]> {
  const end = Date.now() + timeoutMs;
  let left = await list();
  while (left.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    left = await list();
  }
  return left;
}

/** Unmounts whatever is still mounted under `dir` (e.g. prepared sandboxes of a SIGKILLed node), deepest first. */
export function unmountUnder(dir: string): void {
  const prefix = fs.realpathSync(dir) + path.sep;
  const points = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(prefix))
    .sort((x, y) => y.length - x.length);
  for (const p of points) {
    try {
      execFileSync('umount', ['-l', p], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

/**
 * Leaves nothing of a node's state dir behind: kills its monitors (conmon processes whose arguments
 * name the dir) and containers (runc --root DIR/runc), unmounts what is mounted under it, removes it.
 */
export function cleanupStateDir(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const runcRoot = path.join(dir, 'run', 'runc');
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    if (!args[0]?.endsWith('conmon') || !args.some((a) => a.startsWith(dir + path.sep))) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (fs.existsSync(runcRoot)) {
    let ids: string[] = [];
    try {
      ids = execFileSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    } catch {
      ids = [];
    }
    for (const id of ids) {
      try {
        execFileSync('runc', ['--root', runcRoot, 'kill', '--all', id, 'KILL'], { stdio: 'ignore' });
      } catch {
        // not running
      }
      try {
        execFileSync('runc', ['--root', runcRoot, 'delete', '-f', id], { stdio: 'ignore' });
      } catch {
        // gone
      }
    }
  }
  unmountUnder(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Stops a node: SIGTERM (drain or graceful close), SIGKILL after `ms`. */
export async function stopNode(n: Node, ms = 15_000): Promise<void> {
  if (n.child.exitCode !== null || n.child.signalCode !== null) return;
  n.child.kill('SIGTERM');
  const t = setTimeout(() => n.child.kill('SIGKILL'), ms);
  await n.exited;
  clearTimeout(t);
}

/** A test cluster: one Redis, one shared checkpoint store, and `stasis serve` nodes started on demand. */
export interface Cluster {
  readonly redis: TestRedis;
  readonly store: string;
  /** Starts a node; a new state dir unless one is given. */
  node(id: string, queue: string, stateDir?: string, extra?: string[]): Promise<{ n: Node; dir: string }>;
}

/**
 * Registers the hooks of a two-node test file: Redis and the store before all, nodes stopped after
 * each test, state dirs wiped and the store removed after all. Returns the cluster to use in tests.
 */
export function useCluster(): Cluster {
  const dirs: string[] = [];
  const nodes: Node[] = [];
  const c = {
    redis: undefined as unknown as TestRedis,
    store: '',
    async node(id: string, queue: string, stateDir?: string, extra?: string[]) {
      const dir = stateDir ?? tmpDir('stm-');
      if (!dirs.includes(dir)) dirs.push(dir);
      const n = await startNode({ id, redis: c.redis.url, queue, stateDir: dir, checkpointDir: c.store, ...(extra ? { extra } : {}) });
      nodes.push(n);
      return { n, dir };
    },
  };
  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build`);
    c.redis = await startTestRedis();
    c.store = tmpDir('stm-store-');
  });
  afterEach(async () => {
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
