import { describe, expect, it } from 'vitest';
import { parseImageRef, transportString, tryParseImageRef } from '../../../src/image/reference.js';

const HEX = 'a'.repeat(64);

describe('parseImageRef', () => {
  it('parses a registry with a port, a nested repository and a tag', () => {
    expect(parseImageRef('registry.example:5000/team/tool:1.4')).toEqual({
      transport: 'docker',
      registry: 'registry.example:5000',
      repository: 'team/tool',
      tag: '1.4',
      canonical: 'registry.example:5000/team/tool:1.4',
    });
  });

  it('normalizes a bare name to Docker Hub library with tag latest', () => {
    expect(parseImageRef('busybox')).toMatchObject({ registry: 'docker.io', repository: 'library/busybox', tag: 'latest', canonical: 'docker.io/library/busybox:latest' });
    expect(parseImageRef('index.docker.io/library/busybox:1').canonical).toBe('docker.io/library/busybox:1');
    expect(parseImageRef('docker://team/tool').canonical).toBe('docker.io/team/tool:latest');
  });

  it('keeps a digest and sets no tag when only a digest is given', () => {
    const r = parseImageRef(`name@sha256:${HEX}`);
    expect(r).toMatchObject({ repository: 'library/name', digest: `sha256:${HEX}`, canonical: `docker.io/library/name@sha256:${HEX}` });
    expect(r.tag).toBeUndefined();
  });

  it('keeps both tag and digest when both are given', () => {
    expect(parseImageRef(`127.0.0.1:5000/a/b:1@sha256:${HEX}`).canonical).toBe(`127.0.0.1:5000/a/b:1@sha256:${HEX}`);
  });

  it('treats localhost as a registry only before a slash', () => {
    expect(parseImageRef('localhost/x').registry).toBe('localhost');
    expect(parseImageRef('localhost:5000').canonical).toBe('docker.io/library/localhost:5000');
  });

  it('parses oci: layouts with and without a tag', () => {
    expect(parseImageRef('oci:/srv/images/tool:v1')).toEqual({ transport: 'oci', repository: '/srv/images/tool', tag: 'v1', canonical: 'oci:/srv/images/tool:v1' });
    expect(parseImageRef('oci:/srv/images/tool/').canonical).toBe('oci:/srv/images/tool');
  });

  it.each([
    ['', 'empty'],
    ['Team/Tool', 'lowercase'],
    ['a b', 'white space'],
    ['team/to!ol', 'repository path component'],
    ['tool:bad/tag:x', 'registry host'],
    [`tool@sha256:${'A'.repeat(64)}`, 'digest'],
    ['tool@md5:abc', 'digest'],
    ['tool:-x', 'valid tag'],
    ['oci:relative/path', 'absolute'],
    ['oci:/srv/../etc', '..'],
    [`registry.example/${'a'.repeat(300)}`, 'longer'],
  ])('rejects %j (%s)', (input, reason) => {
    const r = tryParseImageRef(input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(reason);
  });

  it('throws ERR_INVALID_ARGUMENT naming the field and an example', () => {
    expect(() => parseImageRef('UPPER', 'payload.image')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', details: { field: 'payload.image' } }));
    expect(() => parseImageRef('UPPER')).toThrow(/Expected `image` to be an image reference like `registry.example:5000\/team\/tool:1.4`/);
  });
});

describe('transportString', () => {
  it('pins a docker reference to a digest when given one', () => {
    const r = parseImageRef('127.0.0.1:5000/a/b:1');
    expect(transportString(r)).toBe('docker://127.0.0.1:5000/a/b:1');
    expect(transportString(r, `sha256:${HEX}`)).toBe(`docker://127.0.0.1:5000/a/b@sha256:${HEX}`);
    expect(transportString(parseImageRef('oci:/l:t'))).toBe('oci:/l:t');
  });
});
