/**
 * The node's image store (layout in paths.ts): `ensure(ref)` gives a job's image as a digest, an
 * unpacked read-only rootfs and its config, pulling and unpacking at most once per node however many
 * threads and processes ask at the same time.
 *
 * Concurrency contract: an image already there is served without any lock (its record's mtime is
 * touched; see remove.ts for how that races with removal). Otherwise the reference's lock is held
 * while it is resolved and pulled, and the image's lock while it is pulled, unpacked or removed.
 */
import fs from 'node:fs/promises';
import local from '../os/local-fs.js';
import { errors } from '../errors.js';
import { readImageConfig, type ImageConfig } from './config.js';
import type { StoreContext } from './context.js';
import { collectGarbage, DEFAULT_MIN_IDLE_MS, type GcReport } from './gc.js';
import { findImage, readInventory, type ImageInfo } from './inventory.js';
import { initLayout, readManifest } from './layout.js';
import { withLock } from './lock.js';
import { checkMapping, type IdMapping } from './mapping.js';
import type { Descriptor } from './manifest.js';
import { readMountedDigests } from './mounts.js';
import { lockFile, metaFile, refFile, storePaths, type StorePaths } from './paths.js';
import { checkAllowed, parseImagePolicy, type ImagePolicy, type ImagePolicyInput } from './policy.js';
import type { ProgressListener } from './progress.js';
import { pullResolved, resolveSource, type ResolvedImage } from './pull.js';
import { ImageRecordSchema, readRecord, RefRecordSchema, writeJsonAtomic, type ImageRecord } from './records.js';
import { parseImageRef, tryParseImageRef, type ImageRef } from './reference.js';
import { removeImage } from './remove.js';
import { defaultTools, type ImageTools } from './tools.js';
import { ensureUnpacked, findUnpacked } from './unpack.js';

/** Options of ImageStore.open. */
export interface ImageStoreOptions {
  /** The node's state directory; the store lives in `<stateDir>/images/`. */
  stateDir: string;
  tools?: ImageTools;
  /** How long to wait for another pull or unpack of the same image (default 30 minutes). */
  lockTimeoutMs?: number;
  /** Digests of images in use (running tasks, stored checkpoints), for GC and remove(). */
  inUse?: () => Promise<Set<string>>;
  /** Called when the GC that follows a pull (policy.storeMaxBytes) fails. */
  onGcError?: (e: unknown) => void;
}

/** Options of one ensure(). */
export interface EnsureOptions {
  policy: ImagePolicy | ImagePolicyInput;
  /** null (default): the image's own owners; else owners shifted into the range (see mapping.ts). */
  mapping?: IdMapping;
  onProgress?: ProgressListener;
}

/** An image ready for a job. */
export interface EnsuredImage {
  /** The canonical reference asked for. */
  ref: string;
  /** What it resolved to; pin jobs to `name@digest` to get exactly this image again. */
  digest: string;
  /** The unpacked rootfs (read-only: mount it as an overlay's lower dir). */
  rootfs: string;
  config: ImageConfig;
  /** Compressed bytes of config and layers. */
  sizeBytes: number;
  /** Whether this call pulled it / unpacked it. */
  pulled: boolean;
  unpacked: boolean;
}

/** An image with its manifest's layers and its config (inspect). */
export interface ImageDetails extends ImageInfo {
  config: ImageConfig;
  layers: Descriptor[];
}

/** The node's image store. */
export class ImageStore {
  readonly paths: StorePaths;
  private readonly ctx: StoreContext;

  private constructor(private readonly o: ImageStoreOptions) {
    this.paths = storePaths(o.stateDir);
    this.ctx = { paths: this.paths, tools: o.tools ?? defaultTools(), lockTimeoutMs: o.lockTimeoutMs ?? 30 * 60_000 };
  }

  /** Opens (creating if needed) the store under `<stateDir>/images/`. */
  static async open(o: ImageStoreOptions): Promise<ImageStore> {
    const s = new ImageStore(o);
    const p = s.paths;
    // Unpacked images may hold setuid binaries owned by host root: only root may reach them.
    for (const d of [p.root, p.rootfs, p.tmp]) {
      await fs.mkdir(d, { recursive: true, mode: 0o700 });
      await fs.chmod(d, 0o700);
    }
    for (const d of [p.meta, p.refs, p.locks]) await fs.mkdir(d, { recursive: true });
    await initLayout(p.layout);
    return s;
  }

