import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { effectiveProcess } from '../../../src/image/process.js';
import type { PullProgress } from '../../../src/image/progress.js';
import { ImageStore } from '../../../src/image/store.js';
import { resolveUser } from '../../../src/image/user.js';
import { describeWithHost } from '../../helpers/host.js';
import { buildTestImages, startRegistry, type Registry, type TestImages } from './registry.js';
import { countingTools } from './tools.js';

const POLICY = { allowedRegistries: ['127.0.0.1:*'], insecureRegistries: ['127.0.0.1:*'] };

describeWithHost(['root', 'busybox', 'skopeo', 'umoci', 'docker-registry'], 'the image store with a local registry', () => {
  let reg: Registry;
  let imgs: TestImages;
  let stateDir: string;

  beforeAll(async () => {
    reg = await startRegistry();
    imgs = await buildTestImages(reg);
  });
  afterAll(async () => {
    await reg?.stop();
    if (imgs) await fsp.rm(imgs.work, { recursive: true, force: true });
  });
  beforeEach(async () => {
    stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-image-store-'));
  });
  afterEach(async () => {
    await fsp.rm(stateDir, { recursive: true, force: true });
  });

  it('pulls by tag and by digest to the same digest, the one the registry serves', async () => {
    const store = await ImageStore.open({ stateDir });
    const byTag = await store.ensure(imgs.app.ref, { policy: POLICY });
    expect(byTag).toMatchObject({ ref: imgs.app.ref, digest: imgs.app.digest, pulled: true, unpacked: true });
    expect(fs.existsSync(path.join(byTag.rootfs, 'bin/busybox'))).toBe(true);
    const byDigest = await store.ensure(`${reg.host}/team/app@${imgs.app.digest}`, { policy: POLICY });
    expect(byDigest).toMatchObject({ digest: imgs.app.digest, rootfs: byTag.rootfs, pulled: false, unpacked: false });

    const other = await ImageStore.open({ stateDir: await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-image-store-')) });
    const digestFirst = await other.ensure(`${reg.host}/team/app@${imgs.app.digest}`, { policy: POLICY });
    expect(digestFirst).toMatchObject({ digest: imgs.app.digest, pulled: true });
    await fsp.rm(path.dirname(other.paths.root), { recursive: true, force: true });
  });

  it("reads the image config and applies docker's rules, resolving the image's named user in its own /etc/passwd", async () => {
    const store = await ImageStore.open({ stateDir });
    const img = await store.ensure(imgs.app.ref, { policy: POLICY });
    expect(img.config).toMatchObject({
      entrypoint: ['/bin/sh', '-c'],
      cmd: ['echo hello from app'],
      env: ['PATH=/usr/local/bin:/bin', 'MODE=image'],
      workingDir: '/home/app',
      user: 'app',
    });
    const p = effectiveProcess({ config: img.config, command: ['id -u'], env: { MODE: 'job' } });
    expect(p).toEqual({ args: ['/bin/sh', '-c', 'id -u'], env: ['PATH=/usr/local/bin:/bin', 'MODE=job'], cwd: '/home/app', user: { name: 'app' } });
    expect(await resolveUser(img.rootfs, p.user, img.ref)).toEqual({ uid: 1000, gid: 1000, additionalGids: [50], home: '/home/app' });
    expect(await resolveUser(img.rootfs, { name: 'app:staff' })).toMatchObject({ uid: 1000, gid: 50 });
  });

  it('serves an image without a shell: exec-form Entrypoint and Cmd, and no /etc to find users in', async () => {
    const store = await ImageStore.open({ stateDir });
    const img = await store.ensure(imgs.noShell.ref, { policy: POLICY });
    expect(fs.existsSync(path.join(img.rootfs, 'bin/sh'))).toBe(false);
    expect(fs.existsSync(path.join(img.rootfs, 'bin/echo'))).toBe(true);
    const p = effectiveProcess({ config: img.config });
    expect(p).toMatchObject({ args: ['/bin/echo', 'hello'], cwd: '/', user: { uid: 0, gid: 0 } });
    expect(effectiveProcess({ config: img.config, command: ['bye'] }).args).toEqual(['/bin/echo', 'bye']);
    await expect(resolveUser(img.rootfs, { name: 'app' }, img.ref)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', details: { field: 'user' } });
    expect(() => effectiveProcess({ config: img.config, entrypointOverride: [] })).toThrow(/must set `command`/);
  });

  it('waits for one skopeo copy and one umoci unpack when two ensure() calls run at once', async () => {
    const { tools, counts } = countingTools();
    const store = await ImageStore.open({ stateDir, tools });
    const [a, b] = await Promise.all([store.ensure(imgs.app.ref, { policy: POLICY }), store.ensure(imgs.app.ref, { policy: POLICY })]);
    expect(a.rootfs).toBe(b.rootfs);
    expect(a.digest).toBe(b.digest);
    expect(counts).toMatchObject({ copy: 1, unpack: 1 });
    expect([a.pulled, b.pulled].sort()).toEqual([false, true]);

    // A second store object on the same directory (another thread's or process') shares the pull.
    const again = await (await ImageStore.open({ stateDir, tools })).ensure(imgs.app.ref, { policy: POLICY });
    expect(again).toMatchObject({ pulled: false, unpacked: false, rootfs: a.rootfs });
    expect(counts).toMatchObject({ copy: 1, unpack: 1 });
  });

  it('serves a present tag without the registry (if-not-present) and resolves it again with pull always', async () => {
    const { tools, counts } = countingTools();
    const store = await ImageStore.open({ stateDir, tools });
    await store.ensure(imgs.app.ref, { policy: POLICY });
    const inspects = counts.inspect;
    await store.ensure(imgs.app.ref, { policy: POLICY });
    expect(counts.inspect).toBe(inspects);
    const always = await store.ensure(imgs.app.ref, { policy: { ...POLICY, pull: 'always' } });
    expect(always.pulled).toBe(false);
    expect(counts).toMatchObject({ inspect: inspects + 1, copy: 1 });
  });

  it('pulls from an OCI layout under allowedLayouts and refuses one outside them', async () => {
    const store = await ImageStore.open({ stateDir });
    const img = await store.ensure(`oci:${imgs.layout}:app`, { policy: { allowedLayouts: [imgs.work] } });
    expect(img.digest).toBe(imgs.app.digest);
    await expect(store.ensure(`oci:${imgs.layout}:app`, { policy: { allowedLayouts: ['/srv/images'] } })).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
    const link = path.join(stateDir, 'sneaky');
    await fsp.symlink(imgs.layout, link);
    await expect(store.ensure(`oci:${link}:app`, { policy: { allowedLayouts: [stateDir] } })).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });

  it('reports progress in bytes and layers up to the whole image', async () => {
    const store = await ImageStore.open({ stateDir });
    const seen: PullProgress[] = [];
    const img = await store.ensure(imgs.app.ref, { policy: POLICY, onProgress: (p) => seen.push(p) });
    const pulling = seen.filter((p) => p.phase === 'pulling');
    expect(pulling.length).toBeGreaterThan(0);
    expect(pulling[pulling.length - 1]).toMatchObject({ layersDone: 1, layersTotal: 1, bytesDone: img.sizeBytes, bytesTotal: img.sizeBytes });
    expect(seen.map((p) => p.phase)).toEqual(expect.arrayContaining(['resolving', 'pulling', 'unpacking', 'done']));
  });

  it('lists, inspects and removes images, keeping what another image still uses', async () => {
    const store = await ImageStore.open({ stateDir });
    const app = await store.ensure(imgs.app.ref, { policy: POLICY });
    await store.ensure(imgs.noShell.ref, { policy: POLICY, mapping: { hostId: 300000, size: 65536 } });
    const list = await store.list();
    expect(list.map((i) => i.refs[0])).toEqual([imgs.noShell.ref, imgs.app.ref]);
    expect(list[0]!.unpacked).toEqual([expect.objectContaining({ mapping: { hostId: 300000, size: 65536 } })]);
    const byPrefix = await store.inspect(app.digest.slice('sha256:'.length, 'sha256:'.length + 12));
    expect(byPrefix).toMatchObject({ digest: app.digest, refs: [imgs.app.ref], config: { user: 'app' }, layers: [expect.objectContaining({ digest: expect.stringMatching(/^sha256:/) })] });
    await store.remove(imgs.noShell.ref);
    expect((await store.list()).map((i) => i.digest)).toEqual([app.digest]);
    await expect(store.inspect(imgs.noShell.ref)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect(fs.existsSync(path.join(app.rootfs, 'bin/busybox'))).toBe(true);
  });
});
