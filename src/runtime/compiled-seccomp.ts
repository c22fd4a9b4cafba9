/**
 * Compiles the node's seccomp profile once (src/sandbox/seccomp/loader.ts says why): runc creates a
 * probe container with the profile, and native/seccomp-dump.c reads back the program runc loaded
 * into it (PTRACE_SECCOMP_GET_FILTER), its -ENOSYS stub included. The program is kept in
 * STATE_DIR/seccomp/<key>.bpf, keyed by the profile, runc's and libseccomp's versions (what
 * `runc --version` prints) and the kernel release, so a change of any of them compiles again.
 *
 * runc writes the stub's per-architecture blocks in Go's map order, so two probes may return two
 * orderings of the same program; either is the filter runc would load.
 *
 * The loader tasks get is a node-owned copy, execute-only (0711, host root's): a program no process
 * of the task can read is non-dumpable from its exec on, and its mm belongs to the host's user
 * namespace, so between an exec process' exec of the loader and its seccomp() call no process of
 * the task (already filtered, without CAP_SYS_PTRACE in the host's namespace) can write into it
 * through /proc/<pid>/mem. That holds only where the task's root is not host root: without a user
 * namespace, CAP_DAC_OVERRIDE reads any file, so runc keeps loading the profile there.
 *
 * The native start (native/start.c) loads the filter as pid 1 in the same window, from a copy made
 * the same way (native-start.ts).
 *
 * Without the loader and the dump tool (no C compiler at build time), without a user namespace,
 * with STASIS_COMPILED_SECCOMP=0, for a profile with filter flags, or when the probe fails, tasks
 * keep `linux.seccomp` and runc compiles it at every start.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { RuntimeConfig, RuntimePaths } from '../config/schema.js';
import { nativeFile } from '../os/native-addon.js';
import { globalArgs } from '../runc/args.js';
import { lastErrorLine } from '../runc/runtime-log.js';
import { runcVersionText } from '../runc/version.js';
import { compilable, validFilter, type CompiledSeccomp } from '../sandbox/seccomp/loader.js';
import { buildSpec } from '../sandbox/spec.js';
import { cgroupsPathFor } from './ids.js';
import { withLock } from './lock.js';

const PROBE_TIMEOUT_MS = 30_000;

/** The built loader and dump tool, or null when either is missing (no C compiler at build time). */
function builtPrograms(): { loader: string; dump: string } | null {
  const loader = nativeFile('stasis-seccomp');
  const dump = nativeFile('stasis-seccomp-dump');
  return loader && dump ? { loader, dump } : null;
}

/** Whether the loader and the dump tool are built ('built'), turned off by STASIS_COMPILED_SECCOMP=0, or 'missing'. */
export function seccompLoaderState(env: NodeJS.ProcessEnv = process.env): 'built' | 'off' | 'missing' {
  if (env.STASIS_COMPILED_SECCOMP === '0') return 'off';
  return builtPrograms() ? 'built' : 'missing';
}

/** Where a node keeps its compiled filters. */
export function compiledSeccompDir(stateDir: string): string {
  return path.join(stateDir, 'seccomp');
}

/** The lock under which `filter` is made (and probes are swept). */
export function filterLock(filter: string): string {
  return `${filter}.lock`;
}

/** Where probe containers keep their bundles, under the run dir. */
export function probeBundlesDir(runDir: string): string {
  return path.join(runDir, 'seccomp-probe');
}

/** The runc container id prefix of probes. */
export const PROBE_PREFIX = 'seccomp-probe-';

/** The filter file of `profile` under this runc and kernel, or null when runc's version cannot be read. */
async function filterFile(config: RuntimeConfig, stateDir: string, profile: Record<string, unknown>): Promise<string | null> {
  const version = await runcVersionText(config.runc);
  if (version === null) return null;
  const key = createHash('sha256').update(JSON.stringify(profile)).update('\0').update(version).update('\0').update(os.release()).digest('hex').slice(0, 32);
  return path.join(compiledSeccompDir(stateDir), `${key}.bpf`);
}

async function readValid(file: string): Promise<boolean> {
  const bytes = await fs.readFile(file).catch(() => null); // not compiled yet: the caller makes it
  return bytes !== null && validFilter(bytes);
}

/**
 * The compiled form of `profile` on this node (made once, under a lock, when missing), or undefined
 * when runc must keep loading it (see the file's comment). Never throws: a failed probe is reported
 * on stderr once and the node goes on with runc's own seccomp.
 */
export async function compiledSeccomp(config: RuntimeConfig, paths: RuntimePaths, profile: Record<string, unknown>): Promise<CompiledSeccomp | undefined> {
  if (process.env.STASIS_COMPILED_SECCOMP === '0' || !compilable(profile) || !config.userns) return undefined;
  const programs = builtPrograms();
  if (!programs) return undefined;
  const { loader: built, dump } = programs;
  try {
    const file = await filterFile(config, paths.stateDir, profile);
    if (file === null) return undefined;
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o711 });
    await fs.chmod(path.dirname(file), 0o711);
    const loader = await installExecOnly(built, path.dirname(file), 'loader');
    if (await readValid(file)) return { loader, filter: file };
    await withLock(filterLock(file), async () => {
      if (await readValid(file)) return;
      const program = await probeFilter(config, paths, profile, dump);
      const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
      await fs.writeFile(tmp, program, { mode: 0o444 });
      await fs.rename(tmp, file);
    });
    return { loader, filter: file };
  } catch (e) {
    warnOnce(`stasis: compiling the seccomp profile once failed, runc compiles it at every start: ${(e as Error).message}\n`);
    return undefined;
  }
}

