import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listingDigest } from '../../../src/checkpoint/digest.js';
import { FsCheckpointStore, openFsCheckpointStore } from '../../../src/checkpoint/fs-store.js';
import { readHostInfo } from '../../../src/checkpoint/host-info.js';
import { checkRestorable } from '../../../src/checkpoint/restorable.js';
import type { PendingCheckpoint } from '../../../src/checkpoint/store.js';
import { describeWithHost } from '../../helpers/host.js';
import { HOST } from '../../unit/checkpoint/fixtures.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let dir: string;
let store: FsCheckpointStore;
const job = () => `job-${randomUUID().slice(0, 8)}`;

/** Writes a small fake checkpoint (the CHECKPOINT_LAYOUT files) into a pending directory. */
async function fill(p: PendingCheckpoint, tag = 'x'): Promise<void> {
  await fs.mkdir(path.join(p.path, 'criu'));
  await fs.mkdir(path.join(p.path, 'work'));
  await fs.writeFile(path.join(p.path, 'criu', 'inventory.img'), `inventory ${tag}`);
  await fs.writeFile(path.join(p.path, 'criu', 'pages-1.img'), Buffer.alloc(256 * 1024, 7));
  await fs.symlink('pages-1.img', path.join(p.path, 'criu', 'pages-link'));
  await fs.writeFile(path.join(p.path, 'work', 'dump.log'), 'Dumping finished successfully\n');
  await fs.writeFile(path.join(p.path, 'config.json'), '{"ociVersion":"1.0.2-dev"}');
  await fs.writeFile(path.join(p.path, 'rootfs-diff.tar'), 'tar');
  const meta = { version: 1, taskId: `${p.jobId}-0`, namespace: p.namespace, rootfs: path.join(dir, 'rootfs'), tag };
  await fs.writeFile(path.join(p.path, 'checkpoint.json'), JSON.stringify(meta));
}

async function commitOne(jobId: string, tag = 'x', ns?: string) {
  const p = await store.allocate(jobId, { namespace: ns });
  await fill(p, tag);
  return store.commit(p, { labels: { reason: 'test' } });
}

