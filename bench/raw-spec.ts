/**
 * The raw baselines' config.json: stasis' own spec (same namespaces, limits, masked paths) with the
 * given argv as the container's process and without the launcher's mounts, user namespace or seccomp.
 * Every masked directory is runc's read-only tmpfs, as `runc spec` and docker have it (stasis masks
 * /sys/firmware with a bind instead: src/sandbox/masks.ts).
 */
import { buildSpec } from '../src/sandbox/spec.js';
import type { Limits, OciSpec } from '../src/sandbox/types.js';

/** What a raw bundle needs. */
export interface RawSpecOptions {
  hostname: string;
  args: string[];
  cgroupsPath: string;
  limits?: Limits;
  rootPath?: string;
}

/** A plain runc spec running `o.args` directly (no init, no launcher). */
export function rawSpec(o: RawSpecOptions): OciSpec {
  const spec = buildSpec({
    hostname: o.hostname,
    cgroupsPath: o.cgroupsPath,
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.rootPath ? { rootPath: o.rootPath } : {}),
    launcher: { init: '/nonexistent', busybox: '/nonexistent', jobDir: '/nonexistent' },
  });
  spec.process.args = [...o.args];
  spec.mounts = (spec.mounts as { destination: string }[]).filter((m) => !m.destination.startsWith('/.stasis'));
  return spec;
}
