import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { readManifest } from '../../../src/image/layout.js';
import { blobFile, metaFile } from '../../../src/image/paths.js';
import { ImageStore } from '../../../src/image/store.js';
import { describeWithHost } from '../../helpers/host.js';
import { buildLayout, buildTestImages, push, startRegistry, type Registry, type TestImages } from './registry.js';

const POLICY = { allowedRegistries: ['127.0.0.1:*'], insecureRegistries: ['127.0.0.1:*'] };

describeWithHost(['root', 'busybox', 'skopeo', 'umoci', 'docker-registry'], 'image garbage collection', () => {
  let reg: Registry;
  let imgs: TestImages;
  let extra: string;
  let stateDir: string;

  beforeAll(async () => {
    reg = await startRegistry();
    imgs = await buildTestImages(reg);
    // A second image sharing the app image's layer (umoci makes the same tar of the same dir), plus one more.
    const more = path.join(imgs.work, 'more');
    await fsp.mkdir(path.join(more, 'srv'), { recursive: true });
    await fsp.writeFile(path.join(more, 'srv/more'), 'more\n');
    await buildLayout({ layout: imgs.layout, tag: 'app-plus', layers: [path.join(imgs.work, 'app'), more], spec: { cmd: ['sh'] } });
    await push(imgs.layout, 'app-plus', reg.host, 'team/app-plus:1');
    extra = `${reg.host}/team/app-plus:1`;
  });
  afterAll(async () => {
    await reg?.stop();
    if (imgs) await fsp.rm(imgs.work, { recursive: true, force: true });
  });
  beforeEach(async () => {
    stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-image-gc-'));
  });
  afterEach(async () => {
    await fsp.rm(stateDir, { recursive: true, force: true });
  });

  async function blobsOf(store: ImageStore, digest: string): Promise<string[]> {
    const info = (await store.list()).find((i) => i.digest === digest)!;
    const m = await readManifest(store.paths.blobs, info.manifestDigest);
    return [info.manifestDigest, m.config.digest, ...m.layers.map((l) => l.digest)];
  }
  const present = (store: ImageStore, d: string) => fs.existsSync(blobFile(store.paths.blobs, d));

  it('never removes an image in use, and removes an unused one with its own blobs and rootfs', async () => {
    const store = await ImageStore.open({ stateDir });
    const app = await store.ensure(imgs.app.ref, { policy: POLICY });
    const noShell = await store.ensure(imgs.noShell.ref, { policy: POLICY });
    const gone = await blobsOf(store, noShell.digest);
    const report = await store.prune({ targetBytes: 0, minIdleMs: 0, inUse: async () => new Set([app.digest]) });
    expect(report.removed).toEqual([noShell.digest]);
    expect(report.afterBytes).toBeLessThan(report.beforeBytes);
    expect((await store.list()).map((i) => i.digest)).toEqual([app.digest]);
    expect(gone.filter((d) => present(store, d))).toEqual([]);
    expect(fs.existsSync(noShell.rootfs)).toBe(false);
    expect((await blobsOf(store, app.digest)).every((d) => present(store, d))).toBe(true);
    expect(fs.existsSync(path.join(app.rootfs, 'bin/busybox'))).toBe(true);
  });

  it('keeps a blob shared with a kept image and removes the rest of the other image', async () => {
    const store = await ImageStore.open({ stateDir });
    const app = await store.ensure(imgs.app.ref, { policy: POLICY });
    const plus = await store.ensure(extra, { policy: POLICY });
    const appBlobs = await blobsOf(store, app.digest);
    const plusBlobs = await blobsOf(store, plus.digest);
    const shared = plusBlobs.filter((d) => appBlobs.includes(d));
    expect(shared.length).toBeGreaterThan(0);
    await store.prune({ targetBytes: 0, minIdleMs: 0, inUse: async () => new Set([app.digest]) });
    expect(shared.every((d) => present(store, d))).toBe(true);
    expect(plusBlobs.filter((d) => !appBlobs.includes(d) && present(store, d))).toEqual([]);
    // The kept image still unpacks from the layout (a new mapping) without a pull.
    const again = await store.ensure(imgs.app.ref, { policy: { ...POLICY, pull: 'never' }, mapping: { hostId: 400000, size: 65536 } });
    expect(again.unpacked).toBe(true);
  });

  it('removes least recently used images first, only down to the target, and spares recently used ones', async () => {
    const store = await ImageStore.open({ stateDir });
    const app = await store.ensure(imgs.app.ref, { policy: POLICY });
    const noShell = await store.ensure(imgs.noShell.ref, { policy: POLICY });
    const plus = await store.ensure(extra, { policy: POLICY });
    const hourAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
    await fsp.utimes(metaFile(store.paths, noShell.digest), hourAgo(3), hourAgo(3));
    await fsp.utimes(metaFile(store.paths, app.digest), hourAgo(2), hourAgo(2));
    // plus stays "just used": the default grace period protects it even at target 0.
    const total = (await store.prune({ targetBytes: Number.MAX_SAFE_INTEGER })).afterBytes;
    const r = await store.prune({ targetBytes: total - 1 });
    expect(r.removed).toEqual([noShell.digest]);
    const all = await store.prune({ targetBytes: 0 });
    expect(all.removed).toEqual([app.digest]);
    expect((await store.list()).map((i) => i.digest)).toEqual([plus.digest]);
  });

  it('never removes an image whose rootfs a task has mounted, even when nobody says it is in use', async () => {
    const store = await ImageStore.open({ stateDir });
    const img = await store.ensure(imgs.noShell.ref, { policy: POLICY });
    const ov = path.join(stateDir, 'ov');
    for (const d of ['upper', 'work', 'merged']) await fsp.mkdir(path.join(ov, d), { recursive: true });
    const merged = path.join(ov, 'merged');
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${img.rootfs},upperdir=${ov}/upper,workdir=${ov}/work`, merged]);
    try {
      const r = await store.prune({ targetBytes: 0, minIdleMs: 0 });
      expect(r.removed).toEqual([]);
      await expect(store.remove(img.digest)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringContaining('mounted') });
      expect(fs.existsSync(path.join(merged, 'bin/echo'))).toBe(true);
    } finally {
      execFileSync('umount', [merged]);
    }
    expect((await store.prune({ targetBytes: 0, minIdleMs: 0 })).removed).toEqual([img.digest]);
  });

  it('refuses to remove an image the caller says is in use unless forced', async () => {
    const store = await ImageStore.open({ stateDir, inUse: async () => new Set([imgs.noShell.digest]) });
    await store.ensure(imgs.noShell.ref, { policy: POLICY });
    await expect(store.remove(imgs.noShell.ref)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringContaining('in use') });
    await store.remove(imgs.noShell.ref, { force: true });
    expect(await store.list()).toEqual([]);
    expect(await fsp.readdir(path.join(store.paths.blobs, 'sha256'))).toEqual([]);
  });

  it('collects down to storeMaxBytes in the background after a pull', async () => {
    const errors: unknown[] = [];
    const store = await ImageStore.open({ stateDir, onGcError: (e) => errors.push(e) });
    const old = await store.ensure(imgs.noShell.ref, { policy: POLICY });
    await fsp.utimes(metaFile(store.paths, old.digest), new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const fresh = await store.ensure(imgs.app.ref, { policy: { ...POLICY, storeMaxBytes: 1024 } });
    const deadline = Date.now() + 10_000;
    const busy = async () => (await store.list()).length > 1 || fs.existsSync(path.join(store.paths.locks, 'gc.lock'));
    while ((await busy()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await store.list()).map((i) => i.digest)).toEqual([fresh.digest]); // the fresh one is within the grace period
    expect(errors).toEqual([]);
  });
});
