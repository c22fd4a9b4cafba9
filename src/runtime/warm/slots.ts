/**
 * Prepared sandboxes on disk: STATE_DIR/run/warm/<key>/<slot>/ has the layout of a task directory
 * (runtime/layout.ts pathsIn) plus prepared.json and, once taken, a `claim` file (O_EXCL: exactly
 * one adopter). A slot is made off the critical path: writable layer and overlay mounted, bundle
 * written, conmon started and `runc create` done, its launcher (sandbox/launcher.ts) waiting for
 * `runc start`; its job dir is empty until an adopter writes the launch script there.
 */
import { randomBytes } from 'node:crypto';
import fs from '../../os/local-fs.js';
import path from 'node:path';
import { allSettledOrThrow } from '../../os/all-settled.js';
import { killSpawned } from '../../os/proc.js';
import { launchMonitor } from '../../monitor/launch.js';
import { monitorOptions } from '../monitor-options.js';
import type { OciSpec } from '../../sandbox/types.js';
import type { RuntimeContext } from '../context.js';
import { errors } from '../../errors.js';
import { cgroupsPathFor } from '../ids.js';
import { removeTaskDir } from '../init-ops.js';
import { namespaceDir, pathsIn, taskPaths, type TaskPaths } from '../layout.js';
import { readJson, writeJsonAtomic } from '../records.js';
import { emptyJobDir, lowerFor, mountTaskRootfs, taskSpec, traversable } from '../task-fs.js';
import type { WarmTemplate } from './key.js';
import { nicePreparation } from './priority.js';

/** The cgroup "namespace" of prepared sandboxes (a leading '.' cannot start a task namespace). */
const WARM_CGROUP_NS = '.warm';
/** Prefix of prepared sandboxes' runc container ids (task container ids always contain '+'). */
export const WARM_CONTAINER_PREFIX = 'warm.';
/** The hostname of prepared sandboxes (a task's hostname is fixed at create). */
export const WARM_HOSTNAME = 'stasis';

/** prepared.json. */
export interface PreparedRecord {
  version: 1;
  key: string;
  containerId: string;
  template: WarmTemplate;
  /** The bundle's spec (the launcher's process). */
  spec: OciSpec;
  createdAt: string;
  /** The overlay's lower dir (the template's rootfs or its id-shifted copy). */
  lower?: string;
  /** Set once `runc create` returned: the slot can be adopted. */
  pid?: number;
}

/** One slot on disk. */
export interface Slot {
  key: string;
  id: string;
  dir: string;
  paths: TaskPaths;
  prepared: string;
  claim: string;
}

/** The root of prepared sandboxes. */
export function warmDir(ctx: Pick<RuntimeContext, 'paths'>): string {
  return path.join(ctx.paths.runDir, 'warm');
}

/** Slot `id` of `key`. */
export function slotAt(ctx: Pick<RuntimeContext, 'paths'>, key: string, id: string): Slot {
  const dir = path.join(warmDir(ctx), key, id);
  return { key, id, dir, paths: pathsIn(dir), prepared: path.join(dir, 'prepared.json'), claim: path.join(dir, 'claim') };
}

/** The slots of `key` (all, claimed or not), oldest name first. */
export async function listSlots(ctx: Pick<RuntimeContext, 'paths'>, key: string): Promise<Slot[]> {
  const names = await fs.readdir(path.join(warmDir(ctx), key)).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith('s-')).sort().map((n) => slotAt(ctx, key, n));
}

/** Every key with a directory under warm/. */
export async function listKeys(ctx: Pick<RuntimeContext, 'paths'>): Promise<string[]> {
  const e = await fs.readdir(warmDir(ctx), { withFileTypes: true }).catch(() => []);
  return e.filter((d) => d.isDirectory()).map((d) => d.name);
}

/** The slot's prepared.json, or undefined. */
export async function readPrepared(s: Slot): Promise<PreparedRecord | undefined> {
  return (await readJson(s.prepared).catch(() => undefined)) as PreparedRecord | undefined;
}

