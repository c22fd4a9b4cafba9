/**
 * The per-node warm pool: a few prepared sandboxes per key (rootfs, user, network, limits), made in
 * the background so a job only adopts one and runs `runc start`. Adoption claims a ready slot
 * (O_EXCL) and hands it over (adopt-slot.ts). A job that finds none ready but one being prepared
 * claims that one and waits for it: the rest of a preparation already under way is shorter than a
 * whole create, and a create of its own would compete with it for the CPU. Every adoption (and every
 * miss) refills the key in the background. The slots live on disk, so every worker thread of a node
 * shares them.
 */
import fs from '../../os/local-fs.js';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import type { RuntimeContext } from '../context.js';
import { withLock } from '../lock.js';
import type { CreateTaskOptions, Task } from '../task.js';
import { templateOf, warmIneligible, warmKey, type WarmTemplate } from './key.js';
import { adoptClaimed, type AdoptInput } from './adopt-slot.js';
import { claimSlot, discardSlot, listSlots, newSlot, prepareSlot, readPrepared, releaseSlot, slotClaim, warmDir, type PreparedRecord, type Slot } from './slots.js';

/** Options of the warm pool. */
export interface WarmOptions {
  /** Ready sandboxes kept per key (0 disables the pool). */
  size: number;
  /** Keys kept warm at once; the least recently used beyond this is drained (default 4). */
  maxKeys?: number;
}

/** Delay before refilling, so the adopter's `runc start` goes first on a busy machine. */
const REFILL_DELAY_MS = 25;
/** Sandboxes prepared at once by one filler. */
const FILL_PARALLEL = 2;
/** How long a job waits for a sandbox being prepared before it creates its own. */
const PREPARING_WAIT_MS = 2_000;
/** How often it looks whether another thread's preparation is done. */
const PREPARING_POLL_MS = 2;

/** The warm pool of one TaskManager (one per worker thread; the slots are shared on disk). */
export class WarmPool {
  private readonly templates = new Map<string, WarmTemplate>();
  private readonly filling = new Set<string>();
  private readonly again = new Set<string>();
  private readonly failed = new Map<string, number>();
  /** Fills under way, and refills waiting for their delay (close waits for the one, drops the other). */
  private readonly fills = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** This pool's preparations under way, by slot dir. */
  private readonly preparing = new Map<string, { slot: Slot; done: Promise<unknown> }>();
  private closed = false;

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly o: WarmOptions,
  ) {}

  /** Adopts a ready sandbox for task `a`, or resolves undefined (the caller creates it the normal way). */
  async adopt(o: CreateTaskOptions, a: AdoptInput): Promise<Task | undefined> {
    if (this.o.size <= 0 || warmIneligible(o) !== null) return undefined;
    const template = templateOf(o, a.rootfs);
    const key = warmKey(template);
    this.remember(key, template);
    try {
      // Slots of other threads being prepared (prepared.json, no pid yet), oldest first.
      const underWay: Slot[] = [];
      for (const slot of await listSlots(this.ctx, key)) {
        const prepared = await readPrepared(slot);
        if (prepared && !prepared.pid && !this.preparing.has(slot.dir)) underWay.push(slot);
        if (!prepared?.pid || !(await claimSlot(slot, owner(a)))) continue;
        const t = await adoptClaimed(this.ctx, slot, prepared, o, a);
        if (t !== null) return t;
      }
      return await this.adoptPreparing(key, underWay, o, a);
    } finally {
      this.refill(key);
    }
  }

  /**
   * Claims the oldest slot of `key` being prepared (this pool's own first, then `others`: another
   * thread's, seen with its prepared.json) and adopts it once ready; undefined when there is none,
   * or it fails or takes longer than PREPARING_WAIT_MS (the claim is then given back).
   */
  private async adoptPreparing(key: string, others: Slot[], o: CreateTaskOptions, a: AdoptInput): Promise<Task | undefined> {
    const own = [...this.preparing.values()].filter((p) => p.slot.key === key).map((p) => p.slot);
    for (const slot of [...own, ...others]) {
      const local = this.preparing.get(slot.dir);
      if (!(await claimSlot(slot, owner(a)))) continue;
      const prepared = await whenReady(slot, local?.done);
      if (prepared === undefined) {
        await releaseSlot(slot);
        return undefined;
      }
      const t = await adoptClaimed(this.ctx, slot, prepared, o, a, true);
      return t ?? undefined;
    }
    return undefined;
  }

  /** Refills `key` to `size` ready slots in the background (one filler per key and process). */
  refill(key: string): void {
    const template = this.templates.get(key);
    if (this.closed || !template || Date.now() < (this.failed.get(key) ?? 0)) return;
    // A filler already running may have counted before this adoption: it looks again when done.
    if (this.filling.has(key)) return void this.again.add(key);
    this.filling.add(key);
    const t = setTimeout(() => {
      this.timers.delete(t);
      const filled = this.fill(key, template)
        .catch((e: unknown) => {
          // A key whose sandboxes cannot be made (rootfs gone, runc failing) rests for a while.
          this.failed.set(key, Date.now() + 30_000);
          if (process.env.STASIS_DEBUG) process.stderr.write(`stasis: preparing a sandbox failed: ${String(e)}\n`);
        })
        .finally(() => {
          this.fills.delete(filled);
          this.filling.delete(key);
          if (this.again.delete(key)) this.refill(key);
        });
      this.fills.add(filled);
    }, REFILL_DELAY_MS);
    this.timers.add(t);
    t.unref();
  }

  /**
   * Stops refilling and waits for the preparations under way, so that a drain after it
   * (drainPreparedSandboxes) finds every slot whole and none is made after it. The slots stay for
   * their owner to remove.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.fills]);
  }

  private async fill(key: string, template: WarmTemplate): Promise<void> {
    const lock = path.join(warmDir(this.ctx), `${key}.lock`);
    await fs.mkdir(path.dirname(lock), { recursive: true });
    await withLock(
      lock,
      async () => {
        for (;;) {
          if (this.closed || !this.templates.has(key)) return;
          const free = await countFree(await listSlots(this.ctx, key));
          if (free >= this.o.size) return;
          // Two at a time: a slot is mostly waiting on conmon and runc, so a second one overlaps.
          const n = Math.min(this.o.size - free, FILL_PARALLEL);
          await Promise.all(Array.from({ length: n }, () => this.prepare(key, template)));
        }
      },
      1_000,
    ).catch((e: unknown) => {
      // Another thread fills this key right now (lock timeout): nothing to do.
      if ((e as { code?: string }).code === 'ERR_UNAVAILABLE') return;
      throw e;
    });
  }

  /** Prepares one slot of `key`, known to adopters (adoptPreparing) while it is under way. */
  private async prepare(key: string, template: WarmTemplate): Promise<void> {
    const slot = newSlot(this.ctx, key);
    const done = prepareSlot(this.ctx, slot, template);
    this.preparing.set(slot.dir, { slot, done });
    try {
      await done;
    } finally {
      this.preparing.delete(slot.dir);
    }
  }

  private remember(key: string, template: WarmTemplate): void {
    this.templates.delete(key);
    this.templates.set(key, template);
    const max = this.o.maxKeys ?? 4;
    while (this.templates.size > max) {
      const oldest = this.templates.keys().next().value as string;
      this.templates.delete(oldest);
      void drainKey(this.ctx, oldest);
    }
  }
}

