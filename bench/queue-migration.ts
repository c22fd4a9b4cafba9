/**
 * Migration through the queue: two `stasis serve --node-id` children (own state directories, one
 * embedded Redis, one checkpoint store), a counting job moved back and forth with StasisClient.migrate
 * (`stasis job migrate JOB --to NODE`): checkpoint on the owner, commit, hand back to the queue, claim
 * and verify on the target, restore. The counter stamps each line with the wall clock (busybox
 * adjtimex, µs; /proc/uptime would not do: CRIU 4 restores into a time namespace whose offsets hide the
 * downtime from CLOCK_MONOTONIC/BOOTTIME); downtime = the gap between the last line before and the
 * first after a move, read from job.log once the job is cancelled. Next to it, raw runc moving the same
 * workload by hand.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { StasisClient } from '../src/queue/client.js';
import { resolveConnection } from '../src/queue/connection.js';
import { counterArgs, median, memoryHolderLimits, parseStamp } from './ckpt-workload.js';
import { RawMigration, type MigrationSample } from './raw-migration.js';
import type { Measurement, ScenarioResult } from './report.js';
import type { BenchContext, Scenario } from './scenario.js';
import { sweepStateDir } from './stasis-checkpoint.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

interface Line {
  n: number;
  /** Wall-clock ms when the job printed the line. */
  at: number;
}

/**
 * The counter's lines from job.log (other lines, e.g. `[stasis] …`, skipped), sorted by count. A
 * job.log entry holds several output lines (the node writes them in batches), so every line of
 * every entry counts (reading only an entry's first line lost most counts and could miss the last
 * line before a move, making its downtime look longer).
 */
export function stampedLines(rows: string[]): Line[] {
  const out: Line[] = [];
  for (const row of rows) {
    for (const r of row.split('\n')) {
      const stamp = parseStamp(r);
      if (stamp) out.push(stamp);
    }
  }
  return out.sort((a, b) => a.n - b.n);
}

interface ServeNode {
  id: string;
  stateDir: string;
  child: ChildProcess;
}

async function startServe(ctx: BenchContext, id: string, redisUrl: string, queue: string, store: string): Promise<ServeNode> {
  const stateDir = path.join(ctx.workDir, `queue-node-${id}`);
  await fs.mkdir(stateDir, { recursive: true });
  // The stamped workload reads the wall clock with adjtimex(2), which the default seccomp profile
  // refuses (docs/security.md): these nodes run unconfined; the raw side has no profile either.
  const args = [CLI, 'serve', '--json', '--redis', redisUrl, '--queue', queue, '--node-id', id, '--state-dir', stateDir, '--checkpoint-dir', store, '--concurrency', '1', '--seccomp', 'unconfined'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STASIS_RUNC: ctx.runc, STASIS_WARM_POOL: '0' } });
  const node = { id, stateDir, child };
  ctx.defer(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(t);
    }
    await sweepStateDir(stateDir, ctx.runc);
  });
  let err = '';
  // BENCH_NODE_LOGS=DIR keeps each node's whole log (DIR/<id>.log) to see what a slow move did.
  const logsDir = process.env.BENCH_NODE_LOGS;
  if (logsDir) await fs.mkdir(logsDir, { recursive: true });
  const keep = logsDir ? createWriteStream(path.join(logsDir, `${id}.log`)) : null;
  child.stderr!.on('data', (b: Buffer) => {
    err = (err + b.toString()).slice(-4096);
    keep?.write(b);
  });
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      if (buf.includes('\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`stasis serve ${id} exited with ${code}: ${err.trim().split('\n').pop() ?? ''}`)));
  });
  return node;
}

async function waitForCount(client: StasisClient, jobId: string, min: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { logs } = await client.queue.getJobLogs(jobId, 0, -1);
    const lines = stampedLines(logs);
    if (lines.length && lines[lines.length - 1]!.n >= min) return;
    if (Date.now() > deadline) {
      const job = await client.queue.getJob(jobId);
      const state = job ? await job.getState() : 'missing';
      throw new Error(`job ${jobId} did not reach count ${min} (state ${state}${job?.failedReason ? `: ${job.failedReason}` : ''}; last log rows: ${JSON.stringify(logs.slice(-3))})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The node that runs `jobId`, from the runner's progress record. */
async function runningOn(client: StasisClient, jobId: string): Promise<string> {
  const { progress } = await client.status(jobId);
  const nodeId = (progress as { nodeId?: unknown } | null)?.nodeId;
  if (typeof nodeId !== 'string') throw new Error(`job ${jobId} has no running node in its progress (${JSON.stringify(progress)})`);
  return nodeId;
}

function stat(metric: string, label: string, v: number): Measurement {
  return { metric, label, unit: 'ms', value: v, better: 'lower' };
}

/** Builds the queue-level migration scenario. */
export function queueMigration(o: { quick: boolean }): Scenario {
  return {
    name: 'migration through the queue, two stasis serve nodes',
    async run(ctx: BenchContext): Promise<ScenarioResult[]> {
      const conn = await resolveConnection({ env: {}, stateDir: ctx.stateDir });
      ctx.defer(() => conn.release());
      if (!conn.embedded) throw new Error('expected the embedded Redis');
      const redisUrl = `unix://${conn.embedded.socket}`;
      const queue = `bench-mig-${randomUUID().slice(0, 8)}`;
      const store = path.join(ctx.workDir, 'queue-store');
      await fs.mkdir(store, { recursive: true });
      const client = new StasisClient({ connection: conn.options, queue });
      ctx.defer(() => client.close());
      const nodes = [await startServe(ctx, 'bench-A', redisUrl, queue, store)];
      const out: ScenarioResult[] = [];
      for (const mib of o.quick ? [0] : [0, 256]) {
        // Even: raw's move goes before the job's in half of them and after it in the other half.
        const moves = o.quick ? 4 : mib > 0 ? 4 : 6;
        out.push(...(await measure(ctx, client, nodes, () => startServe(ctx, 'bench-B', redisUrl, queue, store), mib, moves)));
      }
      return out;
    },
  };
}

