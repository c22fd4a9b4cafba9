import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/checkpoint/manifest.js';
import { manifest } from './fixtures.js';

describe('parseManifest', () => {
  it('round-trips a valid manifest through JSON', () => {
    const m = manifest();
    expect(parseManifest(JSON.stringify(m))).toEqual(m);
  });

  it('defaults labels to {}', () => {
    const { labels: _l, ...rest } = manifest();
    expect(parseManifest(rest).labels).toEqual({});
  });

  it('rejects text that is not JSON with ERR_CHECKPOINT', () => {
    expect(() => parseManifest('{nope', 'manifest.json of x')).toThrow(
      expect.objectContaining({ code: 'ERR_CHECKPOINT', message: expect.stringMatching(/^manifest.json of x is not valid JSON/) }),
    );
  });

  it('rejects another format version, saying which', () => {
    expect(() => parseManifest({ ...manifest(), version: 2 })).toThrow(/format version 2; this stasis reads version 1/);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a bad digest', { files: [{ type: 'file', path: 'a', size: 1, sha256: 'xyz' }] }, /files\.0\.sha256/],
    ['a negative size', { files: [{ type: 'file', path: 'a', size: -1, sha256: 'a'.repeat(64) }] }, /files\.0\.size/],
    ['an unknown entry type', { files: [{ type: 'fifo', path: 'a' }] }, /files\.0\.type/],
    ['seq 0', { seq: 0 }, /seq/],
    ['a bad time', { createdAt: 'yesterday' }, /createdAt/],
    ['no host', { host: undefined }, /host/],
    ['another format', { format: 'podman' }, /format/],
  ])('rejects %s naming the field', (_n, over, re) => {
    expect(() => parseManifest({ ...manifest(), ...over })).toThrow(
      expect.objectContaining({ code: 'ERR_CHECKPOINT', message: expect.stringMatching(re) }),
    );
  });
});
