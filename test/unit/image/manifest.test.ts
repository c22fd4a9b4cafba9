import { describe, expect, it } from 'vitest';
import { choosePlatform, manifestBytes, ociArch, parseManifestDoc, sha256Digest, unsupportedLayerTypes } from '../../../src/image/manifest.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const manifest = { schemaVersion: 2, config: { digest: d('c'), size: 10 }, layers: [{ digest: d('1'), size: 100 }, { digest: d('2'), size: 200 }] };
const index = {
  schemaVersion: 2,
  manifests: [
    { digest: d('a'), size: 1, platform: { os: 'linux', architecture: 'arm64' } },
    { digest: d('b'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
  ],
};

describe('manifests', () => {
  it('tell an image manifest from an index', () => {
    expect(parseManifestDoc(JSON.stringify(manifest), 'x').kind).toBe('manifest');
    expect(parseManifestDoc(JSON.stringify(index), 'x').kind).toBe('index');
  });

  it('refuse schema 1 and non-manifests with ERR_FAILED_PRECONDITION', () => {
    expect(() => parseManifestDoc('{"schemaVersion":1}', 'x')).toThrow(expect.objectContaining({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringContaining('schema 1') }));
    expect(() => parseManifestDoc('nope', 'x')).toThrow(/not JSON/);
    expect(() => parseManifestDoc('{"schemaVersion":2}', 'x')).toThrow(/not an image manifest or index/);
  });

  it('add up compressed config and layer sizes', () => {
    const doc = parseManifestDoc(JSON.stringify(manifest), 'x');
    expect(doc.kind === 'manifest' && manifestBytes(doc.manifest)).toBe(310);
  });

  it('choose linux on this architecture from an index, or say what there is', () => {
    const doc = parseManifestDoc(JSON.stringify(index), 'x');
    if (doc.kind !== 'index') throw new Error('expected an index');
    expect(choosePlatform(doc.index, 'x', 'amd64').digest).toBe(d('b'));
    expect(() => choosePlatform(doc.index, 'r/x:1', 's390x')).toThrow(expect.objectContaining({ code: 'ERR_NOT_FOUND', message: 'image r/x:1 has no linux/s390x variant (it has: linux/arm64, linux/amd64)' }));
    expect(ociArch('x64')).toBe('amd64');
  });

  it('digest the exact bytes', () => {
    expect(sha256Digest('')).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('name the zstd layers umoci 0.4.7 cannot unpack', () => {
    const doc = parseManifestDoc(JSON.stringify({ ...manifest, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: d('1'), size: 1 }, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('2'), size: 1 }] }), 'x');
    expect(doc.kind === 'manifest' && unsupportedLayerTypes(doc.manifest)).toEqual(['application/vnd.oci.image.layer.v1.tar+zstd']);
  });
});
