/**
 * Global teardown of the integration project: runc makes the `stasis` parent cgroup of every task's
 * path (`/stasis/<state-dir tag>/<namespace>/<id>`) in each hierarchy, and the runtime removes only
 * its own levels below it; the empty parent goes here, once no test runs (rmdir only: a non-empty
 * one, e.g. a real node's on the same host, stays).
 */
import { removeEmptyCgroupDir } from '../../src/runtime/cgroups.js';

export { removeEmptyCgroupDir };

export async function teardown(): Promise<void> {
  await removeEmptyCgroupDir('stasis');
}
