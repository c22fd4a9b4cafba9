/**
 * Leaves the machine clean after a control test, whatever state a failed test left: tasks (via the
 * runtime), then any runc container of the state dir (prepared sandboxes included), then mounts.
 */
import fs from 'node:fs';
import { execa } from 'execa';
import { Runc } from '../../../src/runc/runc.js';
import { runtimePaths } from '../../../src/config/load.js';
import { wipeState } from '../queue/harness.js';

/** Kills and deletes everything under `dir`, unmounts what is still mounted there, removes it. */
export async function wipeAll(dir: string): Promise<void> {
  // A task lock left by a destroyed thread of this process would make wipeState wait: bound it.
  await Promise.race([wipeState(dir).catch(() => undefined), new Promise((r) => setTimeout(r, 30_000).unref())]);
  const runc = new Runc({ binary: '/usr/sbin/runc', root: runtimePaths({ stateDir: dir }).runcRoot });
  for (const c of await runc.list().catch(() => [])) await runc.delete(c.id, true).catch(() => undefined);
  const mounts = fs
    .readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(`${dir}/`))
    .sort()
    .reverse();
  for (const m of mounts) await execa('umount', ['-l', m], { reject: false });
  fs.rmSync(dir, { recursive: true, force: true });
}
