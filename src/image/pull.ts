/**
 * Pulling one image into the store: resolve the reference to a digest at its source (skopeo inspect
 * --raw; the digest is over the manifest's exact bytes), check the size cap BEFORE any blob is
 * copied, copy by digest into a private staging layout whose blobs land in the shared blob dir,
 * then publish: add the entry to the shared index.json (layout lock) and write the image record.
 * Callers hold the image's lock, so one pull per image runs at a time on the node.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../errors.js';
import type { StoreContext } from './context.js';
import { findNamed, putNamed, readIndex, readManifest } from './layout.js';
import { withLock } from './lock.js';
import { choosePlatform, manifestBlobs, manifestBytes, parseManifestDoc, sha256Digest, unsupportedLayerTypes, type Manifest } from './manifest.js';
import { blobFile, layoutName, lockFile, metaFile } from './paths.js';
import { isInsecure, type ImagePolicy } from './policy.js';
import { watchPull, type ProgressListener } from './progress.js';
import { readCapped, writeJsonAtomic, type ImageRecord } from './records.js';
import { transportString, type ImageRef } from './reference.js';
import { copyArgs, inspectArgs, runSkopeo, type RegistryOptions } from './skopeo.js';

/** A reference resolved at its source. */
export interface ResolvedImage {
  ref: ImageRef;
  /** The digest the reference resolves to (of an index, when the source has one). */
  digest: string;
  /** This node's platform manifest. */
  manifest: Manifest;
  /** What skopeo copies: pinned to the platform manifest's digest for registries. */
  copySource: string;
  /** Compressed bytes of config and layers. */
  sizeBytes: number;
}

/** The name of a pull's staging dir's marker file (read by GC to protect the blobs it needs). */
export const PULL_MARKER = 'pull.json';

/** skopeo's registry options for `ref` under `policy`. */
export function registryOptions(policy: ImagePolicy, ref: ImageRef): RegistryOptions {
  return {
    insecure: ref.transport === 'docker' && isInsecure(policy, ref.registry!),
    ...(policy.authFile ? { authFile: policy.authFile } : {}),
    timeoutMs: policy.timeoutMs,
  };
}

/** Resolves `ref` at its source (`layoutPath`: the real path of an oci: layout); checks maxImageBytes. */
export async function resolveSource(ctx: StoreContext, ref: ImageRef, policy: ImagePolicy, layoutPath?: string): Promise<ResolvedImage> {
  const reg = registryOptions(policy, ref);
  const source = ref.transport === 'oci' ? `oci:${layoutPath ?? ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}` : transportString(ref);
  const raw = await runSkopeo(ctx.tools, ref.canonical, inspectArgs(source, reg), reg.timeoutMs);
  const digest = sha256Digest(raw);
  if (ref.digest && digest !== ref.digest) {
    throw errors.failedPrecondition(`the source of image ${ref.canonical} returned a manifest with digest ${digest}`, { field: 'image' });
  }
  const doc = parseManifestDoc(raw, ref.canonical);
  let manifest: Manifest;
  let copySource = ref.transport === 'docker' ? transportString(ref, digest) : source;
  if (doc.kind === 'manifest') manifest = doc.manifest;
  else {
    const entry = choosePlatform(doc.index, ref.canonical);
    const child =
      ref.transport === 'docker'
        ? await runSkopeo(ctx.tools, ref.canonical, inspectArgs(transportString(ref, entry.digest), reg), reg.timeoutMs)
        : await readCapped(blobFile(path.join(layoutPath ?? ref.repository, 'blobs'), entry.digest));
    if (sha256Digest(child) !== entry.digest) throw errors.failedPrecondition(`the ${entry.digest} manifest of image ${ref.canonical} does not match its digest`);
    const d = parseManifestDoc(child, ref.canonical);
    if (d.kind !== 'manifest') throw errors.failedPrecondition(`image ${ref.canonical} nests an index in an index, which is not supported`);
    manifest = d.manifest;
    if (ref.transport === 'docker') copySource = transportString(ref, entry.digest);
  }
  const unsupported = unsupportedLayerTypes(manifest);
  if (unsupported.length) {
    throw errors.failedPrecondition(`image ${ref.canonical} has layers of a type the node cannot unpack: ${unsupported.join(', ')} (umoci 0.4.7 reads gzip and plain tar)`, { field: 'image' });
  }
  const sizeBytes = manifestBytes(manifest);
  if (policy.maxImageBytes !== undefined && sizeBytes > policy.maxImageBytes) {
    throw errors.permissionDenied(
      `image ${ref.canonical} is ${sizeBytes} bytes compressed, more than the ${policy.maxImageBytes} the node's image policy allows (maxImageBytes)`,
      { field: 'image', sizeBytes, maxImageBytes: policy.maxImageBytes },
    );
  }
  return { ref, digest, manifest, copySource, sizeBytes };
}

/** Copies a resolved image into the store and publishes it. Caller holds the image's lock. */
export async function pullResolved(ctx: StoreContext, r: ResolvedImage, policy: ImagePolicy, onProgress?: ProgressListener): Promise<ImageRecord> {
  const p = ctx.paths;
  const name = layoutName(r.digest);
  await fs.mkdir(p.tmp, { recursive: true });
  const staging = path.join(p.tmp, `pull-${process.pid}-${randomUUID().slice(0, 8)}`);
  // Registered under the layout lock, so a blob sweep either sees this pull (and spares the blobs it
  // expects) or has finished deleting before skopeo looks for blobs it could reuse.
  await withLock(lockFile.layout(p), async () => {
    await fs.mkdir(staging);
    await writeJsonAtomic(path.join(staging, PULL_MARKER), { pid: process.pid, digest: r.digest, blobs: manifestBlobs(r.manifest), startedAt: Date.now() });
  }, { timeoutMs: ctx.lockTimeoutMs, what: 'the image layout' });
  try {
    const reg = registryOptions(policy, r.ref);
    const watch = onProgress ? watchPull({ ref: r.ref.canonical, blobs: p.blobs, staging, config: r.manifest.config, layers: r.manifest.layers, onProgress }) : undefined;
    try {
      await runSkopeo(ctx.tools, r.ref.canonical, copyArgs(r.copySource, `oci:${staging}:${name}`, { ...reg, sharedBlobDir: p.blobs }), reg.timeoutMs);
    } finally {
      await watch?.stop();
    }
    const desc = findNamed(await readIndex(staging), name);
    if (!desc) throw errors.internal(`skopeo copy of ${r.ref.canonical} left no ${name} in ${staging}/index.json`);
    const stored = await readManifest(p.blobs, desc.digest);
    const want = r.manifest.layers.map((l) => l.digest).join(' ');
    if (stored.layers.map((l) => l.digest).join(' ') !== want) {
      throw errors.unavailable(`image ${r.ref.canonical} changed at its source while it was being pulled; try again`, { field: 'image' });
    }
    for (const b of manifestBlobs(stored)) {
      if (!(await fs.stat(blobFile(p.blobs, b)).catch(() => undefined))) throw errors.internal(`blob ${b} of ${r.ref.canonical} is missing after the copy`);
    }
    const { annotations: _drop, ...plain } = desc;
    await withLock(lockFile.layout(p), () => putNamed(p.layout, name, plain), { timeoutMs: ctx.lockTimeoutMs, what: 'the image layout' });
    const record: ImageRecord = {
      digest: r.digest,
      manifestDigest: desc.digest,
      source: r.ref.canonical,
      sizeBytes: manifestBytes(stored),
      pulledAt: new Date().toISOString(),
    };
    await writeJsonAtomic(metaFile(p, r.digest), record);
    return record;
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}
