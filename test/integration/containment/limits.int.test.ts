/**
 * Containment: every limit is hard and every ending is told truly (issue 8). A real runner node;
 * each test asserts the limit held, the reason is honest and the host kept nothing of the job.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Job } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRunner, type Runner } from '../../../src/node/runner.js';
import { loadPolicy } from '../../../src/policy/load.js';
import type { JobResult } from '../../../src/queue/result.js';
import { outputStreamKey } from '../../../src/queue/output-log.js';
import { stateDirTag } from '../../../src/runtime/ids.js';
import { describeWithHost } from '../../helpers/host.js';
import { leftoverTasks, producer, queueName, startTestRedis, wipeState, type TestRedis } from '../queue/harness.js';

let redis: TestRedis;
let runner: Runner | null = null;
let state: string;
let queue: string;
let prod: Awaited<ReturnType<typeof producer>>;

async function result(data: Record<string, unknown>, opts: { attempts?: number } = {}): Promise<{ r: JobResult; job: Job }> {
  const job = await prod.queue.add('limit', data, { attempts: opts.attempts ?? 1 });
  return { r: (await job.waitUntilFinished(prod.events, 90_000)) as JobResult, job };
}

/** Seconds between the start and the end of a run. */
const wall = (r: JobResult) => (Date.parse(r.exitedAt!) - Date.parse(r.startedAt!)) / 1000;

async function freeBytes(dir: string): Promise<number> {
  const { stdout } = await execa('df', ['--output=avail', '-B1', dir]);
  return Number(stdout.trim().split('\n').pop());
}

