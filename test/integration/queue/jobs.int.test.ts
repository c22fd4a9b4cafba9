import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Job } from 'bullmq';
import { describeWithHost } from '../../helpers/host.js';
import { startRunner, type Runner } from '../../../src/node/runner.js';
import { requestCancel } from '../../../src/queue/cancel.js';
import type { JobResult } from '../../../src/queue/result.js';
import { Redis } from 'ioredis';
import fs from 'node:fs/promises';
import { runDirOf } from '../../../src/config/load.js';
import { TMPFS_MAGIC } from '../../../src/runtime/run-dir.js';
import { mountsUnder } from '../../helpers/mounts.js';
import { leftoverTasks, producer, queueName, startTestRedis, stateDir, wipeState, type TestRedis } from './harness.js';

/** Pids of the conmon processes working under `stateDir` (their argv names it). */
async function monitorsOf(stateDir: string): Promise<number[]> {
  const out: number[] = [];
  for (const d of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    // A process gone meanwhile has no cmdline: not ours.
    const argv = (await fs.readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (argv[0]?.endsWith('conmon') && argv.some((a) => a.startsWith(`${stateDir}/`))) out.push(Number(d));
  }
  return out;
}

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'queue runner: jobs end to end', () => {
  let redis: TestRedis;
  let dir: string;
  let runner: Runner | null = null;
  let prod: Awaited<ReturnType<typeof producer>> | null = null;

  beforeAll(async () => {
    redis = await startTestRedis();
    dir = stateDir();
  });
  afterEach(async () => {
    await prod?.close();
    prod = null;
    await runner?.close();
    runner = null;
    expect(await leftoverTasks(dir)).toEqual([]);
  });
  afterAll(async () => {
    await runner?.close({ force: true });
    await wipeState(dir);
    await redis.stop();
  });

  async function setup(opts: { concurrency?: number; killGraceMs?: number } = {}) {
    const queue = queueName();
    runner = await startRunner({
      connection: redis.options,
      runtime: { stateDir: dir },
      runner: { queue, nodeId: 'n1', concurrency: opts.concurrency ?? 4, killGraceMs: opts.killGraceMs ?? 1000, statsIntervalMs: 200 },
      env: {},
    });
    prod = await producer(redis, queue);
    return prod;
  }

  it('keeps its run dir on a tmpfs while it runs, and unmounts it when it closes with no task left', async () => {
    const { queue, events } = await setup();
    const job = await queue.add('on-tmpfs', { command: ['true'] });
    expect(await job.waitUntilFinished(events, 30_000)).toMatchObject({ exitStatus: 0 });
    expect((await fs.statfs(runDirOf(dir))).type).toBe(TMPFS_MAGIC);
    expect(mountsUnder(dir)).toContain(runDirOf(dir));
    await runner!.close();
    runner = null;
    expect(mountsUnder(dir)).toEqual([]);
  });

  it('closes right after its jobs and leaves no prepared sandbox, monitor or mount behind', async () => {
    // Each job refills the prepared sandboxes 25 ms after it took one: a close may find them under way.
    for (let round = 0; round < 3; round++) {
      const { queue, events } = await setup({ concurrency: 2 });
      for (let i = 0; i < 2; i++) {
        const job = await queue.add('then-close', { command: ['true'] });
        expect(await job.waitUntilFinished(events, 30_000)).toMatchObject({ exitStatus: 0 });
      }
      await runner!.close();
      runner = null;
      await prod!.close();
      prod = null;
      // A conmon whose `runc create` a stopped thread left would still be there (or come) now.
      await new Promise((r) => setTimeout(r, 300));
      expect(mountsUnder(dir)).toEqual([]);
      expect(await monitorsOf(dir)).toEqual([]);
    }
  });

  it('runs a plain BullMQ job and returns the envelope with exit status and ExitedAt', async () => {
    const { queue, events } = await setup();
    const before = Date.now();
    const job = await queue.add('hello', { command: ['sh', '-c', 'echo out; echo err >&2'] });
    const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
    expect(r).toMatchObject({ jobId: job.id, attempt: 0, nodeId: 'n1', status: 'exited', exitStatus: 0, signal: null, reason: 'exited' });
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(r.stdoutTruncated).toBe(false);
    expect(Date.parse(r.exitedAt!)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(r.exitedAt!)).toBeGreaterThanOrEqual(Date.parse(r.startedAt!) - 50);
    const logs = await queue.getJobLogs(job.id!);
    expect(logs.logs.flatMap((e) => e.split('\n'))).toEqual(expect.arrayContaining(['out', '[stderr] err']));
  });

  it('starts every job with no signal blocked or ignored, whatever the node inherited', async () => {
    const { queue, events } = await setup();
    // Three jobs: a cold sandbox and prepared ones (conmon is spawned by the node's helper either way).
    for (let i = 0; i < 3; i++) {
      // The program itself reads its status: busybox sh ignores SIGQUIT, and its forked applets keep that.
      const job = await queue.add('signals', { command: ['cat', '/proc/self/status'] });
      const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
      expect(r.stdout).toMatch(/^SigBlk:\t0{16}$/m);
      expect(r.stdout).toMatch(/^SigIgn:\t0{16}$/m);
    }
  });

  it('completes a non-zero exit with its status and caps output with truncation flags', async () => {
    const { queue, events } = await setup();
    const job = await queue.add('fail', { command: ['sh', '-c', 'seq 1 2000; exit 3'], limits: { outputBytes: 100 } });
    const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
    expect(r.exitStatus).toBe(3);
    expect(r.reason).toBe('exited');
    expect(r.stdoutTruncated).toBe(true);
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(100);
    expect(r.stdout.startsWith('1\n2\n3\n')).toBe(true);
    expect(r.logPath).toBeTruthy();
    expect((await Job.fromId(queue, job.id!))?.finishedOn).toBeTruthy();
  });

  it('reports CPU time from the container cgroup', async () => {
    const { queue, events } = await setup();
    const job = await queue.add('busy', { command: ['sh', '-c', 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done'] });
    const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
    expect(r.exitStatus).toBe(0);
    expect(r.cpuMs).toBeGreaterThan(50);
    expect(r.peakMemoryBytes).toBeGreaterThan(0);
  });

  it('fails the job on a non-zero exit when failOnNonZero is set', async () => {
    const { queue, events } = await setup();
    const job = await queue.add('strict', { command: ['sh', '-c', 'echo kept; exit 3'], failOnNonZero: true });
    await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(/status 3/);
    // The envelope of the run stays reachable on the failed job.
    const failed = (await Job.fromId(queue, job.id!))!;
    expect(failed.data.stasisResult).toMatchObject({ exitStatus: 3, reason: 'exited', stdout: 'kept\n' });
  });

  it('fails a job whose rootfs is outside the allowed roots at once, without retries', async () => {
    const { queue, events } = await setup();
    const job = await queue.add('norootfs', { command: ['true'], rootfs: '/nonexistent/rootfs' }, { attempts: 2 });
    await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(/ERR_PERMISSION_DENIED: rootfs `\/nonexistent\/rootfs` is outside the allowed roots/);
    expect((await Job.fromId(queue, job.id!))!.attemptsMade).toBe(1);
  });

  it('completes a job whose program does not exist as failed-to-start 127, with one attempt and the cause in stderr', async () => {
    const { queue, events } = await setup();
    const job = await queue.add('nobinary', { command: ['/no/such/binary'] }, { attempts: 2 });
    const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
    expect(r).toMatchObject({ reason: 'failed-to-start', exitStatus: 127, status: 'exited' });
    expect(r.stderr).toBe('stasis: cannot start: /no/such/binary: no such file or directory\n');
    expect((await Job.fromId(queue, job.id!))!.attemptsMade).toBe(1);
    const named = (await (await queue.add('nocmd', { command: ['no-such-cmd'] })).waitUntilFinished(events, 30_000)) as JobResult;
    expect(named).toMatchObject({ reason: 'failed-to-start', exitStatus: 127 });
    const notExec = (await (await queue.add('noexec', { command: ['/etc/passwd'] })).waitUntilFinished(events, 30_000)) as JobResult;
    expect(notExec).toMatchObject({ reason: 'failed-to-start', exitStatus: 126 });
    const noCwd = (await (await queue.add('nocwd', { command: ['true'], cwd: '/no/such/dir' })).waitUntilFinished(events, 30_000)) as JobResult;
    expect(noCwd).toMatchObject({ reason: 'failed-to-start', exitStatus: 127 });
  });

  it('fails bad payloads at once, without retries, naming each field, before runc', async () => {
    const { queue, events } = await setup();
    const job = await queue.add('bad', { command: [], limits: { memory: -1 }, imagee: 'x' }, { attempts: 3 });
    await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(/limits\.memory/);
    const j = (await Job.fromId(queue, job.id!))!;
    expect(j.attemptsMade).toBe(1);
    expect(j.failedReason).toContain('`command`');
    expect(j.failedReason).toContain('`imagee`');
    expect(j.failedReason).toContain('Expected `limits.memory` to be a byte size like `256m`, got `-1`');
  });

  it('stops a job at its timeout with SIGTERM and reports reason timeout', async () => {
    const { queue, events } = await setup();
    const cmd = 'trap "echo got-term; exit 7" TERM; while :; do sleep 0.1; done';
    const job = await queue.add('slow', { command: ['sh', '-c', cmd], limits: { timeout: 1, killGrace: 5 } });
    const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
    expect(r).toMatchObject({ reason: 'timeout', exitStatus: 7, stdout: 'got-term\n' });
    expect(r.wallMs).toBeGreaterThanOrEqual(900);
    expect(r.wallMs).toBeLessThan(5000);
  });

  it('SIGKILLs a job that ignores SIGTERM after the grace period', async () => {
    const { queue, events } = await setup();
    // TERM ignored by the shell and (inherited) by its children: only the KILL after the grace ends it.
    const job = await queue.add('stubborn', { command: ['sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done'], limits: { timeout: 1, killGrace: 0.5 } });
    const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
    expect(r).toMatchObject({ reason: 'timeout', exitStatus: 137, signal: 'SIGKILL' });
    expect(r.wallMs).toBeLessThan(1500 + 500);
  });

  it('reports oom for a job over its memory limit', async () => {
    const { queue, events } = await setup();
    const job = await queue.add('hog', { command: ['sh', '-c', 'tail /dev/zero'], limits: { memory: '16m' } });
    const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
    expect(r.reason).toBe('oom');
    expect(r.exitStatus).toBe(137);
    expect(r.peakMemoryBytes).toBeGreaterThan(8 * 1024 * 1024);
  });

  it('cancels a running job through a stasis cancel request and reports cancelled', async () => {
    const { queue, events } = await setup({ killGraceMs: 500 });
    const job = await queue.add('long', { command: ['sleep', '30'] });
    await new Promise<void>((resolve) => events.on('progress', ({ jobId }) => jobId === job.id && resolve()));
    const client = new Redis(redis.options);
    await requestCancel(client, { queue: queue.name }, job.id!);
    client.disconnect();
    const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
    expect(r.reason).toBe('cancelled');
    expect(r.exitStatus).not.toBe(0);
  });

  it("cancels a running job through BullMQ's worker.cancelJob", async () => {
    const { queue, events } = await setup({ killGraceMs: 500 });
    const job = await queue.add('long', { command: ['sleep', '30'] });
    await new Promise<void>((resolve) => events.on('progress', ({ jobId }) => jobId === job.id && resolve()));
    expect(runner!.consumer.worker.cancelJob(job.id!)).toBe(true);
    const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
    expect(r.reason).toBe('cancelled');
  });

  it('runs 50 jobs across the pool, each completing exactly once', async () => {
    const { queue, events } = await setup({ concurrency: 8 });
    const completions = new Map<string, number>();
    events.on('completed', ({ jobId }) => completions.set(jobId, (completions.get(jobId) ?? 0) + 1));
    const jobs = await queue.addBulk(Array.from({ length: 50 }, (_, i) => ({ name: `j${i}`, data: { command: ['sh', '-c', `echo ${i}`] } })));
    const results = (await Promise.all(jobs.map((j) => j.waitUntilFinished(events, 120_000)))) as JobResult[];
    results.forEach((r, i) => {
      expect(r.exitStatus).toBe(0);
      expect(r.stdout).toBe(`${i}\n`);
    });
    expect(new Set(results.map((r) => r.taskId)).size).toBe(50);
    await new Promise((r) => setTimeout(r, 500));
    expect([...completions.values()].every((n) => n === 1)).toBe(true);
    expect(completions.size).toBe(50);
  }, 180_000);
});
