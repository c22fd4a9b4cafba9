import type { HostInfo, Manifest } from '../../../src/checkpoint/manifest.js';

/** A host like the ones the project runs on. */
export const HOST: HostInfo = {
  arch: 'x86_64',
  kernel: { release: '6.18.44-fc-v669' },
  criu: { version: '4.1.1' },
  runc: { version: '1.1.5+ds1', commit: '1.1.5+ds1-1+deb12u1', spec: '1.0.2-dev' },
  cpu: { vendor: 'GenuineIntel', model: 'Intel(R) Xeon(R) Processor', flags: ['avx', 'avx2', 'avx512f', 'fpu', 'sse', 'sse2', 'xsave'] },
};

/** A valid manifest taken on HOST. */
export function manifest(over: Partial<Manifest> = {}): Manifest {
  return {
    format: 'stasis-checkpoint',
    version: 1,
    namespace: 'default',
    jobId: 'job-1',
    taskId: 'job-1-0',
    seq: 1,
    createdAt: '2026-11-28T10:00:00.000Z',
    nodeId: 'node-a',
    host: structuredClone(HOST),
    rootfs: { path: '/var/lib/stasis/rootfs/busybox', digest: `sha256:${'a'.repeat(64)}`, source: 'listing' },
    files: [
      { type: 'file', path: 'criu/inventory.img', size: 42, sha256: 'b'.repeat(64) },
      { type: 'symlink', path: 'criu/link', target: 'inventory.img' },
    ],
    totalBytes: 42,
    labels: {},
    ...over,
  };
}
