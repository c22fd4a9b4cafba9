import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { useTempDir } from '../../helpers/temp-dir.js';
import { mountAddon, mountOne, unmountEach, type MountAddon } from '../../../src/sandbox/mount-table.js';
import { mountAt } from '../../../src/sandbox/rootfs.js';

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

  it('the addon refuses arguments that are not what mount(2) takes, without touching the mount table', () => {
    const native = mountAddon();
    if (!native) return;
    expect(() => native.mount('x', `${tmp()}\0/etc`, 'tmpfs', 0, '')).toThrow(TypeError);
    expect(() => (native.mount as (...a: unknown[]) => void)('x', tmp(), 'tmpfs', 'nodev', '')).toThrow(/flags must be a number/);
    expect(() => (native.umount as (...a: unknown[]) => void)(tmp())).toThrow(TypeError);
  });
});