/**
 * Free slots: unclaimed, ready or being prepared. prepared.json is read after the claim, so a slot
 * renamed away for removal between the listing and the reads does not count.
 */
async function countFree(slots: Slot[]): Promise<number> {
  let n = 0;
  for (const s of slots) if ((await slotClaim(s)) === undefined && (await readPrepared(s)) !== undefined) n++;
  return n;
}

/** The claim an adopter writes: the task it is for. */
function owner(a: AdoptInput): string {
  return `${a.namespace}/${a.id}`;
}

/**
 * The record of claimed slot `s` once its container is created: after `local` (this pool's
 * preparation of it) settles, or by looking every PREPARING_POLL_MS. Undefined when the
 * preparation failed (the slot is gone) or did not end within PREPARING_WAIT_MS.
 */
async function whenReady(s: Slot, local?: Promise<unknown>): Promise<PreparedRecord | undefined> {
  if (local) {
    // A failed preparation removed its slot: the read below finds nothing.
    const settled = local.then(() => true, () => true);
    if (!(await Promise.race([settled, sleep(PREPARING_WAIT_MS, false, { ref: false })]))) return undefined;
    const rec = await readPrepared(s);
    return rec?.pid ? rec : undefined;
  }
  for (const until = Date.now() + PREPARING_WAIT_MS; Date.now() < until; await sleep(PREPARING_POLL_MS)) {
    const rec = await readPrepared(s);
    if (rec === undefined || rec.pid) return rec?.pid ? rec : undefined;
  }
  return undefined;
}

/** Deletes every unclaimed slot of `key` (claiming each first, so no adopter takes it meanwhile). */
async function drainKey(ctx: RuntimeContext, key: string): Promise<number> {
  let n = 0;
  for (const s of await listSlots(ctx, key)) {
    if (await claimSlot(s, `drain ${process.pid} ${threadId}`)) {
      await discardSlot(ctx, s);
      n++;
    }
  }
  await fs.rmdir(path.join(warmDir(ctx), key)).catch(() => undefined);
  return n;
}
