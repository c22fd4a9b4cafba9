import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { useTempDir } from '../../helpers/temp-dir.js';
import { mountAddon, mountOne, unmountEach, unmountStack, type MountAddon } from '../../../src/sandbox/mount-table.js';
import { mountAt } from '../../../src/sandbox/rootfs.js';
import { removeTaskDir } from '../../../src/runtime/init-ops.js';
import { taskPaths } from '../../../src/runtime/layout.js';

describeWithHost(['root', 'busybox'], 'the mount table: mount(2) in-process, busybox without the addon', () => {
  const tmp = useTempDir('stasis-mnt-');
  const mounted: string[] = [];
  afterEach(async () => {
    await unmountEach(mounted.splice(0).reverse(), { detach: true });
  });

  it('the addon is built (npm run build) wherever a C compiler is, and always in CI', () => {
    if (process.env.CI) expect(mountAddon()).not.toBeNull();
  });

  const ways: [string, () => MountAddon | null][] = [
    ['the addon', () => mountAddon()],
    ['busybox', () => null],
  ];
  for (const [way, addon] of ways) {
    it(`${way}: a tmpfs with its size, mode and nosuid,nodev, then gone again; failures name the errno or the tool's error`, async () => {
      const native = addon();
      if (way === 'the addon' && !native) return;
      const dir = path.join(tmp(), 'layer');
      await fs.mkdir(dir);
      expect(await mountOne({ fsType: 'tmpfs', source: 'stasis-layer', target: dir, flags: ['nosuid', 'nodev'], data: 'size=1048576,mode=0700' }, native)).toBeNull();
      mounted.push(dir);
      const m = await mountAt(dir);
      expect(m).toMatchObject({ fsType: 'tmpfs' });
      const line = (await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === dir)!;
      expect(line.split(' ')[5]!.split(',')).toEqual(expect.arrayContaining(['nosuid', 'nodev']));
      expect(line).toMatch(/size=1024k/);
      expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
      expect(await unmountEach([dir], {}, native)).toBeNull();
      mounted.pop();
      expect(await mountAt(dir)).toBeUndefined();
      const missing = path.join(tmp(), 'missing');
      const failed = await mountOne({ fsType: 'tmpfs', source: 'x', target: missing, flags: [], data: '' }, native);
      expect(failed).toMatch(native ? /No such file or directory \(ENOENT\)/ : /No such file or directory|not found/i);
      expect(await unmountEach([dir], {}, native)).toMatch(native ? /EINVAL/ : /Invalid argument|not mounted/i);
    });
  }

  it('the addon does not unmount through a symlink (UMOUNT_NOFOLLOW)', async () => {
    const native = mountAddon();
    if (!native) return;
    const dir = path.join(tmp(), 'layer');
    await fs.mkdir(dir);
    expect(await mountOne({ fsType: 'tmpfs', source: 'stasis-layer', target: dir, flags: ['nodev'], data: 'size=65536' })).toBeNull();
    mounted.push(dir);
    await fs.symlink(dir, path.join(tmp(), 'link'));
    expect(await unmountEach([path.join(tmp(), 'link')])).toMatch(/EINVAL/);
    expect(await mountAt(dir)).toMatchObject({ fsType: 'tmpfs' });
  });

  it('unmountStack takes off every mount stacked at a path, and says nothing was there (no mountinfo read)', async () => {
    const native = mountAddon();
    if (!native) return;
    const dir = path.join(tmp(), 'stack');
    await fs.mkdir(dir);
    for (let i = 0; i < 2; i++) {
      expect(await mountOne({ fsType: 'tmpfs', source: 'stasis-layer', target: dir, flags: ['nodev'], data: 'size=65536' }, native)).toBeNull();
      mounted.push(dir);
    }
    expect(unmountStack(native, dir)).toBeNull();
    mounted.splice(0);
    expect(await mountAt(dir)).toBeUndefined();
    expect(unmountStack(native, dir)).toBeNull();
    expect(unmountStack(native, path.join(tmp(), 'missing'))).toBeNull();
  });

  it("removeTree removes a tree without following its symlinks, and stops at a mount inside it (a bind of the same filesystem too)", async () => {
    const native = mountAddon();
    if (!native?.removeTree) return;
    const root = path.join(tmp(), 'task');
    const outside = path.join(tmp(), 'outside');
    await fs.mkdir(path.join(root, 'a', 'b', 'c'), { recursive: true });
    await fs.mkdir(outside);
    await fs.writeFile(path.join(outside, 'keep'), 'k');
    await fs.writeFile(path.join(root, 'a', 'b', 'c', 'f'), 'x');
    for (let i = 0; i < 200; i++) await fs.writeFile(path.join(root, 'a', `n${i}`), '');
    await fs.symlink(outside, path.join(root, 'a', 'dir-link'));
    await fs.symlink(path.join(outside, 'keep'), path.join(root, 'file-link'));
    native.removeTree!(root);
    await expect(fs.lstat(root)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await fs.readdir(outside)).toEqual(['keep']);
    // Gone already: nothing to do. A symlink as the target: the link goes, not what it points to.
    native.removeTree!(root);
    await fs.symlink(outside, path.join(tmp(), 'link'));
    native.removeTree!(path.join(tmp(), 'link'));
    expect(await fs.readdir(outside)).toEqual(['keep']);
    // A tmpfs mounted inside, and a bind mount of this filesystem: refused before anything under them is touched.
    for (const kind of ['tmpfs', 'bind'] as const) {
      const t = path.join(tmp(), `with-${kind}`);
      const m = path.join(t, 'm');
      await fs.mkdir(m, { recursive: true });
      if (kind === 'tmpfs') {
        expect(await mountOne({ fsType: 'tmpfs', source: 'stasis-layer', target: m, flags: ['nodev'], data: 'size=65536' }, native)).toBeNull();
        await fs.writeFile(path.join(m, 'inner'), 'i');
      } else {
        native.mount(outside, m, '', 4096 /* MS_BIND */, '');
      }
      mounted.push(m);
      expect(() => native.removeTree!(t)).toThrow(expect.objectContaining({ code: 'EXDEV' }));
      expect(await fs.readdir(m)).toEqual([kind === 'tmpfs' ? 'inner' : 'keep']);
    }
  });

  it("a task's directory goes with its two mounts, and is refused while something else is mounted inside it", async () => {
    const p = taskPaths(tmp(), 'default', 'gone');
    for (const d of [p.layer, p.rootfs, p.jobDir, p.runDir]) await fs.mkdir(d, { recursive: true });
    expect(await mountOne({ fsType: 'tmpfs', source: 'stasis-layer', target: p.layer, flags: ['nodev'], data: 'size=65536' })).toBeNull();
    expect(await mountOne({ fsType: 'tmpfs', source: 'stasis-rootfs', target: p.rootfs, flags: ['nodev'], data: 'size=65536' })).toBeNull();
    await fs.writeFile(path.join(p.rootfs, 'job-file'), 'j');
    await removeTaskDir(p);
    await expect(fs.lstat(p.dir)).rejects.toMatchObject({ code: 'ENOENT' });
    const q = taskPaths(tmp(), 'default', 'held');
    const other = path.join(q.runDir, 'mnt');
    await fs.mkdir(other, { recursive: true });
    expect(await mountOne({ fsType: 'tmpfs', source: 'stasis-other', target: other, flags: ['nodev'], data: 'size=65536' })).toBeNull();
    mounted.push(other);
    await fs.writeFile(path.join(other, 'inner'), 'i');
    await expect(removeTaskDir(q)).rejects.toMatchObject({ code: 'ERR_RUNTIME', message: expect.stringMatching(/still mounted/) });
    expect(await fs.readdir(other)).toEqual(['inner']);
  });

  it('the addon refuses arguments that are not what mount(2) takes, without touching the mount table', () => {
    const native = mountAddon();
    if (!native) return;
    expect(() => native.mount('x', `${tmp()}\0/etc`, 'tmpfs', 0, '')).toThrow(TypeError);
    expect(() => (native.mount as (...a: unknown[]) => void)('x', tmp(), 'tmpfs', 'nodev', '')).toThrow(/flags must be a number/);
    expect(() => (native.umount as (...a: unknown[]) => void)(tmp())).toThrow(TypeError);
  });
});