  /** Makes `ref` available: resolves, pulls and unpacks as needed, per `policy`. */
  async ensure(input: string, o: EnsureOptions): Promise<EnsuredImage> {
    const ref = parseImageRef(input);
    const policy = parseImagePolicy(o.policy);
    const mapping = checkMapping(o.mapping ?? null);
    const layoutPath = await checkAllowed(policy, ref);
    const report = (phase: 'resolving' | 'unpacking' | 'done', sizeBytes = 0) =>
      o.onProgress?.({ ref: ref.canonical, phase, layersDone: 0, layersTotal: 0, bytesDone: sizeBytes, bytesTotal: sizeBytes });
    report('resolving');
    const fast = await this.tryFast(ref, policy, mapping);
    if (fast) {
      report('done', fast.sizeBytes);
      return fast;
    }
    for (let attempt = 0; ; attempt++) {
      const { digest, pulled } = await withLock(lockFile.ref(this.paths, ref.canonical), () => this.resolveAndPull(ref, policy, layoutPath, o.onProgress), {
        timeoutMs: this.ctx.lockTimeoutMs,
        what: `image ${ref.canonical}`,
      });
      const out = await withLock(lockFile.image(this.paths, digest), async () => {
        const record = await this.touch(digest);
        if (!record) return undefined; // removed between the two locks: resolve again
        report('unpacking', record.sizeBytes);
        const u = await ensureUnpacked(this.ctx, record, mapping, ref.canonical);
        return this.result(ref, record, u.rootfs, pulled, u.created);
      }, { timeoutMs: this.ctx.lockTimeoutMs, what: `image ${ref.canonical}` });
      if (out) {
        if (pulled && policy.storeMaxBytes !== undefined) this.backgroundGc(policy.storeMaxBytes);
        report('done', out.sizeBytes);
        return out;
      }
      if (attempt >= 2) throw errors.unavailable(`image ${ref.canonical} kept being removed while it was being prepared; try again`);
    }
  }

  /** Every image of the store, most recently used first. */
  async list(): Promise<ImageInfo[]> {
    return readInventory(this.ctx);
  }

  /** One stored image by reference, digest or digest prefix (no registry is contacted); ERR_NOT_FOUND. */
  async inspect(ref: string): Promise<ImageDetails> {
    const info = await this.find(ref);
    const manifest = await readManifest(this.paths.blobs, info.manifestDigest);
    const config = await readImageConfig(this.paths.blobs, info.manifestDigest, info.source);
    return { ...info, config, layers: manifest.layers };
  }

  /**
   * Removes a stored image, all its unpacks and references. Refused (ERR_FAILED_PRECONDITION) when
   * a mounted rootfs uses it, or inUse() lists it unless `force`.
   */
  async remove(ref: string, o: { inUse?: () => Promise<Set<string>>; force?: boolean } = {}): Promise<ImageInfo> {
    const info = await this.find(ref);
    if ((await readMountedDigests(this.paths.rootfs)).has(info.digest)) {
      throw errors.failedPrecondition(`image ${info.refs[0] ?? info.digest} is mounted by a running task; stop the task first`);
    }
    const inUse = o.inUse ?? this.o.inUse;
    if (!o.force && inUse && (await inUse()).has(info.digest)) {
      throw errors.failedPrecondition(`image ${info.refs[0] ?? info.digest} is in use by a task or a stored checkpoint (force removes it anyway)`);
    }
    await removeImage(this.ctx, info.digest, { wait: true, minIdleMs: 0 });
    await collectGarbage(this.ctx, { targetBytes: Number.MAX_SAFE_INTEGER, minIdleMs: DEFAULT_MIN_IDLE_MS });
    return info;
  }

