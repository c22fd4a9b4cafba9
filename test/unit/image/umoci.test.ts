import { describe, expect, it } from 'vitest';
import { checkMapping, hostIdOf, parseUnpackKey, unpackKey } from '../../../src/image/mapping.js';
import { umociMessage, unpackArgs } from '../../../src/image/umoci.js';

const HEX = 'b'.repeat(64);

describe('umoci argv', () => {
  it('unpacks only the rootfs with host ids when there is no mapping', () => {
    expect(unpackArgs({ layout: '/s/oci', name: 'sha256-x', rootfs: '/s/tmp/u/rootfs', mapping: null })).toEqual([
      '--log=error', 'raw', 'unpack', '--image', '/s/oci:sha256-x', '/s/tmp/u/rootfs',
    ]);
  });

  it('shifts uids and gids by the same mapping', () => {
    expect(unpackArgs({ layout: '/s/oci', name: 'n', rootfs: '/r', mapping: { hostId: 100000, size: 65536 } })).toEqual([
      '--log=error', 'raw', 'unpack', '--uid-map', '0:100000:65536', '--gid-map', '0:100000:65536', '--image', '/s/oci:n', '/r',
    ]);
  });

  it('reads the last error line without its bullet', () => {
    expect(umociMessage('   • unpacking rootfs ...\n   ⨯ create rootfs: map uid to host: container id 70000 cannot be mapped to a host id\n')).toBe(
      'create rootfs: map uid to host: container id 70000 cannot be mapped to a host id',
    );
  });
});

describe('id mappings', () => {
  it('name unpack directories by digest and mapping, and parse them back', () => {
    expect(unpackKey(`sha256:${HEX}`, null)).toBe(HEX);
    expect(unpackKey(`sha256:${HEX}`, { hostId: 200000, size: 65536 })).toBe(`${HEX}-u200000-65536`);
    expect(parseUnpackKey(`${HEX}-u200000-65536`)).toEqual({ digest: `sha256:${HEX}`, mapping: { hostId: 200000, size: 65536 } });
    expect(parseUnpackKey('tmp')).toBeUndefined();
  });

  it('validate ranges and name the field', () => {
    expect(checkMapping(undefined)).toBeNull();
    expect(checkMapping({ hostId: 1, size: 2 })).toEqual({ hostId: 1, size: 2 });
    expect(() => checkMapping({ hostId: -1, size: 2 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', details: { field: 'mapping' } }));
    expect(() => checkMapping({ hostId: 1, size: 0 })).toThrow(/size at least 1/);
    expect(() => checkMapping({ hostId: 2 ** 32 - 2, size: 2 })).toThrow(/at most 4294967294/);
  });

  it('map container ids inside the range only', () => {
    expect(hostIdOf(1000, { hostId: 100000, size: 65536 })).toBe(101000);
    expect(hostIdOf(70000, { hostId: 100000, size: 65536 })).toBeUndefined();
    expect(hostIdOf(5, null)).toBe(5);
  });
});
