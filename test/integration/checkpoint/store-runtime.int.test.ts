import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openFsCheckpointStore, type FsCheckpointStore } from '../../../src/checkpoint/fs-store.js';
import { sha256File } from '../../../src/checkpoint/digest.js';
import { readHostInfo } from '../../../src/checkpoint/host-info.js';
import { LivePageDigests } from '../../../src/checkpoint/live-digest.js';
import { checkRestorable, startRestorable } from '../../../src/checkpoint/restorable.js';
import type { StoredCheckpoint } from '../../../src/checkpoint/store.js';
import { openTaskManager } from '../../../src/runtime/task-manager.js';
import type { LogEntry, Task, TaskManager } from '../../../src/runtime/task.js';
import { describeWithHost } from '../../helpers/host.js';
import { testRootfs } from '../../helpers/rootfs.js';

const uid = (p: string) => `${p}-${randomUUID().slice(0, 8)}`;
let dir: string;
let tm: TaskManager;
let store: FsCheckpointStore;
let rootfs: string;
const tasks: Task[] = [];

async function counts(t: Task): Promise<number[]> {
  const out: number[] = [];
  for await (const e of t.logs({ signal: AbortSignal.timeout(10_000) }) as AsyncIterable<LogEntry>) {
    const m = /^count (\d+)$/.exec(e.data.trim());
    if (m) out.push(Number(m[1]));
  }
  return out;
}

async function until<T>(fn: () => Promise<T | undefined | false>, what: string, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A sleeping task checkpointed into the store and committed. */
async function committedSleeper(): Promise<StoredCheckpoint> {
  const t = await tm.create({ id: uid('t'), rootfs, process: { args: ['sh', '-c', 'while :; do sleep 1; done'] } });
  tasks.push(t);
  await t.start();
  const pending = await store.allocate(uid('job'));
  await t.checkpoint(pending.path);
  return store.commit(pending);
}

/** Live processes (not zombies) whose command line contains `text`. */
async function processesNaming(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await fs.readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmd = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''); // exited meanwhile
    if (cmd.includes(text)) found.push(`${pid}: ${cmd.split('\0').join(' ')}`);
  }
  return found;
}

