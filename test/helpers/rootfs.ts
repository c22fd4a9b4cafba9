import os from 'node:os';
import path from 'node:path';
import { ensureBusyboxRootfs } from '../../src/sandbox/busybox.js';

/**
 * A busybox rootfs shared by the tests of this run (read-only lower layer for tasks), in the
 * directory the integration project's global setup made (test/helpers/integration-global.ts).
 */
export function testRootfs(): Promise<string> {
  const dir = process.env.STASIS_TEST_ROOTFS_DIR ?? path.join(os.tmpdir(), 'stasis-test-rootfs');
  return ensureBusyboxRootfs(path.join(dir, 'busybox'));
}