/**
 * A node-owned, execute-only (0711) copy of a built program (the loader, the native start's copies:
 * native-start.ts), in `dir`, named `<name>-<digest>`, owned by `owner` (host root unless said),
 * made once.
 */
export async function installExecOnly(built: string, dir: string, name: string, owner = { uid: 0, gid: 0 }): Promise<string> {
  const bytes = await fs.readFile(built);
  const copy = path.join(dir, `${name}-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`);
  const st = await fs.lstat(copy).catch(() => null); // no copy yet: made below
  if (st?.isFile() && st.uid === owner.uid && st.gid === owner.gid && (st.mode & 0o7777) === 0o711 && st.size === bytes.length) return copy;
  const tmp = `${copy}.tmp-${randomBytes(6).toString('hex')}`;
  await fs.writeFile(tmp, bytes, { mode: 0o700 });
  await fs.chown(tmp, owner.uid, owner.gid);
  await fs.chmod(tmp, 0o711);
  await fs.rename(tmp, copy);
  return copy;
}

let warned = false;
function warnOnce(text: string): void {
  if (warned) return;
  warned = true;
  process.stderr.write(text);
}

/** A created probe container: runc has loaded the profile's filter into its waiting `runc init`. */
export interface Probe {
  id: string;
  bundle: string;
  /** The host pid of its `runc init`. */
  pid: number;
  /** Force-deletes the container and removes its bundle. Never throws. */
  remove(): Promise<void>;
}

/** Creates a probe container with `profile` (its filter loaded, its process never started). */
export async function createProbe(config: RuntimeConfig, paths: RuntimePaths, profile: Record<string, unknown>): Promise<Probe> {
  const id = `${PROBE_PREFIX}${randomBytes(6).toString('hex')}`;
  const bundle = path.join(probeBundlesDir(paths.runDir), id);
  const rootfs = path.join(bundle, 'rootfs');
  const jobDir = path.join(bundle, 'job');
  const log = path.join(bundle, 'runc.log');
  const runc = (...a: string[]) => [...globalArgs({ root: paths.runcRoot }), '--log', log, ...a];
  const remove = async () => {
    await execa(config.runc, runc('delete', '--force', id), { stdio: 'ignore', reject: false, timeout: PROBE_TIMEOUT_MS });
    await fs.rm(bundle, { recursive: true, force: true });
    await fs.rmdir(path.dirname(bundle)).catch(() => undefined); // another thread's probe may be in it
  };
  await fs.mkdir(rootfs, { recursive: true });
  await fs.mkdir(jobDir);
  // The launcher as every task has it, no user namespace: the filter depends on the profile alone.
  const spec = buildSpec({
    hostname: 'seccomp-probe',
    cgroupsPath: cgroupsPathFor(paths.stateDir, 'seccomp-probe', id),
    launcher: { init: config.init, busybox: config.busybox, jobDir },
    seccomp: profile,
    rootPath: rootfs,
  });
  spec.root = { path: rootfs, readonly: true };
  try {
    await fs.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
    // runc 1.1 loads the filter into `runc init` before the exec FIFO wait: a created container has it.
    const pidFile = path.join(bundle, 'pid');
    const created = await execa(config.runc, runc('create', '--bundle', bundle, '--pid-file', pidFile, id), { stdio: 'ignore', reject: false, timeout: PROBE_TIMEOUT_MS });
    if (created.exitCode !== 0) {
      // runc may fail before it writes its log: the exit code is what is left to say.
      const said = lastErrorLine(await fs.readFile(log, 'utf8').catch(() => '')) ?? `exit ${String(created.exitCode)}`;
      throw new Error(`runc create of the probe: ${said}`);
    }
    return { id, bundle, pid: Number((await fs.readFile(pidFile, 'utf8')).trim()), remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

/** Creates a probe container with `profile`, reads back its filter, and deletes it. */
async function probeFilter(config: RuntimeConfig, paths: RuntimePaths, profile: Record<string, unknown>, dump: string): Promise<Buffer> {
  const probe = await createProbe(config, paths, profile);
  try {
    const r = await execa(dump, [String(probe.pid)], { encoding: 'buffer', stdin: 'ignore', reject: false, timeout: PROBE_TIMEOUT_MS });
    const program = Buffer.from(r.stdout as Uint8Array);
    if (r.exitCode !== 0 || !validFilter(program)) throw new Error(`reading the probe's filter: ${Buffer.from(r.stderr as Uint8Array).toString().trim() || `exit ${String(r.exitCode)}`}`);
    return program;
  } finally {
    await probe.remove();
  }
}
