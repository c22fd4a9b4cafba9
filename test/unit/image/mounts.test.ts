import { describe, expect, it } from 'vitest';
import { mountedDigests } from '../../../src/image/mounts.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const ROOT = '/var/lib/stasis/images/rootfs';

describe('mountedDigests', () => {
  it('finds images used as overlay lower dirs, mapped or not', () => {
    const text = [
      `100 30 0:50 / /var/lib/stasis/tasks/default/t1/bundle/rootfs rw,relatime - overlay overlay rw,lowerdir=${ROOT}/${A}/rootfs,upperdir=/u,workdir=/w`,
      `101 30 0:51 / /x rw - overlay overlay rw,lowerdir=/other:${ROOT}/${B}-u100000-65536/rootfs,upperdir=/u2,workdir=/w2`,
      '102 30 0:52 / /proc rw - proc proc rw',
    ].join('\n');
    expect(mountedDigests(text, ROOT)).toEqual(new Set([`sha256:${A}`, `sha256:${B}`]));
  });

  it('decodes octal escapes and ignores other stores', () => {
    const text = `100 30 0:50 / /m rw - overlay overlay rw,lowerdir=/srv/my\\040state/images/rootfs/${A}/rootfs,upperdir=/u\n200 30 0:1 / /n rw - overlay overlay lowerdir=/elsewhere/images/rootfs/${B}/rootfs`;
    expect(mountedDigests(text, '/srv/my state/images/rootfs')).toEqual(new Set([`sha256:${A}`]));
  });
});
