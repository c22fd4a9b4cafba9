import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { ImageStore } from '../../../src/image/store.js';
import { describeWithHost } from '../../helpers/host.js';
import { buildTestImages, freePort, startRegistry, type Registry, type TestImages } from './registry.js';
import { countingTools } from './tools.js';

const POLICY = { allowedRegistries: ['127.0.0.1:*'], insecureRegistries: ['127.0.0.1:*'] };

describeWithHost(['root', 'busybox', 'skopeo', 'umoci', 'docker-registry'], 'the image policy', () => {
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
    stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-image-policy-'));
  });
  afterEach(async () => {
    await fsp.rm(stateDir, { recursive: true, force: true });
  });

  it('fails at once with ERR_NOT_FOUND for a missing image when pull is never, without asking the registry', async () => {
    const { tools, counts } = countingTools();
    const store = await ImageStore.open({ stateDir, tools });
    const t0 = Date.now();
    await expect(store.ensure(imgs.app.ref, { policy: { ...POLICY, pull: 'never' } })).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
      message: `image ${imgs.app.ref} is not in the node's store and pull is never`,
    });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(counts).toEqual({ inspect: 0, copy: 0, unpack: 0 });
  });

  it('serves an image already in the store when pull is never', async () => {
    const store = await ImageStore.open({ stateDir });
    const pulled = await store.ensure(imgs.app.ref, { policy: POLICY });
    const again = await store.ensure(imgs.app.ref, { policy: { ...POLICY, pull: 'never' }, mapping: { hostId: 200000, size: 65536 } });
    expect(again).toMatchObject({ digest: pulled.digest, pulled: false, unpacked: true });
  });

  it('fails with ERR_UNAVAILABLE (retryable) when the registry is down', async () => {
    const store = await ImageStore.open({ stateDir });
    const down = `127.0.0.1:${await freePort()}`;
    await expect(store.ensure(`${down}/team/app:1.0`, { policy: POLICY })).rejects.toMatchObject({
      code: 'ERR_UNAVAILABLE',
      message: expect.stringContaining('connection refused'),
      details: { argv: expect.arrayContaining(['inspect']) },
    });
  });

  it('refuses a registry the policy does not list with ERR_PERMISSION_DENIED, without contacting it', async () => {
    const { tools, counts } = countingTools();
    const store = await ImageStore.open({ stateDir, tools });
    await expect(store.ensure(imgs.app.ref, { policy: { allowedRegistries: ['registry.example:5000'] } })).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
      message: expect.stringContaining(`registry ${reg.host}, which the node's image policy does not allow`),
    });
    await expect(store.ensure('busybox', { policy: {} })).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
    expect(counts.inspect + counts.copy).toBe(0);
  });

  it('refuses an image larger than maxImageBytes before copying any blob', async () => {
    const { tools, counts } = countingTools();
    const store = await ImageStore.open({ stateDir, tools });
    await expect(store.ensure(imgs.app.ref, { policy: { ...POLICY, maxImageBytes: 1024 } })).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
      message: expect.stringContaining('more than the 1024 the node'),
    });
    expect(counts).toMatchObject({ inspect: 1, copy: 0 });
    expect(await fsp.readdir(path.join(store.paths.blobs, 'sha256'))).toEqual([]);
  });

  it('says ERR_NOT_FOUND for a tag the registry does not have, and ERR_INVALID_ARGUMENT for a bad reference', async () => {
    const store = await ImageStore.open({ stateDir });
    await expect(store.ensure(`${reg.host}/team/app:nope`, { policy: POLICY })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND', message: expect.stringContaining('manifest unknown') });
    await expect(store.ensure(`${reg.host}/Team/App`, { policy: POLICY })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', details: { field: 'image' } });
  });

  it('asks for insecureRegistries when a plain-HTTP registry is used over TLS', async () => {
    const store = await ImageStore.open({ stateDir });
    await expect(store.ensure(imgs.app.ref, { policy: { allowedRegistries: ['127.0.0.1:*'] } })).rejects.toMatchObject({
      code: 'ERR_FAILED_PRECONDITION',
      message: expect.stringContaining('insecureRegistries'),
    });
  });

  it('refuses an image with zstd layers before copying it, since umoci 0.4.7 cannot unpack them', async () => {
    const zl = path.join(imgs.work, 'zstd-layout');
    await execa('skopeo', ['copy', '--dest-compress', '--dest-compress-format', 'zstd', `oci:${imgs.layout}:noshell`, `oci:${zl}:noshell`]);
    await execa('skopeo', ['copy', '--dest-tls-verify=false', `oci:${zl}:noshell`, `docker://${reg.host}/team/zstd:1`]);
    const { tools, counts } = countingTools();
    const store = await ImageStore.open({ stateDir, tools });
    await expect(store.ensure(`${reg.host}/team/zstd:1`, { policy: POLICY })).rejects.toMatchObject({
      code: 'ERR_FAILED_PRECONDITION',
      message: expect.stringContaining('tar+zstd'),
    });
    expect(counts.copy).toBe(0);
  });
});
