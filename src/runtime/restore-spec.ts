/**
 * The OCI spec of a restored task: the checkpoint's own config.json, with what belongs to the node
 * and the new id rewritten (launcher and masking mounts, cgroup path, seccomp, annotations), and the
 * check that the image was taken under this node's user-namespace mapping.
 */
import { withoutCriuConfig } from './criu-config.js';
import { launcherMounts, type OciMount } from '../sandbox/launcher.js';
import { isMaskMount } from '../sandbox/masks.js';
import { loaderMounts, usesLoader } from '../sandbox/seccomp/loader.js';
import { usesStarter } from '../sandbox/starter.js';
import type { OciSpec } from '../sandbox/types.js';
import { errors } from '../errors.js';
import type { RuntimeContext } from './context.js';
import { cgroupsPathFor } from './ids.js';
import { taskPaths } from './layout.js';

/** Refuses an image taken under another user-namespace mapping (its files and ids would not line up). */
export function checkMapping(ctx: RuntimeContext, spec: OciSpec, from: string): void {
  const linux = (spec.linux ?? {}) as { uidMappings?: { containerID: number; hostID: number; size: number }[] };
  const had = linux.uidMappings?.[0];
  const want = ctx.sandbox.userns;
  const same = had ? !!want && had.hostID === want.hostId && had.size === want.size : !want;
  if (!same) {
    const show = (m: { hostId: number; size: number } | null | undefined) => (m ? `${m.hostId}:${m.size}` : 'none');
    throw errors.checkpoint(`checkpoint ${from} was taken under user namespace mapping ${show(had ? { hostId: had.hostID, size: had.size } : null)}; this node uses ${show(want)}`, {
      path: from,
      incompatible: true,
    });
  }
}

/**
 * The image spec's mounts with the launcher's sources of this node and task, and its masking binds
 * from this node's empty directory. An image with tmpfs masks keeps them (CRIU restores those); a
 * node that cannot bind-mask (no empty directory of its own) refuses an image that needs it.
 */
function relaunchMounts(ctx: RuntimeContext, spec: OciSpec, jobDir: string, from: string): OciMount[] {
  const mounts = ((spec.mounts ?? []) as OciMount[])
    .filter((m) => !m.destination.startsWith('/.stasis/'))
    .map((m) => {
      if (!isMaskMount(m)) return m;
      const emptyDir = ctx.sandbox.masks?.emptyDir;
      if (!emptyDir) {
        throw errors.checkpoint(`checkpoint ${from} masks ${m.destination} with an empty directory, and this node has none (see its state dir's "empty")`, { path: from, incompatible: true });
      }
      return { ...m, source: emptyDir };
    });
  return [...mounts, ...launcherMounts({ init: ctx.sandbox.init, busybox: ctx.sandbox.busybox, jobDir, ...starterMount(ctx, spec, from) }), ...seccompMounts(ctx, spec, from)];
}

/**
 * The native start, from this node, for an image whose pid 1 it is: its restore copy (CRIU opens and
 * maps the program again from /.stasis/start as the task's root and checks its size and mode:
 * native-start.ts; the same build on both nodes). A node without it cannot restore such an image;
 * an image under tini gets tini, whether or not this node has the native start.
 */
function starterMount(ctx: RuntimeContext, spec: OciSpec, from: string): { starter?: string } {
  if (!usesStarter(spec)) return {};
  if (!ctx.sandbox.starter) {
    throw errors.checkpoint(`checkpoint ${from} was taken with the native start as its pid 1 (/.stasis/start), and this node has none (built without a C compiler, or STASIS_NATIVE_START=0)`, { path: from, incompatible: true });
  }
  return { starter: ctx.sandbox.starter.restore };
}

/**
 * The seccomp loader's mounts, from this node, for an image whose task had them (CRIU restores its
 * mount tree, and later exec processes go through the loader). A node without a compiled profile
 * cannot give them.
 */
function seccompMounts(ctx: RuntimeContext, spec: OciSpec, from: string): OciMount[] {
  if (!usesLoader(spec)) return [];
  const loader = ctx.sandbox.seccompLoader;
  if (!loader) {
    throw errors.checkpoint(`checkpoint ${from} was taken with a compiled seccomp filter (/.stasis/seccomp), and this node has none (its seccomp is unconfined or runc's, or it was built without the loader)`, { path: from, incompatible: true });
  }
  return loaderMounts(loader);
}

/** The restored task's OCI spec: the image's, with this node's launcher mounts, masking binds, cgroup path and seccomp. */
export function restoredSpec(ctx: RuntimeContext, imageSpec: OciSpec, namespace: string, id: string, annotations: Record<string, string>, from: string): OciSpec {
  return {
    ...imageSpec,
    root: { ...imageSpec.root, path: 'rootfs' },
    // This node's launcher binaries and this task's job dir (the restored process is past its exec).
    mounts: relaunchMounts(ctx, imageSpec, taskPaths(ctx.paths.tasksDir, namespace, id).jobDir, from),
    linux: {
      ...(imageSpec.linux ?? {}),
      cgroupsPath: cgroupsPathFor(ctx.paths.stateDir, namespace, id),
      // CRIU restores the process' own filters; this one applies to later exec processes (which the
      // loader filters instead when the task has it).
      ...(ctx.sandbox.seccomp && !usesLoader(imageSpec) ? { seccomp: ctx.sandbox.seccomp } : {}),
    },
    // The checkpoint's annotations came from its job: a CRIU configuration file named there is dropped.
    annotations: withoutCriuConfig({ ...(imageSpec.annotations ?? {}), ...annotations }),
  };
}