/** Takes a slot: creates its claim file exclusively (false when someone else has). */
export async function claimSlot(s: Slot, owner: string): Promise<boolean> {
  try {
    await fs.writeFile(s.claim, owner, { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes tasks/<ns>/<id> a symlink to a claimed slot's directory (an adopted prepared sandbox, a
 * restore into a ready monitor); when that fails the claim is given back, and an existing task is
 * ERR_ALREADY_EXISTS.
 */
export async function linkTaskToSlot(ctx: RuntimeContext, namespace: string, id: string, slot: { dir: string; release(): Promise<void> }): Promise<TaskPaths> {
  const p = taskPaths(ctx.paths.tasksDir, namespace, id);
  await fs.mkdir(namespaceDir(ctx.paths.tasksDir, namespace), { recursive: true, mode: 0o711 });
  try {
    await fs.symlink(slot.dir, p.dir);
  } catch (e) {
    await slot.release();
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw errors.alreadyExists(`task ${id} already exists in namespace ${namespace}`, { id, namespace });
    throw e;
  }
  return p;
}

/** Gives a claim back (the slot can be adopted again). */
export async function releaseSlot(s: Slot): Promise<void> {
  await fs.rm(s.claim, { force: true });
}

/** Whether the slot is claimed (by whom: the claim's content). */
export async function slotClaim(s: Slot): Promise<string | undefined> {
  return fs.readFile(s.claim, 'utf8').catch(() => undefined);
}

/** A new slot of `key`, not on disk yet; its name sorts by creation time, so adopters take the oldest first. */
export function newSlot(ctx: RuntimeContext, key: string): Slot {
  return slotAt(ctx, key, `s-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`);
}

/** Prepares sandbox `s` (newSlot) for `template`; resolves once it is ready. Undoes itself on failure. */
export async function prepareSlot(ctx: RuntimeContext, s: Slot, template: WarmTemplate): Promise<Slot> {
  const key = s.key;
  const containerId = `${WARM_CONTAINER_PREFIX}${key}.${s.id}`;
  const p = s.paths;
  const spec = taskSpec(ctx, p, {
    hostname: WARM_HOSTNAME,
    ...(template.user ? { user: template.user } : {}),
    ...(template.terminal ? { terminal: true } : {}),
    limits: template.limits,
    network: template.network,
    cgroupsPath: cgroupsPathFor(ctx.paths.stateDir, WARM_CGROUP_NS, `${key}.${s.id}`),
  });
  const rec: PreparedRecord = { version: 1, key, containerId, template, spec, createdAt: new Date().toISOString() };
  await fs.mkdir(p.dir, { recursive: true, mode: 0o711 });
  try {
    await traversable(path.dirname(p.dir), warmDir(ctx));
    // A new slot dir under the node's state dir: no container has seen any of these paths yet.
    await allSettledOrThrow([
      fs.mkdir(p.runDir, { recursive: true, mode: 0o700 }),
      fs.mkdir(p.bundle, { recursive: true, mode: 0o711 }).then(() => writeJsonAtomic(p.spec, spec)),
      emptyJobDir(p),
      lowerFor(ctx, template.rootfs, template.mapped).then(async (lower) => {
        rec.lower = lower;
        await mountTaskRootfs(ctx, p, lower, template.limits.diskBytes);
      }),
    ]);
    await writeJsonAtomic(s.prepared, rec);
    const { pid } = await launchMonitor(
      monitorOptions(ctx, { containerId, bundle: p.bundle, runDir: p.runDir, logMaxBytes: template.logMaxBytes, terminal: template.terminal, stdin: template.stdin, onSpawn: (pid) => nicePreparation(pid) }),
    );
    await writeJsonAtomic(s.prepared, { ...rec, pid });
    return s;
  } catch (e) {
    await discardSlot(ctx, s, containerId);
    throw e;
  }
}

/**
 * Deletes a slot: the conmon still waiting on its start pipe (a monitor kept ready for a restore,
 * its pid in prepared.json), its container (SIGKILL), mount and directory. Never throws.
 */
export async function discardSlot(ctx: RuntimeContext, s: Slot, containerId?: string): Promise<void> {
  const rec = (await readPrepared(s)) as (PreparedRecord & { monitorPid?: number }) | undefined;
  const cid = containerId ?? rec?.containerId;
  if (rec?.monitorPid && cid) await killWaitingMonitor(rec.monitorPid, cid);
  if (cid) await ctx.runc.delete(cid, true).catch(() => undefined);
  await removeTaskDir(s.paths, { tombstone: true }).catch(() => undefined);
}

/** SIGKILLs `pid` if it is still a conmon for container `cid` (the pid may be another process' by now). */
async function killWaitingMonitor(pid: number, cid: string): Promise<void> {
  // No such process (it was killed already): nothing to kill.
  const argv = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  if (argv[0]?.endsWith('conmon') && argv[argv.indexOf('-c') + 1] === cid) killSpawned(pid);
}
