/**
 * Jobs that name an image, through a real runner node and a real registry on 127.0.0.1: the image's
 * config applies, an image without a shell runs (through a prepared sandbox too), the envelope names
 * the digest, the node's policy decides which registries, and `pull: never` fails at once.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Job } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRunner, type Runner } from '../../../src/node/runner.js';
import { loadPolicy } from '../../../src/policy/load.js';
import type { NodePolicy } from '../../../src/policy/schema.js';
import type { JobResult } from '../../../src/queue/result.js';
import { describeWithHost } from '../../helpers/host.js';
import { leftoverTasks, producer, queueName, startTestRedis, wipeState, type TestRedis } from '../queue/harness.js';
import { buildTestImages, startRegistry, type Registry, type TestImages } from './registry.js';

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server', 'skopeo', 'umoci', 'docker-registry'], 'image jobs through a runner node', () => {
  let redis: TestRedis;
  let reg: Registry;
  let imgs: TestImages;
  let state: string;
  let runner: Runner | null = null;
  let prod: Awaited<ReturnType<typeof producer>>;

  async function node(policy: NodePolicy): Promise<void> {
    await prod?.close();
    await runner?.close();
    const queue = queueName();
    runner = await startRunner({ connection: redis.options, runtime: { stateDir: state }, runner: { queue, nodeId: 'img', statsIntervalMs: 200 }, policy, env: {} });
    prod = await producer(redis, queue);
  }
  const allow = (extra: Record<string, unknown> = {}): NodePolicy => ({
    ...loadPolicy({}, {}),
    images: { allowedRegistries: ['127.0.0.1:*'], insecureRegistries: ['127.0.0.1:*'], allowedLayouts: [], pull: 'if-not-present', timeoutMs: 600_000, ...extra } as NodePolicy['images'],
  });

  beforeAll(async () => {
    redis = await startTestRedis();
    reg = await startRegistry();
    imgs = await buildTestImages(reg);
    state = await fs.mkdtemp(path.join(os.tmpdir(), 'sti-'));
    await node(allow());
  });

  afterAll(async () => {
    await prod?.close();
    await runner?.close();
    if (state) {
      expect(await leftoverTasks(state)).toEqual([]);
      await wipeState(state);
    }
    await reg?.stop();
    if (imgs) await fs.rm(imgs.work, { recursive: true, force: true });
    await redis?.stop();
  });

  it("runs an image's Entrypoint+Cmd with its Env, WorkingDir and named User, and records the digest", async () => {
    const job = await prod.queue.add('img', { image: imgs.app.ref });
    const r = (await job.waitUntilFinished(prod.events, 60_000)) as JobResult;
    expect(r).toMatchObject({ reason: 'exited', exitStatus: 0, stdout: 'hello from app\n' });
    expect(r.image).toEqual({ ref: imgs.app.ref, digest: imgs.app.digest });
    const probe = await prod.queue.add('img2', { image: imgs.app.ref, command: ['echo "$MODE $(pwd) $(id -u)"'], env: { MODE: 'job' } });
    const p = (await probe.waitUntilFinished(prod.events, 60_000)) as JobResult;
    expect(p.stdout).toBe('job /home/app 1000\n');
  });

  it('runs an image that has no shell at all (only a static binary)', async () => {
    const job = await prod.queue.add('noshell', { image: imgs.noShell.ref });
    const r = (await job.waitUntilFinished(prod.events, 60_000)) as JobResult;
    expect(r.reason).toBe('exited');
    expect(r.exitStatus).toBe(0);
  });

  it('by digest: the same image; the envelope names the digest', async () => {
    const job = await prod.queue.add('digest', { image: `${reg.host}/team/app@${imgs.app.digest}`, command: ['true'] });
    const r = (await job.waitUntilFinished(prod.events, 60_000)) as JobResult;
    expect(r.image?.digest).toBe(imgs.app.digest);
  });

  it('a registry outside the policy is refused at once; pull: never with a missing image is ERR_NOT_FOUND; a registry that is down is retried', async () => {
    await node({ ...allow(), images: { ...allow().images, allowedRegistries: ['registry.example:5000'] } });
    const forbidden = await prod.queue.add('f', { image: imgs.app.ref }, { attempts: 3 });
    await expect(forbidden.waitUntilFinished(prod.events, 30_000)).rejects.toThrow(/ERR_PERMISSION_DENIED/);
    expect((await Job.fromId(prod.queue, forbidden.id!))!.attemptsMade).toBe(1);

    await node(allow({ pull: 'never' }));
    const never = await prod.queue.add('n', { image: `${reg.host}/team/never-pulled:1` }, { attempts: 3 });
    await expect(never.waitUntilFinished(prod.events, 30_000)).rejects.toThrow(/ERR_NOT_FOUND/);
    expect((await Job.fromId(prod.queue, never.id!))!.attemptsMade).toBe(1);

    await node(allow());
    const down = await prod.queue.add('d', { image: '127.0.0.1:1/team/app:1' }, { attempts: 2 });
    await expect(down.waitUntilFinished(prod.events, 60_000)).rejects.toThrow(/ERR_UNAVAILABLE/);
    expect((await Job.fromId(prod.queue, down.id!))!.attemptsMade).toBe(2);
  });

  it('a job migrated to a node that does not have its image pulls the digest it was checkpointed on and resumes', async () => {
    const store = await fs.mkdtemp(path.join(os.tmpdir(), 'sti-store-'));
    const dirB = await fs.mkdtemp(path.join(os.tmpdir(), 'sti-b-'));
    const queue = queueName();
    const common = { connection: redis.options, policy: allow(), env: {} };
    const a = await startRunner({ ...common, runtime: { stateDir: state }, runner: { queue, nodeId: 'A', checkpointDir: store } });
    const b = await startRunner({ ...common, runtime: { stateDir: dirB }, runner: { queue, nodeId: 'B', checkpointDir: store } });
    const p2 = await producer(redis, queue);
    try {
      // Only A may take it first: B hands it back until it was checkpointed for B.
      await b.consumer.worker.pause(true);
      const count = 'i=0; while [ $i -lt 40 ]; do echo $i; i=$((i+1)); sleep 0.1; done';
      const job = await p2.queue.add('move', { image: imgs.app.ref, command: [count] });
      await new Promise<void>((resolve) => p2.events.on('progress', ({ jobId }) => jobId === job.id && resolve()));
      await new Promise((r) => setTimeout(r, 800));
      b.consumer.worker.resume();
      await a.consumer.preempt(job.id!, { to: 'B' });
      const r = (await job.waitUntilFinished(p2.events, 60_000)) as JobResult;
      expect(r.nodes).toEqual(['A', 'B']);
      expect(r.image).toEqual({ ref: imgs.app.ref, digest: imgs.app.digest });
      expect(r.stdout.trim().split('\n').pop()).toBe('39');
      expect(await fs.readdir(path.join(dirB, 'images'))).toBeTruthy();
    } finally {
      await p2.close();
      await a.close();
      await b.close();
      expect(await leftoverTasks(dirB)).toEqual([]);
      await wipeState(dirB);
      await fs.rm(store, { recursive: true, force: true });
    }
  });

  it('refuses a payload with both image and rootfs, naming the fields', async () => {
    const job = await prod.queue.add('both', { image: imgs.app.ref, rootfs: '/srv/x', command: ['true'] });
    await expect(job.waitUntilFinished(prod.events, 30_000)).rejects.toThrow(/either `image` or `rootfs`/);
  });
});
