import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseMapFlag, pullPolicy } from '../../../src/cli/image-context.js';
import { formatImageList, formatPullProgress, ProgressLine } from '../../../src/cli/image-output.js';

const HEX = 'c'.repeat(64);

describe('image command output', () => {
  it('draws the pull bar from bytes and layers', () => {
    const p = { ref: 'r/a:1', phase: 'pulling' as const, layersDone: 1, layersTotal: 4, bytesDone: 5 * 1024 * 1024, bytesTotal: 20 * 1024 * 1024 };
    expect(formatPullProgress(p, 8)).toBe('pulling r/a:1 [##------] 5MiB/20MiB 1/4 layers');
    expect(formatPullProgress({ ...p, phase: 'unpacking' })).toBe('unpacking r/a:1');
  });

  it('rewrites one line on a terminal and stays silent elsewhere', () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    let text = '';
    tty.on('data', (c: Buffer) => (text += c.toString()));
    const bar = new ProgressLine(tty);
    bar.update({ ref: 'x', phase: 'resolving', layersDone: 0, layersTotal: 0, bytesDone: 0, bytesTotal: 0 });
    bar.update({ ref: 'x', phase: 'pulling', layersDone: 1, layersTotal: 1, bytesDone: 10, bytesTotal: 10 });
    bar.end();
    expect(text).toBe('\r\x1b[Kresolving x\r\x1b[Kpulling x [########################] 10B/10B 1/1 layers\n');

    const pipe = new PassThrough();
    let piped = '';
    pipe.on('data', (c: Buffer) => (piped += c.toString()));
    const quiet = new ProgressLine(pipe);
    quiet.update({ ref: 'x', phase: 'resolving', layersDone: 0, layersTotal: 0, bytesDone: 0, bytesTotal: 0 });
    quiet.end();
    expect(piped).toBe('');
  });

  it('lists images with their references, short digest and unpacks', () => {
    const out = formatImageList([
      {
        digest: `sha256:${HEX}`, manifestDigest: `sha256:${HEX}`, source: 'r/a:1', sizeBytes: 2048, pulledAt: 't0', refs: ['r/a:1', 'r/a:latest'], lastUsedAt: 't1',
        unpacked: [{ mapping: null, rootfs: '/x', sizeBytes: 4096, unpackedAt: 't2' }, { mapping: { hostId: 100000, size: 65536 }, rootfs: '/y', sizeBytes: 4096, unpackedAt: 't3' }],
      },
    ]);
    expect(out).toBe(
      'REFERENCE          DIGEST        SIZE  UNPACKED                                LAST USED\n' +
        'r/a:1, r/a:latest  cccccccccccc  2KiB  host ids (4KiB), 0:100000:65536 (4KiB)  t1\n',
    );
  });
});

describe('image command flags', () => {
  it('parse --map HOSTID:SIZE', () => {
    expect(parseMapFlag('100000:65536')).toEqual({ hostId: 100000, size: 65536 });
    expect(parseMapFlag(undefined)).toBeNull();
    expect(() => parseMapFlag('100000')).toThrow(/HOSTID:SIZE/);
  });

  it("trust the operator's own reference when no policy file is given", async () => {
    const p = await pullPolicy('127.0.0.1:5000/a/b:1', { insecure: true, 'max-image-bytes': '1g' }, {});
    expect(p).toMatchObject({ allowedRegistries: ['127.0.0.1:5000'], insecureRegistries: ['127.0.0.1:5000'], pull: 'always', maxImageBytes: 1024 ** 3 });
    expect((await pullPolicy('oci:/srv/l:t', {}, {})).allowedLayouts).toEqual(['/srv/l']);
  });
});
