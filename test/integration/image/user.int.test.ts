import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InRootError, readFileInRoot, resolveInRoot } from '../../../src/image/rootfs-read.js';
import { ImageStore } from '../../../src/image/store.js';
import { resolveUser } from '../../../src/image/user.js';
import { describeWithHost } from '../../helpers/host.js';
import { buildLayout, push, startRegistry, type Registry } from './registry.js';

const POLICY = { allowedRegistries: ['127.0.0.1:*'], insecureRegistries: ['127.0.0.1:*'] };
/** What a host file read by mistake would give: a user the image does not have. */
const HOST_PASSWD = 'root:x:0:0::/:/bin/sh\nhostonly:x:4242:4242::/:/bin/sh\n';

describe('reading a file inside an untrusted rootfs', () => {
  let root: string;
  let outside: string;
  beforeEach(async () => {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-inroot-'));
    outside = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-outside-'));
    await fsp.writeFile(path.join(outside, 'passwd'), HOST_PASSWD);
    await fsp.mkdir(path.join(root, 'etc'));
  });
  afterEach(async () => {
    await fsp.rm(root, { recursive: true, force: true });
    await fsp.rm(outside, { recursive: true, force: true });
  });

  it('resolves an absolute symlink against the rootfs, not the host', async () => {
    await fsp.symlink(path.join(outside, 'passwd'), path.join(root, 'etc/passwd'));
    await expect(readFileInRoot(root, '/etc/passwd', 1024)).rejects.toMatchObject({ reason: 'missing' });
    // The same path inside the rootfs is what the link means to the container.
    await fsp.mkdir(path.join(root, outside), { recursive: true });
    await fsp.writeFile(path.join(root, outside, 'passwd'), 'inside\n');
    expect((await readFileInRoot(root, '/etc/passwd', 1024)).toString()).toBe('inside\n');
  });

  it('stops .. at the rootfs root, in paths and in link targets', async () => {
    await fsp.symlink(`../../../../../../../..${outside}/passwd`, path.join(root, 'etc/passwd'));
    await expect(readFileInRoot(root, '/etc/passwd', 1024)).rejects.toBeInstanceOf(InRootError);
    expect(await resolveInRoot(root, '/../../etc/../etc')).toBe(path.join(root, 'etc'));
  });

  it('follows a symlinked directory inside the rootfs only', async () => {
    await fsp.rm(path.join(root, 'etc'), { recursive: true });
    await fsp.symlink(outside, path.join(root, 'etc'));
    await expect(readFileInRoot(root, '/etc/passwd', 1024)).rejects.toMatchObject({ reason: 'missing' });
  });

  it('refuses a FIFO without blocking, a symlink loop and a file over the cap', async () => {
    execFileSync('mkfifo', [path.join(root, 'etc/passwd')]);
    await expect(readFileInRoot(root, '/etc/passwd', 1024)).rejects.toMatchObject({ reason: 'not-a-file' });
    await fsp.symlink('loop2', path.join(root, 'etc/loop1'));
    await fsp.symlink('loop1', path.join(root, 'etc/loop2'));
    await expect(readFileInRoot(root, '/etc/loop1', 1024)).rejects.toMatchObject({ reason: 'loop' });
    await fsp.writeFile(path.join(root, 'etc/group'), 'x'.repeat(2048));
    await expect(readFileInRoot(root, '/etc/group', 1024)).rejects.toMatchObject({ reason: 'too-big' });
  });

  it('refuses a device node (an image could point one at the host disk)', async () => {
    if (process.getuid?.() !== 0) return;
    execFileSync('mknod', [path.join(root, 'etc/passwd'), 'c', '1', '3']); // /dev/null's numbers
    await expect(readFileInRoot(root, '/etc/passwd', 1024)).rejects.toMatchObject({ reason: 'not-a-file' });
  });
});

describeWithHost(['root', 'busybox', 'skopeo', 'umoci', 'docker-registry'], 'user names of an untrusted image', () => {
  let reg: Registry;
  let work: string;
  let stateDir: string;
  let secret: string;

  beforeAll(async () => {
    reg = await startRegistry();
    work = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-evil-image-'));
    // A "host file" the image points at: if the node followed the link, `hostonly` would resolve.
    secret = path.join(os.tmpdir(), `stasis-host-secret-${randomUUID().slice(0, 8)}`);
    await fsp.writeFile(secret, HOST_PASSWD, { mode: 0o600 });
  });
  afterAll(async () => {
    await reg?.stop();
    await fsp.rm(work, { recursive: true, force: true });
    await fsp.rm(secret, { force: true });
  });
  beforeEach(async () => {
    stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-image-user-'));
  });
  afterEach(async () => {
    await fsp.rm(stateDir, { recursive: true, force: true });
  });

  async function imageWith(tag: string, make: (etc: string) => Promise<void>): Promise<string> {
    const dir = path.join(work, tag);
    await fsp.mkdir(path.join(dir, 'etc'), { recursive: true });
    await make(path.join(dir, 'etc'));
    await buildLayout({ layout: path.join(work, 'layout'), tag, layers: [dir], spec: { cmd: ['x'], user: 'hostonly' } });
    await push(path.join(work, 'layout'), tag, reg.host, `evil/${tag}:1`);
    const store = await ImageStore.open({ stateDir });
    return (await store.ensure(`${reg.host}/evil/${tag}:1`, { policy: POLICY })).rootfs;
  }

  it('cannot make the node read a host file through a symlinked /etc/passwd', async () => {
    const rootfs = await imageWith('abs', async (etc) => fsp.symlink(secret, path.join(etc, 'passwd')));
    expect((await fsp.lstat(path.join(rootfs, 'etc/passwd'))).isSymbolicLink()).toBe(true);
    await expect(resolveUser(rootfs, { name: 'hostonly' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('`hostonly` is not in /etc/passwd') });
  });

  it('cannot escape with a relative link full of ..', async () => {
    const rootfs = await imageWith('rel', async (etc) => fsp.symlink(`../../../../../../..${secret}`, path.join(etc, 'passwd')));
    await expect(resolveUser(rootfs, { name: 'hostonly' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('still follows a symlink that stays inside the image', async () => {
    const rootfs = await imageWith('ok', async (etc) => {
      await fsp.writeFile(path.join(etc, 'passwd.real'), 'hostonly:x:7:8::/:/bin/sh\n');
      await fsp.symlink('/etc/passwd.real', path.join(etc, 'passwd'));
    });
    expect(await resolveUser(rootfs, { name: 'hostonly' })).toMatchObject({ uid: 7, gid: 8 });
  });
});
