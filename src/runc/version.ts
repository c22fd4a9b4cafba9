/**
 * Which runc versions the fast paths follow (state-file.ts, exec-fifo.ts, fast-delete.ts read and
 * change runc's private state dir the way runc 1.1 does). Any other version gets the real runc for
 * every call. `runc --version` is asked once per binary and process.
 */
import { execa } from 'execa';

/** runc versions whose state dir layout, exec FIFO and delete the fast paths follow. */
export const FAST_PATH_VERSIONS = /^1\.1\.\d+/;

const known = new Map<string, Promise<string | null>>();

/** All that `runc --version` prints (runc's, the spec's, Go's and libseccomp's versions), or null (asked once per binary). */
export function runcVersionText(binary: string, timeoutMs = 10_000): Promise<string | null> {
  let v = known.get(binary);
  if (!v) {
    v = execa(binary, ['--version'], { reject: false, stdin: 'ignore', encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' }).then((r) =>
      r.exitCode === 0 ? String(r.stdout ?? '') : null,
    );
    known.set(binary, v);
  }
  return v;
}

/** The version `runc --version` prints (`1.1.5`), or null when it cannot be read (within timeoutMs). */
export async function runcVersion(binary: string, timeoutMs = 10_000): Promise<string | null> {
  const text = await runcVersionText(binary, timeoutMs);
  return (text !== null && /runc version (\S+)/.exec(text)?.[1]) || null;
}

/** True when the fast paths may stand in for `runc state`, `runc start` and `runc delete` of this binary. */
export async function fastPathsFor(binary: string, timeoutMs?: number): Promise<boolean> {
  const v = await runcVersion(binary, timeoutMs);
  return v !== null && FAST_PATH_VERSIONS.test(v);
}
