/** Keeping a supervised task's log after the task is deleted. */
import fs from 'node:fs/promises';
import local from '../../os/local-fs.js';
import path from 'node:path';
import type { Task } from '../../runtime/task.js';

/**
 * Links a non-empty task log to <logsDir>/<namespace>/<id>.log (a copy across filesystems); its path,
 * or null. A hard link keeps the log in the task too: a node that dies before posting re-reads the
 * whole output from the task after its restart.
 */
export async function keepLog(task: Task, src: string, logsDir: string, keep: boolean, warn: (e: unknown) => void): Promise<string | null> {
  if (!keep) return null;
  try {
    // A metadata call, on this thread: most logs are empty and need nothing more.
    const st = await local.stat(src);
    if (st.size === 0) return null;
    const dest = path.join(logsDir, task.namespace(), `${task.id}.log`);
    await fs.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
    await fs.rm(dest, { force: true }); // a link made before a crash, or an older run's log
    await fs.link(src, dest).catch(() => fs.copyFile(src, dest));
    return dest;
  } catch (e) {
    // No log file at all (a task that never wrote one) is not worth a line.
    if ((e as { code?: unknown }).code !== 'ENOENT') warn(e);
    return null;
  }
}
