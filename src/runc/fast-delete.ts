/**
 * A fast path of `runc delete` (Runc.delete, for runc versions whose layout this follows; see
 * version.ts): a stopped container without spawning runc (~15 ms a call here). For a stopped
 * container with its own pid namespace, runc 1.1 (libcontainer destroy) only removes the container's
 * cgroup in every hierarchy and its state directory under the runc root; this does the same, and
 * hands over to `runc delete --force` when the container is not plainly stopped or a cgroup is busy.
 */
import fs from '../os/local-fs.js';
import path from 'node:path';
import { readRuncState } from './state-file.js';

/** True when the container is gone afterwards (it was stopped, or unknown); false: let runc do it. */
export async function deleteStopped(runcRoot: string, containerId: string): Promise<boolean> {
  const st = await readRuncState(runcRoot, containerId);
  if (st === null) return true;
  if (st === undefined || st.status !== 'stopped') return false;
  const dir = path.join(runcRoot, containerId);
  const state = JSON.parse(await fs.readFile(path.join(dir, 'state.json'), 'utf8')) as {
    cgroup_paths?: Record<string, unknown>;
    config?: { namespaces?: { type?: string; path?: string }[] };
  };
  // Without a private pid namespace runc also SIGKILLs what is left in the cgroup: leave that to runc.
  const ns = state.config?.namespaces ?? [];
  if (!ns.some((n) => n.type === 'NEWPID' && !n.path)) return false;
  const cgroups = Object.values(state.cgroup_paths ?? {}).filter((p): p is string => typeof p === 'string' && p.startsWith('/sys/fs/cgroup'));
  for (const cg of cgroups) {
    try {
      await fs.rmdir(cg);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false; // busy (processes or children)
    }
  }
  await fs.rm(dir, { recursive: true, force: true });
  return true;
}
