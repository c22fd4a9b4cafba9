/**
 * Job control through the typed client (client.control) against a real runner started in-process:
 * every verb on a real container, and the errors a caller can meet.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { StasisClient } from '../../../src/queue/client.js';
import { startRunner, type Runner } from '../../../src/node/runner.js';
import type { JobPayloadInput } from '../../../src/queue/job-schema.js';
import { leftoverTasks, queueName, startTestRedis, stateDir, type TestRedis } from '../queue/harness.js';
import { wipeAll } from './cleanup.js';

describeWithHost(['root', 'runc', 'conmon', 'criu', 'redis-server', 'busybox'], 'job control through the client', () => {
  let redis: TestRedis;
  let dir = '';
  let runner: Runner;
  let client: StasisClient;
  const queue = queueName();
  const nodeId = `n-${randomUUID().slice(0, 6)}`;

  beforeAll(async () => {
    redis = await startTestRedis();
    dir = stateDir();
    runner = await startRunner({
      connection: redis.options,
      runtime: { stateDir: dir },
      runner: { queue, nodeId, concurrency: 6, killGraceMs: 500, checkpointDir: path.join(dir, 'store') },
      env: {},
    });
    client = new StasisClient({ connection: redis.options, queue });
  });

  afterAll(async () => {
    await client?.close();
    // Graceful, so the last tasks' deletes finish; jobs a failed test left running are stopped first.
    for (const id of runner?.consumer.activeJobs() ?? []) runner.consumer.stop(id, 'cancelled');
    await runner?.close().catch(() => undefined);
    const left = dir ? await leftoverTasks(dir) : [];
    if (dir) await wipeAll(dir);
    await redis?.stop();
    expect(left).toEqual([]);
  }, 120_000);

  /** Submits a job and waits until its container runs (progress says so). */
  async function running(payload: JobPayloadInput): Promise<string> {
    const id = await client.submit(payload);
    for (let i = 0; i < 600; i++) {
      const p = (await client.status(id)).progress as { status?: string; nodeId?: string } | null;
      if (p?.status === 'running' && p.nodeId) return id;
      await sleep(50);
    }
    throw new Error(`job ${id} did not start`);
  }

  /** Cancels a job and waits for its result, so no container outlives the test. */
  async function finish(id: string): Promise<void> {
    await client.cancel(id);
    await client.wait(id, { timeoutMs: 30_000 });
  }

  it('pause freezes the job (ps shows it paused, its output stops), resume thaws it and it goes on', async () => {
    const id = await running({ command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.1; done'] });
    try {
      expect(await client.control.pause(id)).toEqual({ status: 'paused' });
      const ps = await client.control.ps(id);
      expect(ps.status).toBe('paused');
      expect(ps.processes.length).toBeGreaterThan(0);
      expect(ps.processes.map((p) => p.info.comm)).toContain('sh');
      const count = async () => {
        const lines: string[] = [];
        for await (const l of client.logs(id)) lines.push(l);
        return lines.length;
      };
      await sleep(800); // lines written before the freeze reach job.log
      const frozen = await count();
      await sleep(600);
      expect(await count()).toBe(frozen);
      await expect(client.control.pause(id)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
      await expect(client.control.exec(id, ['true'])).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringContaining('paused') });
      expect(await client.control.resume(id)).toEqual({ status: 'running' });
      expect((await client.control.ps(id)).status).toBe('running');
      await sleep(600);
      expect(await count()).toBeGreaterThan(frozen);
    } finally {
      await finish(id);
    }
  });

  it('a paused job can still be cancelled: it ends as cancelled, not frozen forever', async () => {
    const id = await running({ command: ['sh', '-c', 'while true; do sleep 0.1; done'] });
    await client.control.pause(id);
    await client.cancel(id);
    expect(await client.wait(id, { timeoutMs: 20_000 })).toMatchObject({ reason: 'cancelled' });
  });

  it('exec returns the exit status and the output of a command run inside the job', async () => {
    const id = await running({ command: ['sleep', '60'], env: { GREETING: 'hi' } });
    try {
      const r = await client.control.exec(id, ['sh', '-c', 'echo $GREETING from $(hostname); echo oops >&2; exit 7']);
      expect(r).toMatchObject({ exitStatus: 7, signal: null, stderr: 'oops\n', stdoutTruncated: false, timedOut: false });
      expect(r.stdout).toMatch(/^hi from .+\n$/);
      expect(new Date(r.exitedAt).toISOString()).toBe(r.exitedAt);
      const cat = await client.control.exec(id, ['cat'], { stdin: 'fed through stdin' });
      expect(cat).toMatchObject({ exitStatus: 0, stdout: 'fed through stdin' });
      const env = await client.control.exec(id, ['sh', '-c', 'echo $X; pwd'], { env: ['X=1'], cwd: '/tmp' });
      expect(env.stdout).toBe('1\n/tmp\n');
      const tty = await client.control.exec(id, ['sh', '-c', 'test -t 1 && echo on a tty'], { tty: true });
      expect(tty).toMatchObject({ exitStatus: 0 });
      expect(tty.stdout).toMatch(/^on a tty\r?\n$/);
      const slow = await client.control.exec(id, ['sleep', '30'], { timeoutMs: 500 });
      expect(slow).toMatchObject({ timedOut: true, signal: 'SIGKILL', exitStatus: 137 });
      const big = await client.control.exec(id, ['sh', '-c', 'yes | head -c 10000'], { outputBytes: 100 });
      expect(big.stdout.length).toBe(100);
      expect(big.stdoutTruncated).toBe(true);
      // Through the seccomp loader, a missing program is the exec's own start failure, as for a job.
      const missing = await client.control.exec(id, ['/no/such/binary']);
      expect(missing).toMatchObject({ exitStatus: 127 });
      expect(missing.stderr).toBe('stasis: cannot start: /no/such/binary: No such file or directory\n');
    } finally {
      await finish(id);
    }
  });

  it('update changes the limits in place and stats shows them', async () => {
    const id = await running({ command: ['sleep', '60'], limits: { memory: '128m', pids: 50 } });
    try {
      const before = await client.control.stats(id);
      expect(before.memory.limitBytes).toBe(128 << 20);
      expect(before.pids.limit).toBe(50);
      expect(before.pids.current).toBeGreaterThan(0);
      const after = await client.control.update(id, { memoryBytes: 64 << 20, pids: 20, cpus: 0.5 });
      expect(after.memory.limitBytes).toBe(64 << 20);
      expect(after.pids.limit).toBe(20);
      const again = await client.control.stats(id);
      expect(again.memory.limitBytes).toBe(64 << 20);
      expect(again.pids.limit).toBe(20);
      await expect(client.control.update(id, {})).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    } finally {
      await finish(id);
    }
  });

  it('kill sends a signal; the job ends with it (reason exited, with the signal or the status its handler chose)', async () => {
    const id = await running({ command: ['sleep', '60'] });
    // The job's process is pid 1 of its pid namespace: it only dies of signals it handles, or KILL.
    await client.control.kill(id, { signal: 'KILL', all: true });
    const r = await client.wait(id, { timeoutMs: 20_000 });
    expect(r).toMatchObject({ reason: 'exited', signal: 'SIGKILL', exitStatus: 137 });
    const id2 = await running({ command: ['sh', '-c', 'trap "echo got USR1; exit 3" USR1; while true; do sleep 0.1; done'] });
    await client.control.kill(id2, { signal: 'USR1' });
    const r2 = await client.wait(id2, { timeoutMs: 20_000 });
    expect(r2).toMatchObject({ reason: 'exited', exitStatus: 3, stdout: 'got USR1\n' });
    await expect(client.control.kill(id2)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringContaining('completed') });
  });

  it('checkpoint --leave-running stores an image in the checkpoint store and the job keeps running', async () => {
    const id = await running({ command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo count $i; sleep 0.2; done'] });
    try {
      const r = await client.control.checkpoint(id, { leaveRunning: true });
      // The store key is the one periodic and migration checkpoints use: `<queue>:<job id>`.
      expect(r).toMatchObject({ leaveRunning: true, nodeId, store: { root: path.join(dir, 'store'), namespace: 'default', jobId: `${queue}:${id}`, seq: 1 } });
      expect(r.path).toBe(path.join(dir, 'store', 'default', `${queue}:${id}`, '00000001'));
      for (const f of ['manifest.json', 'checkpoint.json', 'config.json', 'criu']) expect(fs.existsSync(path.join(r.path, f)), f).toBe(true);
      expect(fs.existsSync(r.criuLog)).toBe(true);
      expect((await client.control.ps(id)).status).toBe('running');
      const second = await client.control.checkpoint(id, { leaveRunning: true });
      expect(second.store?.seq).toBe(2);
      const image = path.join(dir, `image-${randomUUID().slice(0, 6)}`);
      const third = await client.control.checkpoint(id, { leaveRunning: true, image });
      expect(third).toMatchObject({ path: image, store: null });
      expect(fs.existsSync(path.join(image, 'checkpoint.json'))).toBe(true);
      await expect(client.control.checkpoint(id, { leaveRunning: true, image })).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
      await expect(client.control.checkpoint(id)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringContaining('migrate') });
      expect((await client.control.ps(id)).status).toBe('running');
    } finally {
      await finish(id);
    }
  });

  it('a checkpoint taken through control seeds a new job that goes on counting from it (restoreFrom)', async () => {
    const id = await running({ command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo count $i; sleep 0.1; done'] });
    let at = 0;
    try {
      await sleep(1500);
      const ck = await client.control.checkpoint(id, { leaveRunning: true });
      const lines: string[] = [];
      for await (const l of client.logs(id)) lines.push(l);
      at = Number(/count (\d+)/.exec(lines.at(-1) ?? '')?.[1] ?? 0);
      expect(ck.store?.seq).toBe(1);
    } finally {
      await finish(id);
    }
    const seeded = await client.submit({ command: ['true'], restoreFrom: { jobId: id }, limits: { timeout: 1 } });
    const r = await client.wait(seeded, { timeoutMs: 60_000 });
    const first = Number(/count (\d+)/.exec(r.stdout)?.[1] ?? -1);
    expect(first).toBeGreaterThan(5);
    expect(first).toBeLessThanOrEqual(at + 2);
  });

  it('checkpoint is refused for a job whose payload forbids checkpoints', async () => {
    const id = await running({ command: ['sleep', '60'], checkpoint: { allow: false } });
    try {
      await expect(client.control.checkpoint(id, { leaveRunning: true })).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringContaining('checkpoint.allow') });
    } finally {
      await finish(id);
    }
  });

  it('resize changes the terminal size of a tty job; a job without a tty refuses', async () => {
    const id = await running({ command: ['sh', '-c', 'while true; do stty size; sleep 0.2; done'], tty: true });
    try {
      await client.control.resize(id, { width: 123, height: 45 });
      let seen = false;
      for (let i = 0; i < 50 && !seen; i++) {
        for await (const l of client.logs(id)) if (l.trim() === '45 123') seen = true;
        if (!seen) await sleep(100);
      }
      expect(seen).toBe(true);
    } finally {
      await finish(id);
    }
    const plain = await running({ command: ['sleep', '60'] });
    try {
      await expect(client.control.resize(plain, { width: 80, height: 24 })).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringContaining('tty') });
    } finally {
      await finish(plain);
    }
  });

  it('a job that is not running gives a clear error naming its state', async () => {
    await expect(client.control.pause('no-such-job')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    const delayed = await client.submit({ command: ['true'] }, { delay: 60_000 });
    await expect(client.control.ps(delayed)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringContaining('delayed') });
    await client.queue.remove(delayed);
    const done = await client.submit({ command: ['true'] });
    await client.wait(done, { timeoutMs: 20_000 });
    await expect(client.control.stats(done)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: `job ${done} has already completed; only a running job can be controlled` });
  });

  it('bad arguments and unknown verbs come back as ERR_INVALID_ARGUMENT from the node', async () => {
    const id = await running({ command: ['sleep', '60'] });
    try {
      await expect(client.control.kill(id, { signal: 'NOT A SIGNAL' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      await expect(client.control.send(id, 'frobnicate')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining("unknown control verb 'frobnicate'") });
      await expect(client.control.send(id, 'resize', { width: -1, height: 2 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('args.width') });
    } finally {
      await finish(id);
    }
  });
});

