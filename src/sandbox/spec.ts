/**
 * Builds the OCI runtime spec (config.json) of a task: the launcher as its process (launcher.ts),
 * namespaces (user namespace with the node's mapping unless it is off), limits, seccomp, and the
 * launcher's read-only mounts. The job's own argv/env/cwd are checked here too (validateProcess).
 */
import path from 'node:path';
import { errors } from '../errors.js';
import { cpuQuota } from './limits.js';
import { DEFAULT_PATH_VALUE, LAUNCHER_ARGS, launcherMounts } from './launcher.js';
import { starterArgs } from './starter.js';
import { maskMounts } from './masks.js';
import { loaderArgs, loaderMounts } from './seccomp/loader.js';
import type { Limits, OciSpec, SpecOptions } from './types.js';

/** PATH given to a task whose env does not set one. */
export const DEFAULT_PATH = `PATH=${DEFAULT_PATH_VALUE}`;
/** CFS period (µs) used for CPU limits. */
export const CPU_PERIOD = 100_000;
/** RLIMIT_FSIZE is the disk limit plus this (see buildSpec). */
export const FSIZE_MARGIN = 1024 * 1024;
/** RLIMIT_NOFILE when limits.openFiles is not set. */
export const DEFAULT_OPEN_FILES = 1024;

/** Docker's default capability set minus CAP_NET_RAW. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Paths hidden from the task (as docker and `runc spec` do; those of `SpecOptions.masks` by a read-only bind instead, src/sandbox/masks.ts). */
export const MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Paths the task may read but not write. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const MOUNTS = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  {
    destination: '/dev/pts',
    type: 'devpts',
    source: 'devpts',
    options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
  },
  { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
];

/** Device cgroup rules: deny all, then allow the usual character devices (runc adds the nodes). */
const DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts/*
];

const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*=/;
const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function invalid(field: string, expected: string, got: unknown): never {
  throw errors.invalidArgument(`Expected \`${field}\` to be ${expected}, got \`${JSON.stringify(got)}\``, { field });
}

function positiveInt(v: number | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v <= 0) invalid(field, 'a positive integer', v);
  return v;
}

function idNumber(v: number, field: string): number {
  if (!Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) invalid(field, 'a uid/gid (integer >= 0)', v);
  return v;
}

/** The job's process as the launch script takes it. */
export interface ProcessOptions {
  args: string[];
  env?: string[];
  cwd?: string;
}

/** Validates a job's argv, env and cwd; throws ERR_INVALID_ARGUMENT naming the first bad field. */
export function validateProcess(o: ProcessOptions): void {
  if (!Array.isArray(o.args) || o.args.length === 0) invalid('process.args', 'a non-empty list of strings', o.args);
  o.args.forEach((a, i) => (typeof a === 'string' && !a.includes('\0')) || invalid(`process.args[${i}]`, 'a string without NUL bytes', a));
  if (o.args[0] === '') invalid('process.args[0]', 'a non-empty program name', o.args[0]);
  (o.env ?? []).forEach((e, i) => (typeof e === 'string' && ENV_RE.test(e) && !e.includes('\0')) || invalid(`process.env[${i}]`, 'KEY=VALUE', e));
  if (o.cwd !== undefined && (typeof o.cwd !== 'string' || !path.isAbsolute(o.cwd) || o.cwd.includes('\0') || o.cwd.length >= 4096)) {
    invalid('process.cwd', 'an absolute path', o.cwd);
  }
}

/** Validates SpecOptions; throws ERR_INVALID_ARGUMENT naming the first bad field. */
export function validateSpecOptions(o: SpecOptions): void {
  if (typeof o.hostname !== 'string' || !HOSTNAME_RE.test(o.hostname)) invalid('hostname', 'a valid hostname', o.hostname);
  if (typeof o.cgroupsPath !== 'string' || !o.cgroupsPath.startsWith('/')) {
    invalid('cgroupsPath', 'an absolute cgroup path like `/stasis/default/job-1`', o.cgroupsPath);
  }
  if (o.network !== undefined && o.network !== 'none' && o.network !== 'host') {
    invalid('network', "'none' or 'host'", o.network);
  }
  if (o.user) {
    idNumber(o.user.uid, 'process.user.uid');
    idNumber(o.user.gid, 'process.user.gid');
    (o.user.additionalGids ?? []).forEach((g, i) => idNumber(g, `process.user.additionalGids[${i}]`));
    if (o.userns) {
      const max = o.userns.size - 1;
      if (o.user.uid > max) invalid('process.user.uid', `at most ${max} (the node's user namespace maps ids 0-${max})`, o.user.uid);
      if (o.user.gid > max) invalid('process.user.gid', `at most ${max} (the node's user namespace maps ids 0-${max})`, o.user.gid);
    }
  }
  if (o.consoleSize) {
    positiveInt(o.consoleSize.width, 'process.consoleSize.width');
    positiveInt(o.consoleSize.height, 'process.consoleSize.height');
  }
  const l = o.limits ?? {};
  positiveInt(l.memoryBytes, 'limits.memory');
  positiveInt(l.pids, 'limits.pids');
  positiveInt(l.openFiles, 'limits.openFiles');
  positiveInt(l.diskBytes, 'limits.disk');
  if (l.cpus !== undefined && (!Number.isFinite(l.cpus) || l.cpus <= 0 || l.cpus > 1024)) {
    invalid('limits.cpus', 'a number of CPUs above 0 and at most 1024', l.cpus);
  }
  if (o.rootPath !== undefined && (typeof o.rootPath !== 'string' || o.rootPath === '')) {
    invalid('rootPath', 'a path', o.rootPath);
  }
}

