import { execFileSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../../helpers/temp-dir.js';
import { readCapped } from '../../../src/image/records.js';

describe('readCapped: the image store reads small JSON files, capped', () => {
  const tmp = useTempDir('stasis-read-capped');

  it('reads a regular file whole', async () => {
    const dir = tmp();
    await fsp.writeFile(path.join(dir, 'index.json'), '{"schemaVersion":2}');
    expect((await readCapped(path.join(dir, 'index.json'))).toString('utf8')).toBe('{"schemaVersion":2}');
  });

  it('refuses a FIFO without blocking on its open, a directory and a file over the cap', async () => {
    const dir = tmp();
    execFileSync('mkfifo', [path.join(dir, 'index.json')]);
    await expect(readCapped(path.join(dir, 'index.json'))).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
    await expect(readCapped(dir)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
    await fsp.writeFile(path.join(dir, 'big.json'), 'x'.repeat(2048));
    await expect(readCapped(path.join(dir, 'big.json'), 1024)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
  });

  it('rejects a missing file with ENOENT (records read as absent)', async () => {
    const dir = tmp();
    await expect(readCapped(path.join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