/**
 * Moves one stamped counter job `moves` times (+1 warm-up) between the two nodes, interleaved with
 * raw runc moving the same workload; the first call starts node B once the job runs on A.
 */
async function measure(
  ctx: BenchContext,
  client: StasisClient,
  nodes: ServeNode[],
  startB: () => Promise<ServeNode>,
  mib: number,
  moves: number,
): Promise<ScenarioResult[]> {
  const group = mib > 0 ? `migration via the queue (counter + ${mib} MiB)` : 'migration via the queue (counter)';
  const jobId = await client.submit({ command: counterArgs({ mib, stamped: true }), limits: { memory: `${memoryHolderLimits(mib).memoryBytes! >> 20}m` } });
  // Long enough for the memory holder to fill (1 GiB takes ~3 s here).
  await waitForCount(client, jobId, mib > 0 ? 150 : 20);
  if (nodes.length < 2) nodes.push(await startB());
  const verbMs: number[] = [];
  const rawXs: MigrationSample[] = [];
  const raw = new RawMigration(ctx, { mib, stamped: true });
  // With both nodes up (the 256 MiB job) either may have taken the job: the first move goes to the other.
  const on = await runningOn(client, jobId);
  let to = nodes.find((n) => n.id !== on)!.id;
  try {
    await raw.start();
    await raw.migrate(); // warm-up, like the stasis job's first move below
    for (let i = 0; i <= moves; i++) {
      // Alternate which goes first, so neither always follows the other's page-cache writes.
      const rawFirst = i > 0 && i % 2 === 0;
      if (rawFirst) rawXs.push(await raw.migrate());
      const { logs } = await client.queue.getJobLogs(jobId, 0, -1);
      const before = stampedLines(logs).at(-1)?.n ?? 0;
      const t0 = performance.now();
      const moved = await client.migrate(jobId, { to });
      if (i > 0) verbMs.push(performance.now() - t0);
      to = moved.from; // back where it came from next time
      await waitForCount(client, jobId, before + 40);
      if (i > 0 && !rawFirst) rawXs.push(await raw.migrate());
      if (i > 0) ctx.progress.tick(group, i, moves);
    }
  } finally {
    await raw.close();
    await client.cancel(jobId).catch(() => undefined);
    await client.wait(jobId, { timeoutMs: 30_000 }).catch(() => undefined);
  }
  const { logs } = await client.queue.getJobLogs(jobId, 0, -1);
  const lines = stampedLines(logs);
  const gaps = lines.slice(1).map((l, k) => ({ after: lines[k]!, first: l, ms: l.at - lines[k]!.at }));
  // The moves are the largest gaps; the first one is the warm-up.
  const moveGaps = [...gaps].sort((x, y) => y.ms - x.ms).slice(0, moves + 1).sort((x, y) => x.after.n - y.after.n).slice(1);
  const jumps = gaps.filter((g) => g.first.n !== g.after.n + 1).length;
  const downtimes = moveGaps.map((g) => g.ms);
  return [
    {
      scenario: 'raw runc migration by hand',
      group,
      kind: 'baseline',
      measurements: [stat('downtime', 'downtime (median)', median(rawXs.map((x) => x.downtimeMs))), stat('downtime.max', 'downtime, worst', Math.max(...rawXs.map((x) => x.downtimeMs)))],
      samples: { downtimeMs: rawXs.map((x) => x.downtimeMs) },
      notes: ['the same stamped workload moved by hand between two runc roots (bench/raw-migration.ts), interleaved; downtime from the job\'s wall-clock stamps, as for stasis'],
    },
    {
      scenario: 'stasis job migrate between two stasis serve nodes',
      group,
      kind: 'stasis',
      measurements: [
        stat('downtime', 'downtime (median)', median(downtimes)),
        stat('downtime.max', 'downtime, worst', Math.max(...downtimes)),
        stat('verb', 'migrate call: request → answered (median)', median(verbMs)),
      ],
      samples: { downtimeMs: downtimes, verbMs },
      notes: [
        `${moves} moves after a warm-up, alternating between bench-A and bench-B (--to); each: checkpoint on the owner, commit, hand back (moveToWait), claim + checkRestorable + restore on the target`,
        'lines stamped with the wall clock by the job itself (adjtimex, µs; not /proc/uptime, which CRIU\'s time namespace stops during the move); downtime = the largest gaps between consecutive counts in job.log',
        jumps === 0 ? `job.log holds every count once, 0…${lines.at(-1)?.n ?? 0}, across ${moves + 1} moves` : `${jumps} jumps in the count (lines lost or repeated)`,
      ],
    },
  ];
}