/** linux.resources from limits (memory + swap equal: no swap; CFS quota/period; pids). */
export function buildResources(l: Limits): Record<string, unknown> {
  const r: Record<string, unknown> = { devices: DEVICE_RULES.map((d) => ({ ...d })) };
  if (l.memoryBytes !== undefined) r.memory = { limit: l.memoryBytes, swap: l.memoryBytes };
  if (l.cpus !== undefined) r.cpu = { quota: cpuQuota(l.cpus, CPU_PERIOD), period: CPU_PERIOD };
  if (l.pids !== undefined) r.pids = { limit: l.pids };
  return r;
}

/** The container's own uid/gid maps (runc 1.1 takes one range each). */
function idMappings(m: { hostId: number; size: number }): Record<string, unknown> {
  const one = [{ containerID: 0, hostID: m.hostId, size: m.size }];
  return { uidMappings: one, gidMappings: one.map((x) => ({ ...x })) };
}

/** Builds a complete OCI runtime spec for runc 1.1.5 (cgroup v1). Validates `o` first. */
export function buildSpec(o: SpecOptions): OciSpec {
  validateSpecOptions(o);
  const limits = o.limits ?? {};
  const network = o.network ?? 'none';
  const caps = [...DEFAULT_CAPABILITIES];
  const openFiles = limits.openFiles ?? DEFAULT_OPEN_FILES;
  const user = o.user ?? { uid: 0, gid: 0 };
  const loader = o.seccomp ? o.seccompLoader : undefined;
  const rlimits: Record<string, unknown>[] = [{ type: 'RLIMIT_NOFILE', hard: openFiles, soft: openFiles }];
  // A file larger than the whole writable layer is refused (EFBIG) a little past it, so a full layer
  // answers ENOSPC first, as a full disk does.
  if (limits.diskBytes !== undefined) rlimits.push({ type: 'RLIMIT_FSIZE', hard: limits.diskBytes + FSIZE_MARGIN, soft: limits.diskBytes + FSIZE_MARGIN });
  const process: OciSpec['process'] = {
    terminal: o.terminal ?? false,
    user: {
      uid: user.uid,
      gid: user.gid,
      ...(user.additionalGids?.length ? { additionalGids: [...user.additionalGids] } : {}),
    },
    // A compiled profile is loaded by the native start, or by the loader in front of the launcher;
    // otherwise runc loads it.
    args: o.launcher.starter ? starterArgs(!!loader) : loader ? loaderArgs(LAUNCHER_ARGS) : [...LAUNCHER_ARGS],
    env: [DEFAULT_PATH],
    cwd: '/',
    capabilities: { bounding: caps, effective: [...caps], permitted: [...caps] },
    rlimits,
    noNewPrivileges: true,
  };
  if (o.terminal && o.consoleSize) {
    process.consoleSize = { height: o.consoleSize.height, width: o.consoleSize.width };
  }
  const namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }];
  if (network !== 'host') namespaces.splice(1, 0, { type: 'network' });
  if (o.userns) namespaces.push({ type: 'user' });
  return {
    ociVersion: '1.0.2-dev',
    process,
    root: { path: o.rootPath ?? 'rootfs', readonly: false },
    hostname: o.hostname,
    mounts: [
      ...MOUNTS.map((m) => ({ ...m, options: [...m.options] })),
      ...(o.masks ? maskMounts(o.masks.emptyDir, o.masks.paths) : []),
      ...launcherMounts(o.launcher),
      ...(loader ? loaderMounts(loader) : []),
    ],
    linux: {
      cgroupsPath: o.cgroupsPath,
      resources: buildResources(limits),
      namespaces,
      ...(o.userns ? idMappings(o.userns) : {}),
      ...(o.seccomp && !loader ? { seccomp: o.seccomp } : {}),
      maskedPaths: MASKED_PATHS.filter((m) => !o.masks?.paths.includes(m)),
      readonlyPaths: [...READONLY_PATHS],
    },
    annotations: { ...(o.annotations ?? {}) },
  };
}
