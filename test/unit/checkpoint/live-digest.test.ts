import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestTree } from '../../../src/checkpoint/digest.js';
import { isPageFile, LivePageDigests } from '../../../src/checkpoint/live-digest.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-live-digest-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('LivePageDigests', () => {
  it('follows page files written in steps (the images dir made after it started) and digests each whole file', async () => {
    const live = new LivePageDigests(dir);
    await pause(20);
    await fs.mkdir(path.join(dir, 'criu'));
    const chunks = Array.from({ length: 6 }, (_, i) => Buffer.alloc(700_000 + i, i + 1));
    const fh = await fs.open(path.join(dir, 'criu', 'pages-1.img'), 'w');
    for (const c of chunks) {
      await fh.write(c);
      await pause(8);
    }
    await fh.close();
    await fs.writeFile(path.join(dir, 'criu', 'pages-2.img'), Buffer.from('tail written after the last poll'));
    await fs.writeFile(path.join(dir, 'criu', 'pagemap-1.img'), Buffer.from('not a page file'));
    const digests = await live.finish();
    const whole = Buffer.concat(chunks);
    expect(digests.get('criu/pages-1.img')).toEqual({ size: whole.length, sha256: sha(whole) });
    expect(digests.get('criu/pages-2.img')).toEqual({ size: 32, sha256: sha(Buffer.from('tail written after the last poll')) });
    expect(digests.has('criu/pagemap-1.img')).toBe(false);
  });

  it('close() stops following without digests, and a missing images dir gives none', async () => {
    const live = new LivePageDigests(path.join(dir, 'never'));
    await pause(15);
    await live.close();
    expect((await new LivePageDigests(path.join(dir, 'never')).finish()).size).toBe(0);
  });
});

describe('page files and partial digests', () => {
  it('isPageFile() is true for criu/pages-N.img only', () => {
    expect(isPageFile('criu/pages-1.img')).toBe(true);
    expect(isPageFile('criu/pages-12.img')).toBe(true);
    expect(isPageFile('criu/pagemap-1.img')).toBe(false);
    expect(isPageFile('pages-1.img')).toBe(false);
    expect(isPageFile('criu/sub/pages-1.img')).toBe(false);
    expect(isPageFile('criu/pages-1.img.bak')).toBe(false);
  });

  it('digestTree() takes a known digest when the size matches, hashes otherwise, and can look at a part', async () => {
    await fs.mkdir(path.join(dir, 'criu'));
    await fs.writeFile(path.join(dir, 'criu', 'pages-1.img'), 'abc');
    await fs.writeFile(path.join(dir, 'criu', 'core-1.img'), 'core');
    const known = new Map([
      ['criu/pages-1.img', { size: 3, sha256: 'f'.repeat(64) }],
      ['criu/core-1.img', { size: 99, sha256: '0'.repeat(64) }],
    ]);
    const all = await digestTree(dir, new Set(), { known });
    expect(all).toEqual([
      { type: 'file', path: 'criu/core-1.img', size: 4, sha256: sha(Buffer.from('core')) },
      { type: 'file', path: 'criu/pages-1.img', size: 3, sha256: 'f'.repeat(64) },
    ]);
    expect((await digestTree(dir, new Set(), { only: isPageFile })).map((e) => e.path)).toEqual(['criu/pages-1.img']);
    expect((await digestTree(dir, new Set(), { only: (f) => !isPageFile(f) })).map((e) => e.path)).toEqual(['criu/core-1.img']);
  });
});
