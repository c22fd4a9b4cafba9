/**
 * Cleaning up prepared sandboxes: after a crash (recovery) and when a runner closes. A slot nobody
 * adopted is deleted; a claimed slot is kept only when its task's directory is the symlink to it (an
 * adopted task, recovered like any other); a runc container named like a slot whose directory is gone
 * (a crash mid-preparation or mid-delete) is force-deleted.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RuntimeConfig } from '../../config/schema.js';
import { loadRuntimeConfig, runtimePaths } from '../../config/load.js';
import { makeContext, type RuntimeContext } from '../context.js';
import { TOMBSTONE_PREFIX } from '../init-ops.js';
import { claimSlot, discardSlot, listKeys, listSlots, slotAt, slotClaim, warmDir, WARM_CONTAINER_PREFIX, type Slot } from './slots.js';

/** True when the claim names a task whose directory is the symlink to this slot. */
async function adopted(ctx: RuntimeContext, s: Slot, claim: string): Promise<boolean> {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(claim);
  if (!m) return false;
  const link = path.join(ctx.paths.tasksDir, m[1]!, m[2]!);
  const target = await fs.readlink(link).catch(() => undefined);
  return target !== undefined && path.resolve(path.dirname(link), target) === s.dir;
}

/** Deletes every prepared sandbox that is not an adopted task's; resolves to how many. Never throws. */
export async function recoverWarm(ctx: RuntimeContext): Promise<number> {
  let removed = 0;
  for (const key of await listKeys(ctx)) {
    for (const s of await listSlots(ctx, key)) {
      const claim = await slotClaim(s);
      if (claim !== undefined && (await adopted(ctx, s, claim))) continue;
      if (claim === undefined && !(await claimSlot(s, `recover ${process.pid}`))) continue;
      await discardSlot(ctx, s);
      removed++;
    }
    // Slots whose removal a crash cut short (renamed, not yet removed).
    for (const name of await fs.readdir(path.join(warmDir(ctx), key)).catch(() => [] as string[])) {
      if (name.startsWith(TOMBSTONE_PREFIX)) await fs.rm(path.join(warmDir(ctx), key, name), { recursive: true, force: true }).catch(() => undefined);
    }
    await fs.rmdir(path.join(warmDir(ctx), key)).catch(() => undefined);
  }
  // Containers of slots whose directory is already gone.
  const ids = await fs.readdir(ctx.paths.runcRoot).catch(() => [] as string[]);
  for (const cid of ids.filter((i) => i.startsWith(WARM_CONTAINER_PREFIX))) {
    const [key, id] = cid.slice(WARM_CONTAINER_PREFIX.length).split(/\.(?=s-)/);
    if (!key || !id) continue;
    const exists = await fs.stat(slotAt(ctx, key, id).dir).then(() => true, () => false);
    if (!exists) {
      await ctx.runc.delete(cid, true).catch(() => undefined);
      removed++;
    }
  }
  return removed;
}

/** Deletes the prepared sandboxes of a state dir (a runner's close, after its worker threads stopped). */
export async function drainPreparedSandboxes(config: Partial<RuntimeConfig> = {}): Promise<number> {
  const cfg = loadRuntimeConfig(config);
  return recoverWarm(await makeContext(cfg, runtimePaths(cfg)));
}