describe('FsCheckpointStore over a real directory', () => {
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-ckstore-'));
    await fs.mkdir(path.join(dir, 'rootfs', 'bin'), { recursive: true });
    await fs.writeFile(path.join(dir, 'rootfs', 'bin', 'sh'), 'shell');
    store = await openFsCheckpointStore({ root: path.join(dir, 'store'), nodeId: 'node-a', host: HOST });
  });
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('commit publishes numbered checkpoints with a manifest of every file, and readers never see the temp dir', async () => {
    const j = job();
    const p = await store.allocate(j);
    await fill(p);
    expect(await store.list(j)).toEqual([]);
    const c = await store.commit(p, { labels: { reason: 'migrate' } });
    expect(c.seq).toBe(1);
    expect(c.path).toBe(path.join(dir, 'store', 'default', j, '00000001'));
    expect(await fs.stat(p.path).catch(() => undefined)).toBeUndefined();
    const m = c.manifest;
    expect(m).toMatchObject({ jobId: j, namespace: 'default', seq: 1, nodeId: 'node-a', taskId: `${j}-0`, labels: { reason: 'migrate' } });
    expect(m.files.map((f) => f.path)).toEqual([
      'checkpoint.json',
      'config.json',
      'criu/inventory.img',
      'criu/pages-1.img',
      'criu/pages-link',
      'rootfs-diff.tar',
      'work/dump.log',
    ]);
    expect(m.files.find((f) => f.path === 'criu/pages-link')).toEqual({ type: 'symlink', path: 'criu/pages-link', target: 'pages-1.img' });
    expect(m.totalBytes).toBeGreaterThan(256 * 1024);
    expect(m.rootfs).toEqual({ path: path.join(dir, 'rootfs'), digest: await listingDigest(path.join(dir, 'rootfs')), source: 'listing' });
    expect(m.checkpoint).toMatchObject({ tag: 'x' });
    const second = await commitOne(j, 'y');
    expect(second.seq).toBe(2);
    expect((await store.list(j)).map((x) => x.seq)).toEqual([1, 2]);
    expect((await store.latest(j))?.seq).toBe(2);
    expect((await store.get(j, 1)).manifest).toEqual(m);
    await expect(store.verify({ jobId: j, seq: 1 })).resolves.toMatchObject({ seq: 1 });
  });

  it('a caller-given rootfs digest is recorded as is', async () => {
    const p = await store.allocate(job());
    await fill(p);
    const c = await store.commit(p, { rootfs: { path: '/images/busybox', digest: 'sha256:feed' } });
    expect(c.manifest.rootfs).toEqual({ path: '/images/busybox', digest: 'sha256:feed', source: 'given' });
  });

  it('namespaces keep jobs apart', async () => {
    const j = job();
    await commitOne(j, 'a', 'tenant-a');
    expect(await store.list(j)).toEqual([]);
    expect((await store.list(j, { namespace: 'tenant-a' })).map((c) => c.namespace)).toEqual(['tenant-a']);
  });

  it('verify names a file with one tampered byte', async () => {
    const j = job();
    const c = await commitOne(j);
    const f = path.join(c.path, 'criu', 'pages-1.img');
    const buf = await fs.readFile(f);
    buf[1000] = buf[1000]! ^ 0xff;
    await fs.writeFile(f, buf);
    await expect(store.verify({ jobId: j, seq: c.seq })).rejects.toMatchObject({
      code: 'ERR_CHECKPOINT',
      message: expect.stringContaining('criu/pages-1.img does not match its digest'),
      details: expect.objectContaining({ file: 'criu/pages-1.img' }),
    });
  });

  it('verify with the checkpoint get() returned checks the files against that manifest, and only the files asked for', async () => {
    const j = job();
    const c = await commitOne(j);
    const f = path.join(c.path, 'criu', 'pages-1.img');
    const buf = await fs.readFile(f);
    buf[0] = buf[0]! ^ 1;
    await fs.writeFile(f, buf);
    const got = await store.get(j, c.seq);
    await expect(store.verify({ jobId: j, seq: c.seq }, { checkpoint: got, only: (rel) => rel !== 'criu/pages-1.img' })).resolves.toMatchObject({ seq: c.seq });
    await expect(store.verify({ jobId: j, seq: c.seq }, { checkpoint: got })).rejects.toMatchObject({ code: 'ERR_CHECKPOINT', details: expect.objectContaining({ file: 'criu/pages-1.img' }) });
    // A checkpoint of another ref is not taken for this one: its own manifest is read.
    const other = await commitOne(j);
    await expect(store.verify({ jobId: j, seq: other.seq }, { checkpoint: got })).resolves.toMatchObject({ seq: other.seq });
  });

  it('verify names a missing file, an extra file and a changed symlink', async () => {
    const j = job();
    const c = await commitOne(j);
    await fs.rm(path.join(c.path, 'config.json'));
    await fs.writeFile(path.join(c.path, 'criu', 'planted.img'), 'evil');
    await fs.rm(path.join(c.path, 'criu', 'pages-link'));
    await fs.symlink('/etc/shadow', path.join(c.path, 'criu', 'pages-link'));
    const err = await store.verify({ jobId: j, seq: c.seq }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_CHECKPOINT', details: { files: ['config.json', 'criu/pages-link', 'criu/planted.img'] } });
    expect((err as Error).message).toMatch(/config\.json is listed in the manifest but missing/);
    expect((err as Error).message).toMatch(/criu\/planted\.img is not listed in the manifest/);
  });

  it('a missing or corrupt manifest is ERR_CHECKPOINT; an absent checkpoint is ERR_NOT_FOUND', async () => {
    const j = job();
    const c = await commitOne(j);
    await expect(store.get(j, 99)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await fs.writeFile(path.join(c.path, 'manifest.json'), '{"format":"stasis-checkpoint","version":1}');
    await expect(store.verify({ jobId: j, seq: 1 })).rejects.toMatchObject({ code: 'ERR_CHECKPOINT', message: /manifest\.json.*not a valid/ });
    await fs.rm(path.join(c.path, 'manifest.json'));
    await expect(store.get(j, 1)).rejects.toMatchObject({ code: 'ERR_CHECKPOINT', message: /has no manifest\.json/ });
    expect(await store.list(j)).toEqual([]);
  });

  it('prune keeps the newest N and later commits keep counting up', async () => {
    const j = job();
    for (let i = 0; i < 5; i++) await commitOne(j, String(i));
    expect(await store.prune(j, 2)).toEqual([1, 2, 3]);
    expect((await store.list(j)).map((c) => c.seq)).toEqual([4, 5]);
    expect((await commitOne(j)).seq).toBe(6);
    expect(await store.prune(j, 5)).toEqual([]);
    await expect(store.prune(j, 0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const entries = await fs.readdir(store.jobDir(j));
    expect(entries.sort()).toEqual(['00000004', '00000005', '00000006']);
  });

  it('prune sweeps temporary dirs of crashed writers once they are stale, and abort discards a pending checkpoint', async () => {
    const quick = new FsCheckpointStore({ root: store.root, nodeId: 'node-b', host: HOST, staleTempMs: 0 });
    const j = job();
    await commitOne(j);
    const crashed = await quick.allocate(j);
    await fill(crashed);
    const aborted = await quick.allocate(j);
    await quick.abort(aborted);
    expect(await fs.stat(aborted.path).catch(() => undefined)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 5));
    await quick.prune(j, 1);
    expect(await fs.readdir(store.jobDir(j))).toEqual(['00000001']);
  });

  it('remove deletes every checkpoint of a job', async () => {
    const j = job();
    await commitOne(j);
    await commitOne(j);
    await store.remove(j);
    expect(await store.list(j)).toEqual([]);
    await store.remove(j);
    expect((await commitOne(j)).seq).toBe(1);
  });

  it('rejects job ids that would escape the store', async () => {
    for (const bad of ['../x', '.hidden', 'a/b', '', 'x'.repeat(201)]) {
      await expect(store.allocate(bad)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    await expect(store.get('ok', 0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('two stores (two nodes) committing the same job at once never collide', async () => {
    const j = job();
    const b = new FsCheckpointStore({ root: store.root, nodeId: 'node-b', host: HOST });
    const writes = Array.from({ length: 12 }, (_, i) => (i % 2 ? b : store)).map(async (s, i) => {
      const p = await s.allocate(j);
      await fill(p, String(i));
      return s.commit(p);
    });
    const done = await Promise.all(writes);
    expect(done.map((c) => c.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const listed = await store.list(j);
    expect(listed).toHaveLength(12);
    for (const c of listed) {
      expect(c.manifest.seq).toBe(c.seq);
      await store.verify(c);
    }
    expect(new Set(listed.map((c) => (c.manifest.checkpoint as { tag: string }).tag)).size).toBe(12);
  });

  it('two writer processes on the same root never collide', async () => {
    const j = job();
    const bin = path.resolve(here, '../../../node_modules/.bin/vite-node');
    const script = path.join(here, 'writer.fixture.ts');
    const runs = await Promise.all(
      ['node-x', 'node-y'].map((n) => execa(bin, [script, store.root, j, n, '8'], { cwd: path.resolve(here, '../../..') })),
    );
    const seqs = runs.flatMap((r) => JSON.parse(r.stdout.trim().split('\n').pop()!) as number[]);
    expect(seqs.sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const listed = await store.list(j);
    expect(listed.map((c) => c.manifest.nodeId).sort()).toEqual([...Array(8).fill('node-x'), ...Array(8).fill('node-y')]);
    for (const c of listed) await store.verify(c);
  });
});

describeWithHost(['criu', 'runc'], 'checkpoint host info and restore checks on this host', () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-ckhost-'));
  });
  afterAll(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  it('reads real CRIU, runc, kernel and CPU facts, once per process', async () => {
    const h = await readHostInfo();
    expect(h.criu.version).toMatch(/^\d+\.\d+/);
    expect(h.runc.version).toMatch(/^\d+\.\d+/);
    expect(h.kernel.release).toBe(os.release());
    expect(h.cpu.flags.length).toBeGreaterThan(0);
    expect(await readHostInfo()).toBe(h);
  });

  it('a checkpoint made here is restorable here, and refused for a host with another kernel', async () => {
    const s = await openFsCheckpointStore({ root, nodeId: 'here' });
    const j = job();
    const p = await s.allocate(j);
    await fs.mkdir(path.join(p.path, 'criu'));
    await fs.writeFile(path.join(p.path, 'criu', 'inventory.img'), 'x');
    const c = await s.commit(p);
    const host = await readHostInfo();
    await expect(checkRestorable(s, c, host)).resolves.toMatchObject({ seq: 1 });
    const other = { ...host, kernel: { release: '5.10.0-other' } };
    await expect(checkRestorable(s, c, other)).rejects.toMatchObject({
      code: 'ERR_CHECKPOINT',
      message: expect.stringContaining(`taken on kernel ${host.kernel.release}, but this host runs kernel 5.10.0-other`),
    });
  });
});
