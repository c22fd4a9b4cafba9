import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import type { JobResult } from '../../../src/queue/result.js';
import { repoRoot } from '../../../src/pool/pool.js';
import { leftoverTasks, producer, queueName, startTestRedis, stateDir, wipeState, type TestRedis } from './harness.js';

const MAIN = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');

/** Starts `stasis serve` as a child process and resolves once it printed its ready line. */
async function serve(args: string[]): Promise<{ child: ChildProcess; ready: { recovery: { adopted: string[]; discarded: string[] } } }> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const ready = await new Promise<{ recovery: { adopted: string[]; discarded: string[] } }>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  return { child, ready };
}

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'queue runner: crash safety', () => {
  let redis: TestRedis;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build`);
    redis = await startTestRedis();
    dir = stateDir();
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await wipeState(dir);
    await redis.stop();
  });

  it('a runner SIGKILLed mid-job and started again posts the result once with the real ExitedAt and leaves no container', async () => {
    const queue = queueName();
    const args = ['--redis', redis.url, '--queue', queue, '--node-id', 'crash-node', '--state-dir', dir, '--kill-grace', '1000'];
    const first = await serve(args);
    children.push(first.child);
    const { queue: q, events, close } = await producer(redis, queue);
    try {
      const completed: string[] = [];
      events.on('completed', ({ jobId }) => completed.push(jobId));
      const job = await q.add('survivor', { command: ['sh', '-c', 'echo before; sleep 2; echo after; exit 5'] });
      await new Promise<void>((resolve) => events.on('progress', ({ jobId }) => jobId === job.id && resolve()));
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      // Stay down past the container's exit: the exit time must come from the monitor, not from us.
      await new Promise((r) => setTimeout(r, 3500));
      const restartedAt = Date.now();
      const second = await serve(args);
      children.push(second.child);
      expect(second.ready.recovery.adopted).toHaveLength(1);
      const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
      expect(r).toMatchObject({ jobId: job.id, exitStatus: 5, reason: 'exited', nodeId: 'crash-node' });
      expect(r.stdout).toBe('before\nafter\n');
      expect(Date.parse(r.exitedAt!)).toBeLessThan(restartedAt);
      expect(Date.parse(r.exitedAt!) - Date.parse(r.startedAt!)).toBeGreaterThanOrEqual(1900);
      await new Promise((res) => setTimeout(res, 1000));
      expect(completed.filter((id) => id === job.id)).toHaveLength(1);
      second.child.kill('SIGTERM');
      await new Promise((res) => second.child.once('exit', res));
      expect(await leftoverTasks(dir)).toEqual([]);
      const runcList = execFileSync('runc', ['--root', path.join(dir, 'run', 'runc'), 'list', '-q'], { encoding: 'utf8' }).trim();
      expect(runcList).toBe('');
    } finally {
      await close();
    }
  }, 90_000);

  it('a restarted runner kills tasks whose job already finished', async () => {
    const queue = queueName();
    const args = ['--redis', redis.url, '--queue', queue, '--node-id', 'crash-node2', '--state-dir', dir];
    const first = await serve(args);
    children.push(first.child);
    const { queue: q, events, close } = await producer(redis, queue);
    try {
      const job = await q.add('orphan', { command: ['sleep', '60'] });
      await new Promise<void>((resolve) => events.on('progress', ({ jobId }) => jobId === job.id && resolve()));
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      await q.obliterate({ force: true });
      const second = await serve(args);
      children.push(second.child);
      expect(second.ready.recovery.discarded).toHaveLength(1);
      second.child.kill('SIGTERM');
      await new Promise((res) => second.child.once('exit', res));
      expect(await leftoverTasks(dir)).toEqual([]);
    } finally {
      await close();
    }
  }, 90_000);
});
