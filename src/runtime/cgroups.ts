/**
 * Housekeeping of the cgroup tree stasis uses: /stasis/<state dir tag>/<namespace>/<id> under every
 * controller (cgroup v1) or the unified hierarchy. runc removes a task's own cgroup on delete; the
 * empty parents it created stay until removed here.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { stateDirTag } from './ids.js';

const ROOT = '/sys/fs/cgroup';

/**
 * Removes the empty namespace cgroups (and the state dir's own cgroup once empty) of `stateDir`
 * under every hierarchy. rmdir of a cgroup fails while it has children or processes, so a busy one
 * stays. Not done on every delete: a concurrent `runc create` could lose its parent between runc's
 * mkdir of the parent and of the child. Call it where nothing creates tasks (recovery, close).
 */
export async function removeEmptyCgroupParents(stateDir: string, root = ROOT): Promise<number> {
  const tag = stateDirTag(stateDir);
  const hierarchies = await fs.readdir(root).catch(() => [] as string[]);
  const tops = [root, ...hierarchies.map((h) => path.join(root, h))];
  let removed = 0;
  for (const top of tops) {
    const base = path.join(top, 'stasis', tag);
    const namespaces = await fs.readdir(base, { withFileTypes: true }).catch(() => []);
    for (const ns of namespaces) {
      if (!ns.isDirectory()) continue;
      if (await rmdir(path.join(base, ns.name))) removed++;
    }
    if (await rmdir(base)) removed++;
  }
  return removed;
}

/**
 * Removes the cgroup directory `name` directly under the root and every hierarchy, where it is empty
 * (tests and benchmarks, for the top-level parents runc made for them; never on a live node's path).
 */
export async function removeEmptyCgroupDir(name: string, root = ROOT): Promise<void> {
  const hierarchies = await fs.readdir(root).catch(() => [] as string[]);
  for (const top of [root, ...hierarchies.map((h) => path.join(root, h))]) await rmdir(path.join(top, name));
}

async function rmdir(dir: string): Promise<boolean> {
  return fs.rmdir(dir).then(
    () => true,
    () => false,
  );
}
