/**
 * Per-task overlay rootfs over a shared read-only lower rootfs (runtime-facts §7), and the
 * rootfs diff (the overlay's upper layer as a tar) that travels with a checkpoint.
 */
import fs from '../os/local-fs.js';
import path from 'node:path';
import { errors, StasisError } from '../errors.js';
import { failureText, runCommand, type CommandResult } from '../os/command.js';
import { mountOne, unmountEach } from './mount-table.js';
import type { OverlayPaths } from './types.js';

/** xattr namespaces kept in a rootfs diff: overlayfs keeps opaque-dir markers in trusted.overlay.*. */
const XATTR_ARGS = ['--xattrs', '--xattrs-include=trusted.*', '--xattrs-include=user.*'];

/** One mount of /proc/self/mountinfo, reduced to what the sandbox needs. */
export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  superOptions: string;
}

/** Decodes the octal escapes (`\040` for a space) mountinfo uses in paths. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/self/mountinfo text into entries (pure; exported for tests). */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const parts = line.split(' ');
    const sep = parts.indexOf('-');
    if (sep < 0 || parts.length < sep + 4) continue;
    out.push({
      mountPoint: unescapeMountPath(parts[4]!),
      fsType: parts[sep + 1]!,
      source: unescapeMountPath(parts[sep + 2]!),
      superOptions: parts[sep + 3]!,
    });
  }
  return out;
}

/** The topmost mount at exactly `target` (resolved to an absolute path), if any. */
export async function mountAt(target: string): Promise<MountEntry | undefined> {
  const abs = path.resolve(target);
  const real = await fs.realpath(abs).catch(() => abs);
  const entries = parseMountinfo(await fs.readFile('/proc/self/mountinfo', 'utf8'));
  return entries.reverse().find((e) => e.mountPoint === real || e.mountPoint === abs);
}

/** True when something is mounted exactly at `target` (from /proc/self/mountinfo). */
export async function isMounted(target: string): Promise<boolean> {
  return (await mountAt(target)) !== undefined;
}

function checkOptionPath(p: string, field: string): void {
  if (!path.isAbsolute(p)) {
    throw errors.invalidArgument(`Expected \`${field}\` to be an absolute path, got \`${p}\``, { field });
  }
  if (/[,:\n]/.test(p)) {
    throw errors.invalidArgument(`Expected \`${field}\` to contain no ',' ':' or newline (overlay options), got \`${p}\``, {
      field,
    });
  }
}

function commandError(code: 'runtime' | 'checkpoint', what: string, argv: string[], r: CommandResult): StasisError {
  const stderr = r.stderr.trim();
  return errors[code](`${what}: ${failureText(r)}`, {
    argv,
    runtimeError: stderr || undefined,
    exitCode: r.exitCode ?? undefined,
  });
}

/** Runs a mount-table or archive command; an ERR_RUNTIME / ERR_CHECKPOINT with its stderr when it fails. */
async function mustRun(code: 'runtime' | 'checkpoint', what: string, file: string, argv: string[]): Promise<void> {
  const r = await runCommand(file, argv);
  if (r.exitCode !== 0) throw commandError(code, what, [file, ...argv], r);
}

/**
 * Mounts an overlay of `lower` (read-only) and `upper` at `target`, creating upper, work and target.
 * Idempotent: an overlay already mounted at `target` is left as is (not looked for when `fresh`).
 */
