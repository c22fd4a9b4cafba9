/**
 * How a job's process starts, the same way in every sandbox (prepared or not, any rootfs, with or
 * without a shell): the container's process is fixed as
 *
 *   /.stasis/init -g -- /.stasis/busybox sh /.stasis/job/run
 *
 * where /.stasis/init (tini-static) and /.stasis/busybox (busybox-static) are host binaries and
 * /.stasis/job is a node-owned directory, all bind-mounted READ-ONLY. The node writes the job's
 * launch script into that directory (never into the sandbox's rootfs: the node does not resolve
 * paths inside trees a job can write). tini is pid 1: it forwards signals to the job's process group,
 * reaps zombies and exits with the job's status (128+n for a signal). The script checks the working
 * directory and the program as execvp would, reports a start failure on stderr with exit status
 * 127 (not found) or 126 (not executable), sets the job's environment and `exec`s its argv.
 *
 * Where the node built native/start.c, that one program replaces this chain as pid 1 (starter.ts);
 * busybox stays mounted for exec processes, which run their launch scripts as above.
 */
import fs from '../os/local-fs.js';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** Paths inside the container. */
export const LAUNCHER_PATHS = {
  init: '/.stasis/init',
  /** The native start (starter.ts), where the node has it, instead of init. */
  start: '/.stasis/start',
  busybox: '/.stasis/busybox',
  jobDir: '/.stasis/job',
  script: '/.stasis/job/run',
} as const;

/** The argv every task's container is created with. */
export const LAUNCHER_ARGS: readonly string[] = [LAUNCHER_PATHS.init, '-g', '--', LAUNCHER_PATHS.busybox, 'sh', LAUNCHER_PATHS.script];

/** PATH given to a job whose env does not set one. */
export const DEFAULT_PATH_VALUE = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The prefix of the one stderr line the launch script writes when the job cannot start. */
export const START_FAILURE_PREFIX = 'stasis: cannot start: ';

/** An OCI mount entry. */
export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** Host sources of the launcher's mounts. */
export interface LauncherSources {
  /** The static init binary on the host. */
  init: string;
  /** The static busybox binary on the host. */
  busybox: string;
  /** The task's node-owned job directory (holds `run`, or `spec` for the native start). */
  jobDir: string;
  /** The native start (native/build/stasis-start): pid 1 instead of init and the script (starter.ts). */
  starter?: string;
}

/** The read-only bind mounts that bring the launcher into a container. */
export function launcherMounts(s: LauncherSources): OciMount[] {
  const ro = ['bind', 'ro', 'nosuid', 'nodev'];
  return [
    { destination: s.starter ? LAUNCHER_PATHS.start : LAUNCHER_PATHS.init, type: 'bind', source: s.starter ?? s.init, options: [...ro] },
    { destination: LAUNCHER_PATHS.busybox, type: 'bind', source: s.busybox, options: [...ro] },
    { destination: LAUNCHER_PATHS.jobDir, type: 'bind', source: s.jobDir, options: [...ro, 'noexec'] },
  ];
}

/** What the launch script starts. */
export interface LaunchProcess {
  args: string[];
  /** `KEY=VALUE` entries (validated by the job schema / spec: no NUL, key syntax). */
  env?: string[];
  cwd?: string;
  /** A terminal job gets TERM=xterm unless its env sets TERM. */
  terminal?: boolean;
  /** RLIMIT_CPU (seconds) of the job's processes: a backstop of limits.cpuTime. */
  cpuSeconds?: number;
}

/** Quotes one word for a POSIX shell (single quotes; ' becomes '\''). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The job's environment: its own entries, plus PATH (and TERM for a terminal) when it sets none. */
export function jobEnv(p: LaunchProcess): string[] {
  const env = [...(p.env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(`PATH=${DEFAULT_PATH_VALUE}`);
  if (p.terminal && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  return env;
}

/**
 * The launch script of a process. It runs under busybox' ash with runc's environment (PATH, HOME),
 * keeps HOME unless the job sets one, and replaces itself with the job's program (`exec`), so the
 * job is the init's only child and sees exactly its own environment.
 */
export function launchScript(p: LaunchProcess): string {
  const env = jobEnv(p);
  const pathValue = [...env].reverse().find((e) => e.startsWith('PATH='))!.slice('PATH='.length);
  const prog = p.args[0]!;
  const cwd = p.cwd ?? '/';
  const q = shellQuote;
  const lines = [
    '# written by stasis: the job, started by the container init (tini) through busybox sh',
    `fail() { printf '${START_FAILURE_PREFIX}%s\\n' "$2" >&2; exit "$1"; }`,
    `[ -d ${q(cwd)} ] || fail 127 ${q(`working directory ${cwd}: no such directory`)}`,
    `cd -- ${q(cwd)} || fail 126 ${q(`working directory ${cwd}: permission denied`)}`,
  ];
  if (prog.includes('/')) {
    lines.push(`[ -e ${q(prog)} ] || fail 127 ${q(`${prog}: no such file or directory`)}`);
    lines.push(`[ -f ${q(prog)} ] && [ -x ${q(prog)} ] || fail 126 ${q(`${prog}: permission denied`)}`);
  } else {
    const dirs = pathValue.split(':').map((d) => (d === '' ? '.' : d));
    lines.push('found= seen=');
    lines.push(`for d in ${dirs.map(q).join(' ')}; do`);
    lines.push(`  if [ -f "$d"/${q(prog)} ] && [ -x "$d"/${q(prog)} ]; then found=1; break; fi`);
    lines.push(`  [ -e "$d"/${q(prog)} ] && seen=1`);
    lines.push('done');
    lines.push(`[ -n "$found" ] || { [ -n "$seen" ] && fail 126 ${q(`${prog}: permission denied`)}; fail 127 ${q(`${prog}: command not found`)}; }`);
  }
  if (p.cpuSeconds !== undefined) lines.push(`ulimit -t ${Math.max(1, Math.ceil(p.cpuSeconds) + 1)}`);
  lines.push('unset OLDPWD PWD SHLVL');
  for (const e of env) {
    const eq = e.indexOf('=');
    lines.push(`export ${e.slice(0, eq)}=${q(e.slice(eq + 1))}`);
  }
  lines.push(`exec ${p.args.map(q).join(' ')}`);
  return lines.join('\n') + '\n';
}

/**
 * Writes the launch script into a task's node-owned job directory: a temporary file in that
 * directory, owned by the job's (mapped) user and readable only by it, renamed over `run`. The
 * directory is the node's, under the state dir: no path a job can write is resolved here.
 */
export async function writeLaunchScript(jobDir: string, script: string, owner: { uid: number; gid: number }): Promise<void> {
  await writeJobFile(jobDir, 'run', script, owner);
}

/** Writes `name` into a task's job directory as writeLaunchScript does (the native start's spec, the script). */
export async function writeJobFile(jobDir: string, name: string, data: string | Uint8Array, owner: { uid: number; gid: number }): Promise<void> {
  const tmp = path.join(jobDir, `.${name}-${randomBytes(6).toString('hex')}`);
  const fh = await fs.open(tmp, 'wx', 0o400);
  try {
    await fh.writeFile(data);
    await fh.chown(owner.uid, owner.gid);
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, path.join(jobDir, name));
}

/** Creates a task's job directory (node-owned, traversable, not listable by other host users). */
export async function makeJobDir(jobDir: string): Promise<void> {
  await fs.mkdir(jobDir, { recursive: true, mode: 0o711 });
  await fs.chmod(jobDir, 0o711);
}
