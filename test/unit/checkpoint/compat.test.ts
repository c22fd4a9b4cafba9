import { describe, expect, it } from 'vitest';
import { assertCompatible, checkCompat, majorMinor } from '../../../src/checkpoint/compat.js';
import type { HostInfo } from '../../../src/checkpoint/manifest.js';
import { HOST, manifest } from './fixtures.js';

function host(f: (h: HostInfo) => void): HostInfo {
  const h = structuredClone(HOST);
  f(h);
  return h;
}

describe('checkCompat', () => {
  it('accepts the same host', () => {
    expect(checkCompat(manifest(), HOST)).toEqual({ ok: true });
  });

  it('accepts a different CRIU patch release and a host with more CPU features', () => {
    const h = host((x) => {
      x.criu.version = '4.1.3';
      x.cpu.flags.push('amx_tile');
      x.cpu.model = 'another model';
    });
    expect(checkCompat(manifest(), h)).toEqual({ ok: true });
  });

  it.each<[string, (h: HostInfo) => void, RegExp]>([
    ['a different CRIU minor', (h) => void (h.criu.version = '4.2.0'), /taken with CRIU 4\.1\.1, but this host has CRIU 4\.2\.0/],
    ['a different runc', (h) => void (h.runc.version = '1.1.12'), /runc 1\.1\.5\+ds1, but this host has runc 1\.1\.12\./],
    ['a different kernel', (h) => void (h.kernel.release = '6.1.0-13-amd64'), /kernel 6\.18\.44-fc-v669, but this host runs kernel 6\.1\.0-13-amd64\./],
    ['a different architecture', (h) => void (h.arch = 'aarch64'), /taken on x86_64, but this host is aarch64\./],
    ['a CPU without avx512f', (h) => void (h.cpu.flags = h.cpu.flags.filter((f) => f !== 'avx512f')), /lacks the feature .*: avx512f\./],
  ])('refuses %s with a sentence saying why', (_name, change, reason) => {
    const r = checkCompat(manifest(), host(change));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reasons).toHaveLength(1);
      expect(r.reasons[0]).toMatch(reason);
    }
  });

  it('lists every reason at once', () => {
    const r = checkCompat(
      manifest(),
      host((h) => {
        h.runc.version = '1.2.0';
        h.kernel.release = '6.1.0';
        h.cpu.flags = ['fpu'];
      }),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reasons).toHaveLength(3);
      expect(r.reasons[2]).toMatch(/lacks features .*avx, avx2, avx512f, sse, sse2, xsave\./);
    }
  });

  it('compares the rootfs digest only when the caller gives one', () => {
    expect(checkCompat(manifest(), HOST, { rootfsDigest: `sha256:${'a'.repeat(64)}` })).toEqual({ ok: true });
    const r = checkCompat(manifest(), HOST, { rootfsDigest: 'sha256:other' });
    expect(r.ok).toBe(false);
    expect(checkCompat(manifest({ rootfs: null }), HOST, { rootfsDigest: 'sha256:other' })).toEqual({ ok: true });
  });

  it('assertCompatible throws ERR_CHECKPOINT carrying the reasons', () => {
    const h = host((x) => void (x.kernel.release = '5.10'));
    expect(() => assertCompatible(manifest(), h)).toThrow(
      expect.objectContaining({
        code: 'ERR_CHECKPOINT',
        message: expect.stringMatching(/^Checkpoint default\/job-1#1 cannot be restored on this host: .*kernel 5\.10/),
        details: expect.objectContaining({ reasons: [expect.stringMatching(/kernel/)] }),
      }),
    );
    expect(() => assertCompatible(manifest(), HOST)).not.toThrow();
  });
});

describe('majorMinor', () => {
  it.each([
    ['4.1.1', '4.1'],
    ['v3.17', '3.17'],
    ['weird', 'weird'],
  ])('%s → %s', (v, mm) => expect(majorMinor(v)).toBe(mm));
});
