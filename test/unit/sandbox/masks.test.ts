import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIND_MASKED_PATHS, ensureEmptyDir, isMaskMount, maskMounts } from '../../../src/sandbox/masks.js';

describe('masks', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-masks-'));
  });
  afterEach(async () => {
    // Not every test makes the directory.
    await fs.chmod(path.join(dir, 'empty'), 0o755).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('masks only paths outside /proc (runc refuses spec mounts inside it)', () => {
    expect(BIND_MASKED_PATHS.length).toBeGreaterThan(0);
    for (const p of BIND_MASKED_PATHS) expect(p.startsWith('/proc/')).toBe(false);
  });

  it('maskMounts gives read-only, nosuid, nodev, noexec binds that isMaskMount recognises', () => {
    const ms = maskMounts('/x/empty');
    expect(ms.map((m) => m.destination)).toEqual([...BIND_MASKED_PATHS]);
    for (const m of ms) {
      expect(m.options).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
      expect(isMaskMount(m)).toBe(true);
    }
    expect(isMaskMount({ destination: '/sys/firmware', type: 'tmpfs' })).toBe(false);
    expect(isMaskMount({ destination: '/data', type: 'bind' })).toBe(false);
  });

  it('ensureEmptyDir makes the directory 0555 and returns it; again, it is kept', async () => {
    const got = await ensureEmptyDir(dir);
    expect(got).toBe(path.join(dir, 'empty'));
    expect((await fs.stat(got!)).mode & 0o7777).toBe(0o555);
    expect(await ensureEmptyDir(dir)).toBe(got);
  });

  it('ensureEmptyDir puts a loosened mode back to 0555', async () => {
    await fs.mkdir(path.join(dir, 'empty'), { mode: 0o777 });
    await fs.chmod(path.join(dir, 'empty'), 0o777);
    expect(await ensureEmptyDir(dir)).toBeDefined();
    expect((await fs.stat(path.join(dir, 'empty'))).mode & 0o7777).toBe(0o555);
  });

  it('ensureEmptyDir refuses a directory that holds something, or a symlink (the tasks keep tmpfs masks)', async () => {
    await fs.mkdir(path.join(dir, 'empty'));
    await fs.writeFile(path.join(dir, 'empty', 'planted'), 'x');
    expect(await ensureEmptyDir(dir)).toBeUndefined();
    const other = path.join(dir, 'other');
    await fs.mkdir(path.join(other));
    await fs.mkdir(path.join(other, 'elsewhere'));
    await fs.symlink(path.join(other, 'elsewhere'), path.join(other, 'empty'));
    expect(await ensureEmptyDir(other)).toBeUndefined();
  });
});
