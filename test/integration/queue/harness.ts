/** Shared set-up of the queue integration tests: a Redis per file, private state dirs, clean-up checks. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, QueueEvents } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { redisOptionsFromUrl } from '../../../src/queue/connection.js';
import { openTaskManager } from '../../../src/runtime/task-manager.js';
import { unmountUnder } from '../../helpers/mounts.js';

/** A Redis for one test file: REDIS_URL when set, else a private redis-server on a unix socket. */
export interface TestRedis {
  options: RedisOptions;
  url: string;
  stop(): Promise<void>;
}

/** Starts (or points at) the file's Redis; `own`: a private one even where REDIS_URL is set (its stats are the file's alone). */
export async function startTestRedis(o: { own?: boolean } = {}): Promise<TestRedis> {
  if (process.env.REDIS_URL && !o.own) {
    return { options: redisOptionsFromUrl(process.env.REDIS_URL), url: process.env.REDIS_URL, stop: async () => {} };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stasis-qredis-'));
  const sock = path.join(dir, 'redis.sock');
  const child: ChildProcess = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const options: RedisOptions = { path: sock, maxRetriesPerRequest: null };
  for (let i = 0; i < 100; i++) {
    if (fs.existsSync(sock)) {
      const r = new Redis({ ...options, lazyConnect: true });
      const ok = await r.connect().then(() => r.ping()).then(() => true, () => false);
      r.disconnect();
      if (ok) break;
    }
    await sleep(50);
  }
  return {
    options,
    url: `unix://${sock}`,
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh queue name. */
export function queueName(): string {
  return `q-${randomUUID().slice(0, 8)}`;
}

/** A private state dir (short path: conmon's attach socket path must stay under 108 bytes). */
export function stateDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'stq-'));
}

/** A producer side: Queue + QueueEvents of one queue. */
export async function producer(redis: TestRedis, name: string): Promise<{ queue: Queue; events: QueueEvents; close(): Promise<void> }> {
  const queue = new Queue(name, { connection: redis.options });
  queue.setMaxListeners(200); // each job.waitUntilFinished adds a 'closing' listener to its queue
  const events = new QueueEvents(name, { connection: redis.options });
  await events.waitUntilReady();
  return {
    queue,
    events,
    close: async () => {
      await events.close();
      await queue.close();
    },
  };
}

/** Task ids still present in a state dir (should be none after every test). */
export async function leftoverTasks(dir: string): Promise<string[]> {
  const mgr = await openTaskManager({ stateDir: dir });
  return (await mgr.list()).map((t) => `${t.info.namespace}/${t.info.id}:${t.state.status}`);
}

/** Kills and deletes every task of a state dir (afterAll safety net), then removes the dir. */
export async function wipeState(dir: string): Promise<void> {
  const mgr = await openTaskManager({ stateDir: dir });
  for (const t of await mgr.list()) {
    const task = await mgr.get(t.info.id, t.info.namespace).catch(() => null);
    if (!task) continue;
    await task.kill('SIGKILL', { all: true }).catch(() => undefined);
    await task.wait(AbortSignal.timeout(5000)).catch(() => undefined);
    await task.delete().catch(() => undefined);
  }
  // A runner closed by force (or killed) leaves its run dir's tmpfs mounted.
  unmountUnder(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}