  /** Garbage-collects least recently used images down to `targetBytes` (default: the policy's storeMaxBytes, else 0). */
  async prune(o: { targetBytes?: number; policy?: ImagePolicyInput; inUse?: () => Promise<Set<string>>; minIdleMs?: number } = {}): Promise<GcReport> {
    const target = o.targetBytes ?? (o.policy ? parseImagePolicy(o.policy).storeMaxBytes : undefined) ?? 0;
    const inUse = o.inUse ?? this.o.inUse;
    return collectGarbage(this.ctx, { targetBytes: target, ...(inUse ? { inUse } : {}), ...(o.minIdleMs !== undefined ? { minIdleMs: o.minIdleMs } : {}) });
  }

  private async find(text: string): Promise<ImageInfo> {
    const parsed = tryParseImageRef(text);
    const found = findImage(await readInventory(this.ctx), { text, ...(parsed.ok ? { canonical: parsed.ref.canonical } : {}) });
    if (!found) throw errors.notFound(`image ${text} is not in the node's store`, { field: 'image' });
    return found;
  }

  /** The digest `ref` is known to mean here without asking its source, if any. */
  private async localDigest(ref: ImageRef, policy: ImagePolicy): Promise<string | undefined> {
    if (ref.digest && ref.transport === 'docker') return ref.digest;
    if (policy.pull === 'always') return undefined;
    return (await readRecord(refFile(this.paths, ref.canonical), RefRecordSchema))?.digest;
  }

  /** The lock-free path: the image is known, present and unpacked with `mapping`. */
  private async tryFast(ref: ImageRef, policy: ImagePolicy, mapping: IdMapping): Promise<EnsuredImage | undefined> {
    const digest = await this.localDigest(ref, policy);
    if (!digest) return undefined;
    const record = await this.touch(digest);
    const u = record ? await findUnpacked(this.ctx, digest, mapping) : undefined;
    return record && u ? this.result(ref, record, u.rootfs, false, false) : undefined;
  }

  /** Under the reference's lock: the digest, pulling the image if the store lacks it. */
  private async resolveAndPull(ref: ImageRef, policy: ImagePolicy, layoutPath: string | undefined, onProgress?: ProgressListener): Promise<{ digest: string; pulled: boolean }> {
    const known = await this.localDigest(ref, policy);
    if (known && (await this.has(known))) return { digest: known, pulled: false };
    if (policy.pull === 'never') {
      throw errors.notFound(`image ${ref.canonical} is not in the node's store and pull is never`, { field: 'image' });
    }
    const resolved: ResolvedImage = await resolveSource(this.ctx, ref, policy, layoutPath);
    const pulled = await withLock(lockFile.image(this.paths, resolved.digest), async () => {
      if (await this.has(resolved.digest)) return false;
      await pullResolved(this.ctx, resolved, policy, onProgress);
      return true;
    }, { timeoutMs: this.ctx.lockTimeoutMs, what: `image ${ref.canonical}` });
    await writeJsonAtomic(refFile(this.paths, ref.canonical), { ref: ref.canonical, digest: resolved.digest, resolvedAt: new Date().toISOString() });
    return { digest: resolved.digest, pulled };
  }

  private async has(digest: string): Promise<boolean> {
    return (await local.stat(metaFile(this.paths, digest)).catch(() => undefined)) !== undefined;
  }

  /** Marks the image used now and returns its record; undefined when it is not (or no longer) there. */
  private async touch(digest: string): Promise<ImageRecord | undefined> {
    const file = metaFile(this.paths, digest);
    const now = new Date();
    try {
      await local.utimes(file, now, now);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    return readRecord(file, ImageRecordSchema).catch(() => undefined);
  }

  private async result(ref: ImageRef, record: ImageRecord, rootfs: string, pulled: boolean, unpacked: boolean): Promise<EnsuredImage> {
    const config = await readImageConfig(this.paths.blobs, record.manifestDigest, ref.canonical);
    return { ref: ref.canonical, digest: record.digest, rootfs, config, sizeBytes: record.sizeBytes, pulled, unpacked };
  }

  private backgroundGc(targetBytes: number): void {
    const onError = this.o.onGcError ?? (() => undefined);
    collectGarbage(this.ctx, { targetBytes, ...(this.o.inUse ? { inUse: this.o.inUse } : {}) }).catch(onError);
  }
}
