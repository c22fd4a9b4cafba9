/** Unmounting what a test's node left mounted under its state dir, before the dir is removed. */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

/** Mount points at or under `dir` (real path), deepest first. */
export function mountsUnder(dir: string): string[] {
  const real = fs.existsSync(dir) ? fs.realpathSync(dir) : path.resolve(dir);
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === real || m.startsWith(real + path.sep))
    .sort((a, b) => b.length - a.length);
}

/**
 * Detaches every mount under `dir` (a node's run-dir tmpfs left by a forced close or a kill, task
 * overlays), deepest first. A mount that is gone already is not an error.
 */
export function unmountUnder(dir: string): void {
  for (const m of mountsUnder(dir)) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // Unmounted meanwhile (a parent's lazy unmount took it along): nothing left to do.
    }
  }
}
