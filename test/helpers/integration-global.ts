/**
 * Global setup and teardown of the integration project (once, around all of its files):
 * - the busybox rootfs the tests' tasks use (test/helpers/rootfs.ts) lives in a directory of this
 *   run (STASIS_TEST_ROOTFS_DIR, inherited by the test fork), removed at the end: a run leaves no
 *   rootfs behind and two runs on one machine never share one;
 * - runc makes the `stasis` parent cgroup of every task's path (`/stasis/<state-dir tag>/<namespace>/<id>`)
 *   in each hierarchy, and the runtime removes only its own levels below it; the empty parent goes
 *   here, once no test runs (rmdir only: a non-empty one, e.g. a real node's on the same host, stays).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { removeEmptyCgroupDir } from '../../src/runtime/cgroups.js';

/** The rootfs directory this run made (undefined when the caller named one). */
let made: string | undefined;

export async function setup(): Promise<void> {
  if (process.env.STASIS_TEST_ROOTFS_DIR) return;
  made = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-test-rootfs-'));
  await fs.chmod(made, 0o755); // as a rootfs' parent must be for a container's unprivileged root
  process.env.STASIS_TEST_ROOTFS_DIR = made;
}

export async function teardown(): Promise<void> {
  await removeEmptyCgroupDir('stasis');
  if (made) await fs.rm(made, { recursive: true, force: true });
}
