/**
 * Host requirement checks behind `stasis doctor`. Every check reads the host through a HostProbe,
 * so the decisions (what is ok, what is missing, what to do about it) are pure and unit-tested.
 */
import { parseCgroupMounts, versionLine } from './parse.js';

/** Outcome of one check: ok, missing (required and absent), or warn (optional and absent). */
export type CheckStatus = 'ok' | 'missing' | 'warn';

/** One line of `stasis doctor`. */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** Whether a failure makes doctor exit non-zero. */
  required: boolean;
  /** What was found (a version, a path) or what is wrong. */
  detail: string;
  /** Exactly what to do when it is not ok. */
  fix?: string;
}

/** Result of running a program. `found` is false when it could not be executed at all. */
export interface RunResult {
  found: boolean;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** How checks look at the host (real: probe.ts; tests: a fake). */
export interface HostProbe {
  run(file: string, args: string[]): Promise<RunResult>;
  /** File contents, or null when unreadable. */
  readFile(path: string): Promise<string | null>;
  exists(path: string): Promise<boolean>;
  /** Absolute path of a program found in PATH or the sbin directories, or null. */
  which(name: string): Promise<string | null>;
  uid(): number;
}

/** The binaries the runtime is configured to use. */
export interface HostBinaries {
  runc: string;
  conmon: string;
  criu: string;
  busybox: string;
  /** The static init of every task (tini-static). */
  init: string;
  /** The user-namespace setting (STASIS_USERNS / --userns): 'host' turns them off. */
  userns: string;
  /** Whether the mount addon (native/mount.c) is built, turned off, or missing. */
  mountAddon: 'built' | 'off' | 'missing';
  /** Whether conmon runs runc from a sealed copy (native/sealed-copy.c): built, turned off, or missing. */
  sealedRunc: 'built' | 'off' | 'missing';
  /** Whether the node spawns by posix_spawn (native/spawn.c): built, turned off, or missing. */
  nativeSpawn: 'built' | 'off' | 'missing';
  /** Whether the seccomp loader (native/seccomp-load.c, seccomp-dump.c) is built, turned off, or missing. */
  seccompLoader: 'built' | 'off' | 'missing';
  /** Whether the native start (native/start.c) is built, turned off, or missing. */
  nativeStart: 'built' | 'off' | 'missing';
}

const SETUP = 'run: npm run setup';

function result(name: string, ok: boolean, required: boolean, detail: string, fix: string): CheckResult {
  if (ok) return { name, status: 'ok', required, detail };
  return { name, status: required ? 'missing' : 'warn', required, detail, fix };
}

/** Checks a program that answers `--version` (runc, conmon, redis-server, …). */
export async function checkVersioned(
  probe: HostProbe,
  o: { name: string; path: string; pkg: string; envVar?: string; required?: boolean; versionArgs?: string[] },
): Promise<CheckResult> {
  const required = o.required ?? true;
  const pathHint = o.envVar ? ` (or set ${o.envVar} to its path)` : '';
  const fix = `install package ${o.pkg} (${SETUP})${pathHint}`;
  const r = await probe.run(o.path, o.versionArgs ?? ['--version']);
  if (!r.found) return result(o.name, false, required, `not found at ${o.path}`, fix);
  if (r.exitCode !== 0) return result(o.name, false, required, `${o.path} --version exited ${r.exitCode}: ${lastLine(r)}`, fix);
  return result(o.name, true, required, `${versionLine(r.stdout || r.stderr)} (${o.path})`, fix);
}

/** Checks CRIU: `criu check` must say "Looks good". */
export async function checkCriu(probe: HostProbe, criu: string): Promise<CheckResult> {
  const fix = `${SETUP} (installs a CRIU 4.x as /usr/local/bin/stasis-criu), or set STASIS_CRIU to a criu that passes 'criu check'`;
  const r = await probe.run(criu, ['check']);
  if (!r.found) return result('criu', false, true, `not found at ${criu}`, fix);
  const text = `${r.stdout}\n${r.stderr}`;
  if (r.exitCode !== 0 || !/Looks good/i.test(text)) {
    return result('criu', false, true, `${criu} check failed (exit ${r.exitCode}): ${lastLine(r)}`, fix);
  }
  const v = await probe.run(criu, ['--version']);
  const version = v.found && v.exitCode === 0 ? versionLine(v.stdout) : 'version unknown';
  return result('criu', true, true, `${version}, criu check: Looks good (${criu})`, fix);
}

/** Checks that a program is on PATH (iptables-restore, umoci, …). */
export async function checkOnPath(
  probe: HostProbe,
  o: { name: string; program: string; pkg: string; why?: string; required?: boolean },
): Promise<CheckResult> {
  const p = await probe.which(o.program);
  const why = o.why ? `; ${o.why}` : '';
  return result(o.name, p !== null, o.required ?? true, p ?? `${o.program} not found in PATH`, `install package ${o.pkg} (${SETUP})${why}`);
}

/** Checks an optional program on PATH that answers `--version` (umoci, skopeo); a missing one is a warning. */
export async function checkVersionedOnPath(probe: HostProbe, o: { name: string; program: string; pkg: string; why: string }): Promise<CheckResult> {
  const p = await probe.which(o.program);
  if (p === null) return result(o.name, false, false, `${o.program} not found in PATH`, `install package ${o.pkg} (${SETUP}); ${o.why}`);
  return checkVersioned(probe, { name: o.name, path: p, pkg: o.pkg, required: false });
}

/** Checks a file exists (busybox). */
export async function checkFile(probe: HostProbe, o: { name: string; path: string; pkg: string }): Promise<CheckResult> {
  const ok = await probe.exists(o.path);
  return result(o.name, ok, true, ok ? o.path : `not found at ${o.path}`, `install package ${o.pkg} (${SETUP})`);
}

/** The cgroup controllers the runtime needs (freezer is built into cgroup v2). */
export const CGROUP_V1_CONTROLLERS = ['memory', 'cpu', 'pids', 'freezer'] as const;
const CGROUP_V2_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;

/** Checks the cgroup controllers are mounted: v1 (or hybrid) under /sys/fs/cgroup, or unified v2. */
export async function checkCgroups(probe: HostProbe): Promise<CheckResult> {
  const mountinfo = (await probe.readFile('/proc/self/mountinfo')) ?? '';
  const m = parseCgroupMounts(mountinfo);
  if (m.v1.size > 0) {
    const missing = CGROUP_V1_CONTROLLERS.filter((c) => !m.v1.has(c));
    const mode = m.v2Path ? 'cgroup v1 (hybrid)' : 'cgroup v1';
    return result(
      'cgroups',
      missing.length === 0,
      true,
      missing.length === 0 ? `${mode}: ${CGROUP_V1_CONTROLLERS.join(', ')}` : `${mode}: controller(s) not mounted: ${missing.join(', ')}`,
      `mount them, e.g. mkdir -p /sys/fs/cgroup/${missing[0] ?? 'memory'} && mount -t cgroup -o ${missing[0] ?? 'memory'} cgroup /sys/fs/cgroup/${missing[0] ?? 'memory'}` +
        (missing.includes('memory') ? ' (memory may need cgroup_enable=memory on the kernel command line)' : ''),
    );
  }
  if (m.v2Path) {
    const ctl = ((await probe.readFile(`${m.v2Path}/cgroup.controllers`)) ?? '').trim().split(/\s+/).filter(Boolean);
    const missing = CGROUP_V2_CONTROLLERS.filter((c) => !ctl.includes(c));
    return result(
      'cgroups',
      missing.length === 0,
      true,
      missing.length === 0 ? `cgroup v2 at ${m.v2Path}: ${ctl.join(', ')}` : `cgroup v2 at ${m.v2Path}: controller(s) missing: ${missing.join(', ')}`,
      `enable them: echo '${missing.map((c) => `+${c}`).join(' ')}' > ${m.v2Path}/cgroup.subtree_control (or boot with them enabled)`,
    );
  }
  return result('cgroups', false, true, 'no cgroup filesystem mounted', 'mount cgroups under /sys/fs/cgroup (a systemd host does this at boot)');
}

/** Checks overlayfs is available (/proc/filesystems lists `overlay`). */
export async function checkOverlay(probe: HostProbe): Promise<CheckResult> {
  const fs = (await probe.readFile('/proc/filesystems')) ?? '';
  const ok = fs.split('\n').some((l) => l.trim().split(/\s+/).pop() === 'overlay');
  return result('overlayfs', ok, true, ok ? 'overlay in /proc/filesystems' : 'overlay not in /proc/filesystems', 'run: modprobe overlay');
}

/** Checks the CLI runs as root (runc, conmon and CRIU need it). */
export function checkRoot(probe: HostProbe): CheckResult {
  const uid = probe.uid();
  return result('root', uid === 0, true, uid === 0 ? 'running as root' : `running as uid ${uid}`, 'run stasis as root (e.g. sudo stasis …)');
}

/** Checks user namespaces: the kernel allows them, and the node does not turn them off. */
export async function checkUserns(probe: HostProbe, setting: string): Promise<CheckResult> {
  const max = Number(((await probe.readFile('/proc/sys/user/max_user_namespaces')) ?? '0').trim());
  if (!(max > 0)) return result('user namespaces', false, true, 'the kernel allows none (user.max_user_namespaces = 0)', 'sysctl -w user.max_user_namespaces=15000');
  if (setting === 'host') {
    return result('user namespaces', false, false, 'OFF (--userns host): a container\'s root is the host\'s root', 'remove --userns host / STASIS_USERNS=host unless the jobs are trusted');
  }
  return result('user namespaces', true, true, `on (${setting || 'private'}; the kernel allows ${max})`, '');
}

/** Whether an optional addon is built, turned off by its variable, or missing. */
type AddonState = HostBinaries['mountAddon'];

/** An optional addon's check: ok when built; a warning with the fix when turned off or not built. */
function addonCheck(name: string, state: AddonState, envVar: string, detail: Record<AddonState, string>): CheckResult {
  const fix = state === 'off' ? `unset ${envVar}` : "npm run build (it needs a C compiler and node's headers: gcc, libc6-dev)";
  return result(name, state === 'built', false, detail[state], fix);
}

/** Checks the mount addon: without it every mount and unmount forks busybox (optional, slower). */
export function checkMountAddon(state: AddonState): CheckResult {
  return addonCheck('mount addon', state, 'STASIS_NATIVE_MOUNT', {
    built: 'mount(2) and umount2(2) in-process (native/build/stasis_mount.node)',
    off: 'off (STASIS_NATIVE_MOUNT=0): every mount forks busybox',
    missing: 'not built: every mount forks busybox (~10 ms of CPU each, three a task)',
  });
}

/** Checks the sealed runc copy: without it every `runc init` re-executes from a fresh protected copy (optional, slower). */
export function checkSealedRunc(state: AddonState): CheckResult {
  return addonCheck('sealed runc', state, 'STASIS_SEALED_RUNC', {
    built: 'conmon runs runc from one sealed in-memory copy (native/build/stasis_sealed.node)',
    off: 'off (STASIS_SEALED_RUNC=0): every container start re-executes runc from a fresh protected copy',
    missing: 'not built: every container start re-executes runc from a fresh protected copy (~5 ms of CPU)',
  });
}

/** Checks the spawn addon: without it every conmon and runc is started by forking a Node process (optional, slower). */
export function checkNativeSpawn(state: AddonState): CheckResult {
  return addonCheck('native spawn', state, 'STASIS_NATIVE_SPAWN', {
    built: 'conmon and runc started by posix_spawn (native/build/stasis_spawn.node)',
    off: 'off (STASIS_NATIVE_SPAWN=0): every conmon and runc is started by forking a Node process',
    missing: 'not built: every conmon and runc is started by forking a Node process (~5 ms longer each)',
  });
}

/** Checks the seccomp loader: without it runc compiles the profile at every container start and exec (optional, slower). */
export function checkSeccompLoader(state: AddonState): CheckResult {
  return addonCheck('seccomp loader', state, 'STASIS_COMPILED_SECCOMP', {
    built: 'the profile compiled once per node, loaded by /.stasis/seccomp (native/build/stasis-seccomp; with a user namespace)',
    off: 'off (STASIS_COMPILED_SECCOMP=0): runc compiles the seccomp profile at every container start and exec',
    missing: 'not built: runc compiles the seccomp profile at every container start and exec (~12-17 ms of CPU)',
  });
}

/** Checks the native start: without it every task starts through tini and busybox sh (optional, slower). */
export function checkNativeStart(state: AddonState): CheckResult {
  return addonCheck('native start', state, 'STASIS_NATIVE_START', {
    built: "every task's pid 1 is /.stasis/start (native/build/stasis-start), no tini or busybox sh in front of the job",
    off: 'off (STASIS_NATIVE_START=0): every task starts through tini and busybox sh',
    missing: 'not built: every task starts through tini and busybox sh (two more execs, ~2-3 ms of CPU a task)',
  });
}

/** Runs every host check, in the order doctor prints them. */
export async function runHostChecks(probe: HostProbe, bin: HostBinaries): Promise<CheckResult[]> {
  return [
    checkRoot(probe),
    await checkVersioned(probe, { name: 'runc', path: bin.runc, pkg: 'runc', envVar: 'STASIS_RUNC' }),
    await checkVersioned(probe, { name: 'conmon', path: bin.conmon, pkg: 'conmon', envVar: 'STASIS_CONMON' }),
    await checkCriu(probe, bin.criu),
    await checkOnPath(probe, {
      name: 'iptables-restore',
      program: 'iptables-restore',
      pkg: 'iptables',
      why: 'CRIU runs it to lock the network during a checkpoint',
    }),
    await checkCgroups(probe),
    await checkOverlay(probe),
    await checkOnPath(probe, { name: 'redis-server', program: 'redis-server', pkg: 'redis-server', why: 'the job queue needs it' }),
    await checkFile(probe, { name: 'busybox', path: bin.busybox, pkg: 'busybox-static' }),
    await checkVersioned(probe, { name: 'init', path: bin.init, pkg: 'tini', envVar: 'STASIS_INIT' }),
    await checkUserns(probe, bin.userns),
    checkMountAddon(bin.mountAddon),
    checkSealedRunc(bin.sealedRunc),
    checkNativeSpawn(bin.nativeSpawn),
    checkSeccompLoader(bin.seccompLoader),
    checkNativeStart(bin.nativeStart),
    await checkVersionedOnPath(probe, { name: 'umoci', program: 'umoci', pkg: 'umoci', why: 'the image store unpacks images with it' }),
    await checkVersionedOnPath(probe, { name: 'skopeo', program: 'skopeo', pkg: 'skopeo', why: 'the image store pulls images with it' }),
  ];
}

/** True when no required check failed. */
export function hostReady(results: CheckResult[]): boolean {
  return results.every((r) => r.status !== 'missing');
}

function lastLine(r: RunResult): string {
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? 'no output';
}
