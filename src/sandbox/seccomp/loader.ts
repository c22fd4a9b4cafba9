/**
 * A seccomp profile compiled once per node, loaded by a static loader in each container.
 *
 * runc compiles `linux.seccomp` with libseccomp in every `runc init`: for the default profile ~15 ms
 * of CPU per container start and per exec, a third of a bare `runc run` (docs/bench.md). Instead the
 * node lets runc compile the profile once, in a probe container, reads back the program runc loaded
 * (src/runtime/compiled-seccomp.ts), and gives later containers no `linux.seccomp` but a process that
 * starts with the loader (native/seccomp-load.c):
 *
 *   /.stasis/seccomp /.stasis/seccomp.bpf -- <the process' argv>
 *
 * The loader and the filter are node-owned files bind-mounted read-only; the loader loads the filter
 * (no_new_privs is set, as runc sets it for every task) and execs the argv, so the process and all its
 * descendants run under the same program runc would have loaded. An exec process is wrapped the same
 * way. Any failure of the loader exits 127 without running the argv.
 */
import type { OciMount } from '../launcher.js';

/** Paths inside the container. */
export const SECCOMP_LOADER_PATHS = {
  loader: '/.stasis/seccomp',
  filter: '/.stasis/seccomp.bpf',
} as const;

/** Host files of a compiled profile. */
export interface CompiledSeccomp {
  /** The static loader binary (native/build/stasis-seccomp). */
  loader: string;
  /** The compiled filter: struct sock_filter records, node-owned, read-only. */
  filter: string;
}

/** Largest program the kernel takes (BPF_MAXINSNS), in 8-byte instructions. */
export const MAX_FILTER_INSNS = 4096;

/** `args` run through the loader. */
export function loaderArgs(args: readonly string[]): string[] {
  return [SECCOMP_LOADER_PATHS.loader, SECCOMP_LOADER_PATHS.filter, '--', ...args];
}

/** The read-only bind mounts of the loader and its filter. */
export function loaderMounts(c: CompiledSeccomp): OciMount[] {
  return [
    { destination: SECCOMP_LOADER_PATHS.loader, type: 'bind', source: c.loader, options: ['bind', 'ro', 'nosuid', 'nodev'] },
    { destination: SECCOMP_LOADER_PATHS.filter, type: 'bind', source: c.filter, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] },
  ];
}

/** True when a task's spec has the loader (its exec processes must go through it too). */
export function usesLoader(spec: Record<string, unknown>): boolean {
  return Array.isArray(spec.mounts) && spec.mounts.some((m) => (m as OciMount).destination === SECCOMP_LOADER_PATHS.loader);
}

/**
 * Whether a profile can be compiled once: runc loads it with no filter flags and no notify
 * listener, so the program alone is what it would load. A profile with flags stays runc's to load.
 */
export function compilable(profile: Record<string, unknown>): boolean {
  const flags = profile.flags;
  if (Array.isArray(flags) && flags.length > 0) return false;
  if (profile.listenerPath !== undefined) return false;
  const rules = Array.isArray(profile.syscalls) ? (profile.syscalls as { action?: string }[]) : [];
  return profile.defaultAction !== 'SCMP_ACT_NOTIFY' && !rules.some((r) => r.action === 'SCMP_ACT_NOTIFY');
}

/** Checks a program read back from a probe: whole 8-byte instructions, 1 to BPF_MAXINSNS of them. */
export function validFilter(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes.length % 8 === 0 && bytes.length / 8 <= MAX_FILTER_INSNS;
}
