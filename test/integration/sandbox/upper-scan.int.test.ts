import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { upperHoldsOnlyMountpoints } from '../../../src/sandbox/upper-scan.js';

const DESTS = ['/proc', '/dev', '/.stasis/init', '/.stasis/busybox', '/.stasis/job'];

describe('whether an upper layer needs a rootfs diff', () => {
  let base: string;
  let upper: string;
  let lower: string;
  let merged: string;
  beforeEach(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-upper-'));
    upper = path.join(base, 'upper');
    lower = path.join(base, 'lower');
    merged = path.join(base, 'merged');
    await fs.mkdir(path.join(merged, 'etc'), { recursive: true });
    await fs.mkdir(path.join(lower, 'etc'), { recursive: true, mode: 0o755 });
    await fs.mkdir(path.join(lower, 'proc'), { mode: 0o555 });
    await fs.chmod(path.join(lower, 'proc'), 0o555);
    await fs.mkdir(upper, { mode: 0o755 });
    // What runc leaves in the upper layer of a busybox task: the launcher's mountpoints.
    await fs.mkdir(path.join(upper, '.stasis/job'), { recursive: true });
    await fs.chmod(path.join(upper, '.stasis'), 0o755);
    await fs.chmod(path.join(upper, '.stasis/job'), 0o755);
    for (const f of ['init', 'busybox']) await fs.writeFile(path.join(upper, '.stasis', f), '', { mode: 0o755 });
  });
  afterEach(() => fs.rm(base, { recursive: true, force: true }));

  const scan = () => upperHoldsOnlyMountpoints({ upper, lower, merged }, DESTS);

  it('needs none for the mountpoints runc makes, nor for an empty upper', async () => {
    expect(await scan()).toBe(true);
    await fs.rm(path.join(upper, '.stasis'), { recursive: true });
    expect(await scan()).toBe(true);
  });

  it("needs none for mountpoints CRIU made again as the host's root, but one for a directory of another owner", async () => {
    // A task's upper layer belongs to its mapped root; a restore's CRIU makes the mountpoints as 0:0.
    await fs.chown(upper, 100_000, 100_000);
    expect(await scan()).toBe(true);
    await fs.chown(path.join(upper, '.stasis', 'job'), 100_005, 100_005);
    expect(await scan()).toBe(false);
    await fs.chown(path.join(upper, '.stasis', 'job'), 100_000, 100_000);
    expect(await scan()).toBe(true);
  });

  it('needs one for a file a job wrote, anywhere', async () => {
    await fs.writeFile(path.join(upper, '.stasis', 'job', 'out'), 'x');
    expect(await scan()).toBe(false);
  });

  it('needs one when a mountpoint file has content, or is a symlink', async () => {
    await fs.writeFile(path.join(upper, '.stasis', 'init'), 'x');
    expect(await scan()).toBe(false);
    await fs.rm(path.join(upper, '.stasis', 'init'));
    await fs.symlink('/etc/passwd', path.join(upper, '.stasis', 'init'));
    expect(await scan()).toBe(false);
  });

  it('needs one for a new directory that is not on the way to a mountpoint', async () => {
    await fs.mkdir(path.join(upper, 'data'), { mode: 0o755 });
    await fs.chmod(path.join(upper, 'data'), 0o755);
    expect(await scan()).toBe(false);
  });

  it('needs none for a directory copied up unchanged, but one when it hides the lower\'s entries (opaque)', async () => {
    await fs.writeFile(path.join(lower, 'etc', 'passwd'), 'root:x:0:0');
    const etc = await fs.stat(path.join(lower, 'etc'));
    await fs.mkdir(path.join(upper, 'etc'));
    await fs.chmod(path.join(upper, 'etc'), etc.mode & 0o7777);
    await fs.chown(path.join(upper, 'etc'), etc.uid, etc.gid);
    expect(await scan()).toBe(false); // the merged view lacks etc/passwd: the upper etc is opaque
    await fs.writeFile(path.join(merged, 'etc', 'passwd'), 'root:x:0:0');
    expect(await scan()).toBe(true);
    await fs.chmod(path.join(upper, 'etc'), 0o700);
    expect(await scan()).toBe(false);
  });

  it('needs one when a mountpoint directory lost the lower\'s mode, or a new one is not 0755', async () => {
    await fs.mkdir(path.join(upper, 'proc'));
    await fs.chmod(path.join(upper, 'proc'), 0o555);
    expect(await scan()).toBe(true);
    await fs.chmod(path.join(upper, 'proc'), 0o777);
    expect(await scan()).toBe(false);
    await fs.chmod(path.join(upper, 'proc'), 0o555);
    await fs.chmod(path.join(upper, '.stasis'), 0o700);
    expect(await scan()).toBe(false);
  });

  it('needs one for a whiteout (a 0/0 character device) when it can make one', async () => {
    if (process.getuid?.() !== 0) return;
    const { execFileSync } = await import('node:child_process');
    execFileSync('mknod', [path.join(upper, 'dev'), 'c', '0', '0']);
    expect(await scan()).toBe(false);
  });
});
