import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../../../src/sandbox/rootfs.js';

describe('parseMountinfo', () => {
  it('reads mount point, type, source and options, decoding escaped spaces', () => {
    const text = [
      '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '90 22 0:45 / /tmp/a\\040b/rootfs rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w',
      '',
    ].join('\n');
    expect(parseMountinfo(text)).toEqual([
      { mountPoint: '/', fsType: 'ext4', source: '/dev/vda', superOptions: 'rw' },
      { mountPoint: '/tmp/a b/rootfs', fsType: 'overlay', source: 'overlay', superOptions: 'rw,lowerdir=/l,upperdir=/u,workdir=/w' },
    ]);
  });
});