export async function mountOverlay(p: OverlayPaths, o: { fresh?: boolean } = {}): Promise<void> {
  checkOptionPath(p.lower, 'overlay.lower');
  checkOptionPath(p.upper, 'overlay.upper');
  checkOptionPath(p.work, 'overlay.work');
  checkOptionPath(p.target, 'overlay.target');
  const st = await fs.stat(p.lower).catch(() => undefined);
  if (!st) throw errors.notFound(`rootfs ${p.lower} does not exist`, { field: 'rootfs', path: p.lower });
  if (!st.isDirectory()) {
    throw errors.invalidArgument(`Expected rootfs ${p.lower} to be a directory`, { field: 'rootfs', path: p.lower });
  }
  // `fresh`: the target's task dir was made just now, so nothing can be mounted there yet.
  const existing = o.fresh ? undefined : await mountAt(p.target);
  if (existing) {
    if (existing.fsType === 'overlay') return;
    throw errors.failedPrecondition(`${p.target} already has a ${existing.fsType} mount, not an overlay`, {
      path: p.target,
    });
  }
  for (const d of [p.upper, p.work, p.target]) await fs.mkdir(d, { recursive: true });
  // nodev: a device node in a job's layer (a crafted rootfs diff) opens nothing on the host.
  const data = `lowerdir=${p.lower},upperdir=${p.upper},workdir=${p.work}`;
  const failed = await mountOne({ fsType: 'overlay', source: 'overlay', target: p.target, flags: ['nodev'], data });
  if (failed !== null) throw errors.runtime(`cannot mount overlay at ${p.target}: ${failed}`, { path: p.target, runtimeError: failed });
}

/**
 * Unmounts every mounted one of `targets`, in order (one `umount` when it goes through busybox); a
 * target that stays mounted is then unmounted on its own (lazily when busy). Does nothing for
 * targets with nothing mounted.
 */
export async function unmountAll(targets: string[]): Promise<void> {
  const present = await mountedAmong(targets);
  if ((await unmountEach(present)) === null) return;
  for (const t of present) await unmountOverlay(t);
}

/** Those of `targets` (resolved) that have something mounted exactly there, from one read of mountinfo. */
export async function mountedAmong(targets: string[]): Promise<string[]> {
  const entries = parseMountinfo(await fs.readFile('/proc/self/mountinfo', 'utf8'));
  const mounted = new Set(entries.map((e) => e.mountPoint));
  const real = await Promise.all(targets.map((t) => fs.realpath(t).catch(() => path.resolve(t))));
  return real.filter((t) => mounted.has(t));
}

/** Unmounts `target` (lazily when busy). Does nothing when nothing is mounted there. */
export async function unmountOverlay(target: string): Promise<void> {
  if (!(await isMounted(target))) return;
  if ((await unmountEach([target])) === null) return;
  if (!(await isMounted(target))) return;
  const failed = await unmountEach([target], { detach: true });
  if (failed !== null) throw errors.runtime(`cannot unmount ${target}: ${failed}`, { path: target, runtimeError: failed });
}

/**
 * Writes the overlay's upper layer `upper` as a tar at `tarPath`, keeping whiteouts (0,0 char
 * devices), trusted.* / user.* xattrs and numeric owners. Written to a temporary name, then renamed.
 */
export async function writeRootfsDiff(upper: string, tarPath: string): Promise<void> {
  const st = await fs.stat(upper).catch(() => undefined);
  if (!st?.isDirectory()) throw errors.notFound(`overlay upper dir ${upper} does not exist`, { path: upper });
  await fs.mkdir(path.dirname(tarPath), { recursive: true });
  const tmp = `${tarPath}.tmp-${process.pid}-${Date.now()}`;
  const argv = ['-C', upper, ...XATTR_ARGS, '--numeric-owner', '-cpf', tmp, '.'];
  try {
    await mustRun('checkpoint', `cannot write rootfs diff of ${upper}`, 'tar', argv);
    await fs.rename(tmp, tarPath);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Extracts a rootfs diff written by writeRootfsDiff into `upper` (created if missing). */
export async function applyRootfsDiff(tarPath: string, upper: string): Promise<void> {
  if (!(await fs.stat(tarPath).catch(() => undefined))) {
    throw errors.notFound(`rootfs diff ${tarPath} does not exist`, { path: tarPath });
  }
  // `upper` is the fresh upper dir on the task's own tmpfs, which no container has mounted yet:
  // nothing a job wrote lies on this path (the diff's content is tar's to handle; docs/security.md).
  await fs.mkdir(upper, { recursive: true });
  const argv = ['-C', upper, ...XATTR_ARGS, '--numeric-owner', '-xpf', tarPath];
  await mustRun('checkpoint', `cannot apply rootfs diff ${tarPath}`, 'tar', argv);
}