describeWithHost(['runc', 'conmon', 'root', 'busybox', 'redis-server'], 'containment: limits that hold and endings told truly', () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    state = await fs.mkdtemp(path.join(os.tmpdir(), 'stc-'));
    queue = queueName();
    runner = await startRunner({
      connection: redis.options,
      runtime: { stateDir: state },
      runner: { queue, nodeId: 'lim', concurrency: 2, statsIntervalMs: 200 },
      policy: loadPolicy({}, {}),
      env: {},
    });
    prod = await producer(redis, queue);
  });

  afterAll(async () => {
    await prod?.close();
    await runner?.close();
    if (state) {
      expect(await leftoverTasks(state)).toEqual([]);
      await wipeState(state);
    }
    await redis?.stop();
  });

  it.each([
    ['a sleeping shell', 'sleep 30'],
    ['a CPU spin', 'while :; do :; done'],
    ['a loop that ignores TERM', 'trap "" TERM; while :; do sleep 0.1; done'],
  ])('--timeout 2 of %s ends within timeout + grace + 0.5 s, reason timeout', async (_what, script) => {
    const { r } = await result({ command: ['sh', '-c', script], limits: { timeout: 2, killGrace: 1 } });
    expect(r.reason).toBe('timeout');
    expect(wall(r)).toBeGreaterThanOrEqual(1.9);
    expect(wall(r)).toBeLessThanOrEqual(2 + 1 + 0.5);
  });

  it('a cancel ends a shell job at once: the rest of its script never runs', async () => {
    const job = await prod.queue.add('cancel', { command: ['sh', '-c', 'echo step1; sleep 60; echo step2-start; sleep 2; echo step2-done'] });
    await new Promise<void>((resolve) => prod.events.on('progress', ({ jobId }) => jobId === job.id && resolve()));
    expect(runner!.consumer.stop(job.id!, 'cancelled')).toBe(true);
    const r = (await job.waitUntilFinished(prod.events, 30_000)) as JobResult;
    expect(r.reason).toBe('cancelled');
    expect(r.stdout).toBe('step1\n');
    expect(r.exitStatus).not.toBe(0);
  });

  it('a job that traps TERM and exits 0 on its timeout is a timeout, and failOnNonZero fails it', async () => {
    const script = 'trap "exit 0" TERM; while :; do sleep 0.1; done';
    const { r } = await result({ command: ['sh', '-c', script], limits: { timeout: 1 } });
    expect(r).toMatchObject({ reason: 'timeout', exitStatus: 0 });
    const job = await prod.queue.add('strict', { command: ['sh', '-c', script], limits: { timeout: 1 }, failOnNonZero: true }, { attempts: 2 });
    await expect(job.waitUntilFinished(prod.events, 30_000)).rejects.toThrow(/ended by timeout/);
    expect((await Job.fromId(prod.queue, job.id!))!.attemptsMade).toBe(1);
  });

  it('limits.cpuTime stops a CPU spin with reason cpu-time', async () => {
    const { r } = await result({ command: ['sh', '-c', 'while :; do :; done'], limits: { cpuTime: 1, timeout: 30 } });
    expect(r.reason).toBe('cpu-time');
    expect(r.cpuMs).toBeGreaterThanOrEqual(1000);
    expect(wall(r)).toBeLessThan(10);
  });

  it('`yes` with a 64 KiB output cap: the log on disk, job.log and the output stream stay within the caps, the result comes < 1 s after the exit', async () => {
    const { r, job } = await result({ command: ['sh', '-c', 'timeout 10 yes; echo done'], limits: { outputBytes: '64k', timeout: 60 } });
    expect(r.stdoutTruncated).toBe(true);
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(64 * 1024);
    expect((await fs.stat(r.logPath!)).size).toBeLessThanOrEqual(4 * 1024 * 1024);
    const logs = (await prod.queue.getJobLogs(job.id!, 0, -1)).logs;
    expect(logs.reduce((n, l) => n + Buffer.byteLength(l), 0)).toBeLessThanOrEqual(2 * 64 * 1024 + 1024);
    expect(logs.join('\n')).toContain('[stasis] output truncated');
    const conn = runner!.consumer.commands;
    const entries = (await conn.xrange(outputStreamKey({ queue }, job.id!), '-', '+')) as [string, string[]][];
    expect(entries.reduce((n, [, f]) => n + Buffer.byteLength(f[3] ?? ''), 0)).toBeLessThanOrEqual(2 * 64 * 1024);
    const finished = (await Job.fromId(prod.queue, job.id!))!.finishedOn!;
    expect(finished - Date.parse(r.exitedAt!)).toBeLessThan(1000);
  });

  it('dd past limits.disk gets ENOSPC inside the job and the host disk is untouched', async () => {
    const before = await freeBytes(state);
    const { r } = await result({ command: ['sh', '-c', 'dd if=/dev/zero of=/big bs=1M count=4000; echo rc=$?; df -k / | tail -1'], limits: { disk: '64m', memory: '256m' } });
    expect(r.stderr).toMatch(/No space left on device|File too large/);
    expect(r.stdout).toMatch(/rc=1/);
    // The job tried to write 4 GB; the host disk is shared with everything else running, so allow noise.
    expect(Math.abs((await freeBytes(state)) - before)).toBeLessThan(512 * 1024 * 1024);
  });

  it('start failures are results, not retries: a missing program is failed-to-start 127 after one attempt', async () => {
    const { r, job } = await result({ command: ['no-such-binary'] }, { attempts: 3 });
    expect(r).toMatchObject({ reason: 'failed-to-start', exitStatus: 127 });
    expect(r.stderr).toContain('no-such-binary: command not found');
    const j = (await Job.fromId(prod.queue, job.id!))!;
    expect(j.attemptsMade).toBeLessThanOrEqual(1);
    expect(await j.getState()).toBe('completed');
  });

  it('a 1 MB cwd is refused at the door in well under a second and leaves no process, mount or directory', async () => {
    const t0 = Date.now();
    const job = await prod.queue.add('cwd', { command: ['true'], cwd: `/${'a'.repeat(1024 * 1024)}` }, { attempts: 3 });
    await expect(job.waitUntilFinished(prod.events, 30_000)).rejects.toThrow(/cwd/);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect((await Job.fromId(prod.queue, job.id!))!.attemptsMade).toBe(1);
    expect(await leftoverTasks(state)).toEqual([]);
    const mounts = await fs.readFile('/proc/self/mountinfo', 'utf8');
    expect(mounts).not.toContain(path.join(state, 'run', 'tasks'));
  });

  it('payloads runc would refuse are refused naming the field, without retries', async () => {
    for (const [data, field] of [
      [{ command: ['x'], user: { uid: 2 ** 31, gid: 0 } }, 'user.uid'],
      [{ command: ['x'], user: { uid: 70000, gid: 0 } }, 'user.uid'],
      [{ command: ['x'], limits: { memory: '1m' } }, 'limits.memory'],
      [{ command: ['x'], env: { 'PATH=/evil:': '1' } }, 'env'],
      [{ command: ['echo', 'a\0b'] }, 'command.1'],
    ] as const) {
      const job = await prod.queue.add('bad', data, { attempts: 3 });
      await expect(job.waitUntilFinished(prod.events, 30_000)).rejects.toThrow(new RegExp(field.replace('.', '\\.')));
      expect((await Job.fromId(prod.queue, job.id!))!.attemptsMade).toBe(1);
    }
  });

  it('deleted tasks leave no cgroup directory behind', async () => {
    await result({ command: ['true'] });
    const tag = stateDirTag(state);
    const left = async () => {
      const out: string[] = [];
      for (const c of ['memory', 'pids', 'cpu', 'freezer', 'systemd']) {
        out.push(...(await fs.readdir(`/sys/fs/cgroup/${c}/stasis`).catch(() => [] as string[])).filter((n) => n.startsWith(tag)).map((n) => `${c}/${n}`));
      }
      return out;
    };
    // The result is posted before the task is deleted: give the delete a moment.
    for (let i = 0; i < 50 && (await left()).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await left()).toEqual([]);
  });
});
