import os from 'node:os';
import path from 'node:path';
import { ensureBusyboxRootfs } from '../../src/sandbox/busybox.js';

/** A busybox rootfs shared by all tests of this machine (read-only lower layer for tasks). */
export function testRootfs(): Promise<string> {
  return ensureBusyboxRootfs(path.join(os.tmpdir(), 'stasis-test-rootfs', 'busybox'));
}
