/**
 * The store's shared OCI layout. skopeo writes blobs into its blobs dir (`--dest-shared-blob-dir`,
 * temporary file + rename, so concurrent pulls are safe and a blob present once is reused); only
 * stasis writes its index.json, under the layout lock, by atomic rename, so that two pulls never
 * lose each other's entry (skopeo and umoci would rewrite the whole index from a stale read).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../errors.js';
import { IndexSchema, parseManifestDoc, REF_NAME, sha256Digest, type Descriptor, type Index, type Manifest } from './manifest.js';
import { blobFile } from './paths.js';
import { readCapped, writeJsonAtomic } from './records.js';

const EMPTY_INDEX: Index = { schemaVersion: 2, manifests: [] };

/** Creates the layout's files when missing (safe to run concurrently). */
export async function initLayout(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  await createIfMissing(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}\n');
  await createIfMissing(path.join(dir, 'index.json'), `${JSON.stringify(EMPTY_INDEX)}\n`);
}

async function createIfMissing(file: string, text: string): Promise<void> {
  const tmp = `${file}.init-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await fs.writeFile(tmp, text);
  try {
    await fs.link(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** Reads a layout's index.json. */
export async function readIndex(dir: string): Promise<Index> {
  const text = (await readCapped(path.join(dir, 'index.json'))).toString('utf8');
  const r = IndexSchema.safeParse(JSON.parse(text));
  if (!r.success) throw errors.internal(`${dir}/index.json is not an OCI index: ${r.error.issues[0]!.message}`);
  return r.data;
}

/** The descriptor named `name` in an index, if any. */
export function findNamed(index: Index, name: string): Descriptor | undefined {
  return index.manifests.find((d) => d.annotations?.[REF_NAME] === name);
}

/** Adds (or replaces) the entry named `name`. Caller holds the layout lock. */
export async function putNamed(dir: string, name: string, desc: Descriptor): Promise<void> {
  const index = await readIndex(dir);
  const manifests = index.manifests.filter((d) => d.annotations?.[REF_NAME] !== name);
  manifests.push({ ...desc, annotations: { ...(desc.annotations ?? {}), [REF_NAME]: name } });
  await writeJsonAtomic(path.join(dir, 'index.json'), { ...index, manifests });
}

/** Removes the entries named in `names`. Caller holds the layout lock. */
export async function removeNamed(dir: string, names: Set<string>): Promise<void> {
  const index = await readIndex(dir);
  const manifests = index.manifests.filter((d) => !names.has(d.annotations?.[REF_NAME] ?? ''));
  if (manifests.length !== index.manifests.length) await writeJsonAtomic(path.join(dir, 'index.json'), { ...index, manifests });
}

/** Reads a JSON blob from `blobs`, checking its digest. */
export async function readBlob(blobs: string, digest: string): Promise<Buffer> {
  const buf = await readCapped(blobFile(blobs, digest));
  if (sha256Digest(buf) !== digest) throw errors.internal(`blob ${digest} in ${blobs} does not match its digest`);
  return buf;
}

/** Reads the image manifest `digest` from `blobs`. */
export async function readManifest(blobs: string, digest: string): Promise<Manifest> {
  const doc = parseManifestDoc(await readBlob(blobs, digest), digest);
  if (doc.kind !== 'manifest') throw errors.internal(`blob ${digest} is an index, not an image manifest`);
  return doc.manifest;
}

/**
 * Every blob that the entries of `index` reference (manifests, nested indexes, configs, layers).
 * A manifest whose blob is missing or unreadable contributes only its own digest.
 */
export async function referencedBlobs(blobs: string, index: Index): Promise<Set<string>> {
  const seen = new Set<string>();
  const walk = async (d: Descriptor): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.add(d.digest);
    const buf = await readBlob(blobs, d.digest).catch(() => undefined);
    if (!buf) return;
    let doc;
    try {
      doc = parseManifestDoc(buf, d.digest);
    } catch {
      return; // not a manifest (e.g. a config referenced as a manifest): keep it, nothing below
    }
    if (doc.kind === 'index') for (const c of doc.index.manifests) await walk(c);
    else for (const b of [doc.manifest.config, ...doc.manifest.layers]) seen.add(b.digest);
  };
  for (const d of index.manifests) await walk(d);
  return seen;
}

/** Every blob file of the layout: digest → size and mtime. */
export async function listBlobs(blobs: string): Promise<Map<string, { size: number; mtimeMs: number }>> {
  const out = new Map<string, { size: number; mtimeMs: number }>();
  const dir = path.join(blobs, 'sha256');
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!/^[a-f0-9]{64}$/.test(name)) continue;
    const st = await fs.stat(path.join(dir, name)).catch(() => undefined);
    if (st?.isFile()) out.set(`sha256:${name}`, { size: st.size, mtimeMs: st.mtimeMs });
  }
  return out;
}