/** Flips the lowest bit of one byte of `file` (`at` < 0 counts from the end). */
async function flipByte(file: string, at: number): Promise<void> {
  const buf = await fs.readFile(file);
  const i = at < 0 ? buf.length + at : at;
  buf[i] = buf[i]! ^ 1;
  await fs.writeFile(file, buf);
}

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox'], 'checkpoint store with the real task runtime', () => {
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-ckrt-'));
    await fs.chmod(dir, 0o711); // the state dir below it is reached by the containers' mapped root
    rootfs = await testRootfs();
    tm = await openTaskManager({ stateDir: path.join(dir, 'state') });
    store = await openFsCheckpointStore({ root: path.join(dir, 'store'), nodeId: 'node-a' });
  });

  afterAll(async () => {
    for (const t of tasks) {
      const s = await t.state().catch(() => undefined);
      if (s && s.status !== 'stopped') {
        await t.kill('KILL', { all: true }).catch(() => undefined);
        await t.wait(AbortSignal.timeout(10_000)).catch(() => undefined);
      }
      await t.delete().catch(() => undefined);
    }
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('a counting task checkpointed into the store is verified, restored, and continues its count', async () => {
    const jobId = uid('job');
    const t = await tm.create({
      id: uid('t'),
      rootfs,
      process: { args: ['sh', '-c', 'i=0; while :; do echo count $i; echo $i > /data/last; i=$((i+1)); sleep 0.2; done'] },
    });
    tasks.push(t);
    await t.start();
    await until(async () => (await counts(t)).length >= 3, 'three counts');

    const pending = await store.allocate(jobId);
    await t.checkpoint(pending.path);
    const ck = await store.commit(pending, { labels: { reason: 'test' } });
    expect(ck.seq).toBe(1);
    expect(ck.manifest.taskId).toBe(t.id);
    expect(ck.manifest.rootfs?.path).toBe(rootfs);
    const files = ck.manifest.files.map((f) => f.path);
    expect(files).toContain('criu/inventory.img');
    expect(files).toContain('rootfs-diff.tar');
    expect(files).toContain('checkpoint.json');
    expect(files).toContain('config.json');
    const before = await counts(t);
    const last = before[before.length - 1]!;

    const host = await readHostInfo();
    const ok = await checkRestorable(store, { jobId, seq: ck.seq }, host);
    const r = await tm.restore({ id: uid('r'), from: ok.path });
    tasks.push(r);
    const after = await until(async () => {
      const c = await counts(r);
      return c.length >= 2 ? c : undefined;
    }, 'counts after restore');
    expect(after[0]).toBe(last + 1);

    // A restore leaves the stored checkpoint intact: it can seed more restores.
    await expect(store.verify({ jobId, seq: ck.seq })).resolves.toMatchObject({ seq: 1 });
  });

  it('a checkpoint of a real task with tampered page contents is refused, naming the file, and its restored task removed', async () => {
    const ck = await committedSleeper();
    const pages = ck.manifest.files.find((f) => f.type === 'file' && /^criu\/pages-\d+\.img$/.test(f.path));
    expect(pages).toBeDefined();
    await flipByte(path.join(ck.path, pages!.path), 0);
    await expect(checkRestorable(store, ck, await readHostInfo())).rejects.toMatchObject({
      code: 'ERR_CHECKPOINT',
      message: expect.stringContaining(`${pages!.path} does not match its digest`),
    });

    // As a node restores: CRIU's input verified while the task dir is laid out (it passes: only
    // page contents changed), the page contents once the restored task runs; the restored task is
    // killed and removed before it is handed back.
    const { checkpoint, parsed, verified } = await startRestorable(store, ck, await readHostInfo());
    const id = uid('r');
    await expect(tm.restore({ id, rootfs, from: checkpoint.path, gate: parsed, release: verified })).rejects.toMatchObject({
      code: 'ERR_CHECKPOINT',
      message: expect.stringContaining(`${pages!.path} does not match its digest`),
    });
    await expect(parsed).resolves.toBeUndefined();
    expect((await tm.list()).map((x) => x.info.id)).not.toContain(id);
    expect(await fs.readFile('/proc/self/mountinfo', 'utf8')).not.toContain(id);
  });

  it('a tampered file CRIU parses is refused at the gate, before CRIU runs', async () => {
    const ck = await committedSleeper();
    await flipByte(path.join(ck.path, 'criu', 'pstree.img'), -1);
    const { checkpoint, parsed, verified } = await startRestorable(store, ck, await readHostInfo());
    const id = uid('r');
    await expect(tm.restore({ id, rootfs, from: checkpoint.path, gate: parsed, release: verified })).rejects.toMatchObject({
      code: 'ERR_CHECKPOINT',
      message: expect.stringContaining('criu/pstree.img does not match its digest'),
    });
    await expect(parsed).rejects.toMatchObject({ code: 'ERR_CHECKPOINT' });
    expect((await tm.list()).map((x) => x.info.id)).not.toContain(id);
    // The conmon spawned for this restore (it waits on its start pipe while the task is prepared) was
    // killed before it ran anything: no process names the task, no runc container exists.
    expect(await processesNaming(id)).toEqual([]);
    expect(await fs.readFile('/proc/self/mountinfo', 'utf8')).not.toContain(id);
  });

  it("page files hashed while CRIU writes them match the files, and commit() takes those digests", async () => {
    const jobId = uid('job');
    // ~8 MiB of dirty memory, so CRIU writes its pages in several steps while they are followed.
    const t = await tm.create({ id: uid('t'), rootfs, process: { args: ['sh', '-c', "{ head -c 8388608 /dev/zero | tr '\\000' a; exec sleep 600; } | tail -c 8388608"] } });
    tasks.push(t);
    await t.start();
    await new Promise((r) => setTimeout(r, 500));
    const pending = await store.allocate(jobId);
    const live = new LivePageDigests(pending.path);
    await t.checkpoint(pending.path);
    const digests = await live.finish();
    expect(digests.size).toBeGreaterThan(0);
    for (const [rel, d] of digests) {
      expect(rel).toMatch(/^criu\/pages-\d+\.img$/);
      const file = path.join(pending.path, rel);
      expect(d).toEqual({ size: (await fs.stat(file)).size, sha256: await sha256File(file) });
    }
    const ck = await store.commit(pending, { digests });
    await expect(store.verify(ck)).resolves.toMatchObject({ seq: ck.seq });
  });
});
