/**
 * The native start (native/start.c), where the node built it: one static program as a task's pid 1
 * instead of the launcher's chain (seccomp loader → tini → busybox sh → the job, launcher.ts):
 *
 *   /.stasis/start [--seccomp /.stasis/seccomp.bpf] /.stasis/job/spec
 *
 * It loads the compiled filter, forks the job as `tini -g` does (its own process group, signals
 * forwarded, children reaped, the job's status as its own), and in the child makes the launch
 * script's checks and execs the job's argv with the job's environment. /.stasis/start is the
 * node's build output, bind-mounted read-only; the spec is a node-owned file in the task's job
 * directory (never written into the rootfs). A node without it (no C compiler) keeps the chain.
 */
import { jobEnv, LAUNCHER_PATHS, type LaunchProcess } from './launcher.js';
import { SECCOMP_LOADER_PATHS } from './seccomp/loader.js';

/** Paths inside the container. */
export const STARTER_PATHS = {
  program: LAUNCHER_PATHS.start,
  spec: '/.stasis/job/spec',
} as const;

/** The first field of every spec (its format's version). */
const MAGIC = 'stasis-start 1';

/** The container process' argv: with `--seccomp` when the task's filter is the node's compiled one. */
export function starterArgs(compiledFilter: boolean): string[] {
  return [STARTER_PATHS.program, ...(compiledFilter ? ['--seccomp', SECCOMP_LOADER_PATHS.filter] : []), STARTER_PATHS.spec];
}

/** True when a task's spec starts with the native start (its restore needs the program again). */
export function usesStarter(spec: { process?: { args?: string[] } }): boolean {
  return spec.process?.args?.[0] === STARTER_PATHS.program;
}

/**
 * The spec file of `p`: NUL-ended fields, the format's name, the working directory, RLIMIT_CPU in
 * seconds (empty: none; the launch script's `ulimit -t`), the argument count and the arguments, the
 * environment count and its `KEY=VALUE` entries (jobEnv: PATH and TERM added as for the script).
 * Arguments and entries hold no NUL (the job schema and the spec refuse them).
 */
export function starterSpec(p: LaunchProcess): Buffer {
  const env = jobEnv(p);
  const cpu = p.cpuSeconds === undefined ? '' : String(Math.max(1, Math.ceil(p.cpuSeconds) + 1));
  const fields = [MAGIC, p.cwd ?? '/', cpu, String(p.args.length), ...p.args, String(env.length), ...env];
  return Buffer.from(fields.map((f) => `${f}\0`).join(''));
}
