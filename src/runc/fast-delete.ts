/**
 * A fast path of `runc delete` (Runc.delete, for runc versions whose layout this follows; see
 * version.ts): a stopped container without spawning runc (~15 ms a call here). For a stopped
 * container with its own pid namespace, runc 1.1 (libcontainer destroy) only removes the container's
 * cgroup in every hierarchy and its state directory under the runc root; this does the same, and
 * hands over to `runc delete --force` when the container is not plainly stopped or a cgroup is busy.
 */
import nodeFs from 'node:fs';
import fs from '../os/local-fs.js';
import path from 'node:path';
import { readDeleteFacts, readRuncState } from './state-file.js';

/** True when the container is gone afterwards (it was stopped, or unknown); false: let runc do it. */
export async function deleteStopped(runcRoot: string, containerId: string): Promise<boolean> {
  const st = await readRuncState(runcRoot, containerId);
  if (st === null) return true;
  if (st === undefined || st.status !== 'stopped') return false;
  const dir = path.join(runcRoot, containerId);
  // The state.json readRuncState just read (kept parsed: no second parse of its ~33 KB).
  const facts = readDeleteFacts(runcRoot, containerId);
  // Without a private pid namespace runc also SIGKILLs what is left in the cgroup: leave that to runc.
  if (!facts?.privatePid) return false;
  for (const cg of facts.cgroups) {
    try {
      await fs.rmdir(cg);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false; // busy (processes or children)
    }
  }
  // runc's state dir holds state.json alone once the container started (exec.fifo is gone): two
  // calls; anything else there goes the long way.
  try {
    nodeFs.unlinkSync(path.join(dir, 'state.json'));
    nodeFs.rmdirSync(dir);
  } catch {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return true;
}
