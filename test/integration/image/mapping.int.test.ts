import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { ImageStore } from '../../../src/image/store.js';
import { resolveUser } from '../../../src/image/user.js';
import { describeWithHost } from '../../helpers/host.js';
import { buildLayout, buildTestImages, push, startRegistry, type Registry, type TestImages } from './registry.js';

const POLICY = { allowedRegistries: ['127.0.0.1:*'], insecureRegistries: ['127.0.0.1:*'] };
const MAP = { hostId: 100000, size: 65536 };

function owner(p: string): { uid: number; gid: number; mode: string } {
  const st = fs.lstatSync(p);
  return { uid: st.uid, gid: st.gid, mode: (st.mode & 0o7777).toString(8) };
}

describeWithHost(['root', 'busybox', 'skopeo', 'umoci', 'docker-registry'], 'unpacking with an id mapping', () => {
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
    stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-image-map-'));
  });
  afterEach(async () => {
    await fsp.rm(stateDir, { recursive: true, force: true });
  });

  it('shifts every owner by hostId and keeps setuid and setgid bits', async () => {
    const store = await ImageStore.open({ stateDir });
    const img = await store.ensure(imgs.app.ref, { policy: POLICY, mapping: MAP });
    expect(img.rootfs).toBe(path.join(store.paths.rootfs, `${img.digest.slice(7)}-u100000-65536`, 'rootfs'));
    expect(owner(img.rootfs)).toMatchObject({ uid: 100000, gid: 100000 });
    expect(owner(path.join(img.rootfs, 'bin/busybox'))).toMatchObject({ uid: 100000, gid: 100000 });
    expect(owner(path.join(img.rootfs, 'bin/sh'))).toMatchObject({ uid: 100000, gid: 100000 });
    expect(owner(path.join(img.rootfs, 'home/app/notes'))).toMatchObject({ uid: 101000, gid: 101000 });
    expect(owner(path.join(img.rootfs, 'usr/local/bin/suid-root'))).toEqual({ uid: 100000, gid: 100000, mode: '4755' });
    expect(owner(path.join(img.rootfs, 'usr/local/bin/sgid-app'))).toEqual({ uid: 101000, gid: 101000, mode: '6750' });
    expect(owner(path.join(img.rootfs, 'tmp')).mode).toBe('1777');
    // The image's own ids are what a task sees inside its user namespace.
    expect(await resolveUser(img.rootfs, { name: 'app' })).toMatchObject({ uid: 1000, gid: 1000 });
  });

  it('keeps one unpack per mapping, and host ids without one', async () => {
    const store = await ImageStore.open({ stateDir });
    const plain = await store.ensure(imgs.app.ref, { policy: POLICY });
    const mapped = await store.ensure(imgs.app.ref, { policy: POLICY, mapping: MAP });
    const other = await store.ensure(imgs.app.ref, { policy: POLICY, mapping: { hostId: 300000, size: 65536 } });
    expect(new Set([plain.rootfs, mapped.rootfs, other.rootfs]).size).toBe(3);
    expect(owner(path.join(plain.rootfs, 'home/app/notes'))).toMatchObject({ uid: 1000, gid: 1000 });
    expect(owner(path.join(plain.rootfs, 'usr/local/bin/suid-root'))).toEqual({ uid: 0, gid: 0, mode: '4755' });
    expect(owner(path.join(other.rootfs, 'home/app/notes'))).toMatchObject({ uid: 301000, gid: 301000 });
    expect((await store.list())[0]!.unpacked).toHaveLength(3);
  });

  it('refuses with ERR_FAILED_PRECONDITION an image with an owner outside the mapping, leaving nothing behind', async () => {
    const dir = path.join(imgs.work, 'wide');
    await fsp.mkdir(path.join(dir, 'data'), { recursive: true });
    await fsp.writeFile(path.join(dir, 'data', 'f'), 'x');
    await fsp.chown(path.join(dir, 'data', 'f'), 70000, 70000);
    await buildLayout({ layout: imgs.layout, tag: 'wide', layers: [dir], spec: { cmd: ['x'] } });
    await push(imgs.layout, 'wide', reg.host, 'team/wide:1');
    const store = await ImageStore.open({ stateDir });
    await expect(store.ensure(`${reg.host}/team/wide:1`, { policy: POLICY, mapping: { hostId: 100000, size: 65536 } })).rejects.toMatchObject({
      code: 'ERR_FAILED_PRECONDITION',
      message: expect.stringContaining('outside the id mapping 0:100000:65536'),
    });
    expect(await fsp.readdir(store.paths.rootfs)).toEqual([]);
    expect(await fsp.readdir(store.paths.tmp)).toEqual([]);
    const wide = await store.ensure(`${reg.host}/team/wide:1`, { policy: POLICY, mapping: { hostId: 100000, size: 100000 } });
    expect(owner(path.join(wide.rootfs, 'data/f'))).toMatchObject({ uid: 170000, gid: 170000 });
  });
});
