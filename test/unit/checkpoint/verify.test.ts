import { describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../../src/checkpoint/manifest.js';
import { diffEntries, verifyEntries } from '../../../src/checkpoint/verify.js';

const f = (p: string, sha = 'a', size = 1): ManifestEntry => ({ type: 'file', path: p, size, sha256: sha.repeat(64) });

describe('diffEntries / verifyEntries', () => {
  it('finds nothing when the directory matches', () => {
    expect(diffEntries([f('a'), f('b')], [f('b'), f('a')])).toEqual([]);
  });

  it('reports changed, missing and extra files', () => {
    const want = [f('criu/pages-1.img'), f('config.json'), { type: 'symlink', path: 'l', target: 'x' } as ManifestEntry];
    const have = [f('criu/pages-1.img', 'b'), f('extra.txt'), { type: 'symlink', path: 'l', target: 'y' } as ManifestEntry];
    expect(diffEntries(want, have)).toEqual([
      { file: 'config.json', problem: 'missing' },
      { file: 'criu/pages-1.img', problem: 'changed' },
      { file: 'extra.txt', problem: 'extra' },
      { file: 'l', problem: 'changed' },
    ]);
  });

  it('throws ERR_CHECKPOINT whose message and details name the files', () => {
    expect(() => verifyEntries([f('criu/pages-1.img')], [f('criu/pages-1.img', 'c')], 'default/j#1', '/x')).toThrow(
      expect.objectContaining({
        code: 'ERR_CHECKPOINT',
        message: 'Checkpoint default/j#1 failed verification: criu/pages-1.img does not match its digest in the manifest (tampered or corrupt).',
        details: expect.objectContaining({ file: 'criu/pages-1.img', files: ['criu/pages-1.img'] }),
      }),
    );
  });
});
