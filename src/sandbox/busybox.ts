import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { errors } from '../errors.js';

/** Where busybox-static installs its binary on Debian. */
export const BUSYBOX_BINARY = '/bin/busybox';

/**
 * Builds (once) a minimal busybox rootfs in `dir`: /bin/busybox plus one symlink per applet and the
 * usual empty top-level directories. Returns `dir`. Safe to call concurrently from several processes:
 * the rootfs is built in a temporary sibling and renamed into place.
 */
export async function ensureBusyboxRootfs(dir: string, busybox = BUSYBOX_BINARY): Promise<string> {
  if (await exists(path.join(dir, 'bin', 'busybox'))) return dir;
  if (!(await exists(busybox))) {
    throw errors.unavailable(`busybox not found at ${busybox}; install busybox-static (npm run setup)`);
  }
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await fs.mkdir(path.join(tmp, 'bin'), { recursive: true });
  for (const d of ['dev', 'proc', 'sys', 'tmp', 'etc', 'root', 'data', 'var', 'run', 'home']) {
    await fs.mkdir(path.join(tmp, d), { recursive: true });
  }
  await fs.chmod(path.join(tmp, 'tmp'), 0o1777);
  await fs.copyFile(busybox, path.join(tmp, 'bin', 'busybox'));
  await fs.chmod(path.join(tmp, 'bin', 'busybox'), 0o755);
  const { stdout } = await execa(busybox, ['--list']);
  for (const applet of stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
    if (applet === 'busybox' || applet.includes('/')) continue;
    await fs.symlink('busybox', path.join(tmp, 'bin', applet)).catch(() => undefined);
  }
  await fs.writeFile(path.join(tmp, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await fs.writeFile(path.join(tmp, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  await fs.writeFile(path.join(tmp, 'etc', 'hosts'), '127.0.0.1 localhost\n');
  await fs.mkdir(path.dirname(dir), { recursive: true });
  try {
    await fs.rename(tmp, dir);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    if (!(await exists(path.join(dir, 'bin', 'busybox')))) throw e;
  }
  return dir;
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}
