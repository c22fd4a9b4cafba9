import fsp from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../../helpers/temp-dir.js';
import local from '../../../src/os/local-fs.js';

describe('local-fs: fs/promises-shaped calls done synchronously', () => {
  const tmp = useTempDir('stasis-local-fs');

  it('reads, writes, renames and lists as fs/promises does', async () => {
    const dir = tmp();
    const f = path.join(dir, 'a.json');
    await local.writeFile(f, '{"a":1}\n', { mode: 0o600 });
    expect(await local.readFile(f, 'utf8')).toBe(await fsp.readFile(f, 'utf8'));
    expect((await local.stat(f)).mode & 0o777).toBe(0o600);
    await local.rename(f, path.join(dir, 'b.json'));
    const entries = await local.readdir(dir, { withFileTypes: true });
    expect(entries.map((e) => [e.name, e.isFile()])).toEqual([['b.json', true]]);
    await local.mkdir(path.join(dir, 'x/y'), { recursive: true, mode: 0o711 });
    await local.rm(path.join(dir, 'x'), { recursive: true, force: true });
    expect(await fsp.readdir(dir)).toEqual(['b.json']);
  });

  it('hands errors over as rejections with their code, never as throws', async () => {
    const dir = tmp();
    const missing = path.join(dir, 'missing');
    const p = local.readFile(missing, 'utf8');
    expect(p).toBeInstanceOf(Promise);
    await expect(p).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(local.stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(local.rmdir(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await local.access(missing).then(() => true, () => false)).toBe(false);
  });

  it('opens a new file exclusively, writes it, and refuses a second exclusive open', async () => {
    const dir = tmp();
    const f = path.join(dir, 'lock');
    const h = await local.open(f, 'wx', 0o400);
    await h.writeFile('123 1 0\n');
    await h.close();
    expect(await fsp.readFile(f, 'utf8')).toBe('123 1 0\n');
    expect((await fsp.stat(f)).mode & 0o777).toBe(0o400);
    await expect(local.open(f, 'wx', 0o600)).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('resolves symlinks with realpath(3)', async () => {
    const dir = tmp();
    await fsp.mkdir(path.join(dir, 'real'));
    await local.symlink(path.join(dir, 'real'), path.join(dir, 'link'));
    expect(await local.realpath(path.join(dir, 'link'))).toBe(await fsp.realpath(path.join(dir, 'real')));
  });
});
