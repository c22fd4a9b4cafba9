import { describe, expect, it } from 'vitest';
import { checkAllowed, isInsecure, parseImagePolicy, registryMatches } from '../../../src/image/policy.js';
import { parseImageRef } from '../../../src/image/reference.js';

describe('registryMatches', () => {
  it.each([
    ['registry.example:5000', 'registry.example:5000', true],
    ['registry.example:5000', 'registry.example:5001', false],
    ['registry.example', 'registry.example:5000', false],
    ['registry.example', 'registry.example', true],
    ['registry.example:*', 'registry.example:5000', true],
    ['registry.example:*', 'registry.example', true],
    ['*.example.com', 'a.b.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'evilexample.com', false],
    ['127.0.0.1:*', '127.0.0.1:41234', true],
    ['*', 'docker.io', true],
    ['Docker.IO', 'docker.io', true],
  ])('%s against %s is %s', (pattern, registry, want) => {
    expect(registryMatches(pattern, registry)).toBe(want);
  });
});

describe('parseImagePolicy', () => {
  it('defaults to nothing allowed, pull if-not-present', () => {
    expect(parseImagePolicy({})).toEqual({ allowedRegistries: [], allowedLayouts: [], pull: 'if-not-present', insecureRegistries: [], timeoutMs: 600_000 });
  });

  it('parses byte sizes and is idempotent', () => {
    const p = parseImagePolicy({ maxImageBytes: '512m', storeMaxBytes: 1024, allowedRegistries: ['Reg.Example:5000'] });
    expect(p.maxImageBytes).toBe(512 * 1024 * 1024);
    expect(p.allowedRegistries).toEqual(['reg.example:5000']);
    expect(parseImagePolicy(p)).toEqual(p);
  });

  it('names the bad field', () => {
    expect(() => parseImagePolicy({ pull: 'sometimes' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', details: { field: 'imagePolicy.pull' } }));
    expect(() => parseImagePolicy({ allowedRegistries: ['http://x'] })).toThrow(/imagePolicy.allowedRegistries.0/);
    expect(() => parseImagePolicy({ authFile: 'relative' })).toThrow(/absolute path/);
    expect(() => parseImagePolicy({ maxImageBytes: '-1' })).toThrow(/byte size/);
    expect(() => parseImagePolicy({ extra: 1 })).toThrow(/Unrecognized key/);
  });

  it('says which registries are insecure', () => {
    const p = parseImagePolicy({ insecureRegistries: ['127.0.0.1:*'] });
    expect(isInsecure(p, '127.0.0.1:5000')).toBe(true);
    expect(isInsecure(p, 'registry.example')).toBe(false);
  });
});

describe('checkAllowed', () => {
  it('refuses a registry that is not listed with ERR_PERMISSION_DENIED naming the allowed ones', async () => {
    const p = parseImagePolicy({ allowedRegistries: ['registry.example:5000'] });
    await expect(checkAllowed(p, parseImageRef('busybox'))).rejects.toMatchObject({
      code: 'ERR_PERMISSION_DENIED',
      message: expect.stringMatching(/docker.io.*allowed registries: registry.example:5000/),
    });
    await expect(checkAllowed(p, parseImageRef('registry.example:5000/a:1'))).resolves.toBeUndefined();
  });

  it('refuses any registry and any layout by default', async () => {
    const p = parseImagePolicy({});
    await expect(checkAllowed(p, parseImageRef('127.0.0.1:5000/a'))).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED', message: expect.stringContaining('allowed registries: none') });
    await expect(checkAllowed(p, parseImageRef('oci:/srv/x:1'))).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });
});
