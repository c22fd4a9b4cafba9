/**
 * OCI and Docker v2 manifests, indexes (manifest lists) and descriptors: schemas, the digest of
 * raw manifest bytes, and the choice of this node's platform from an index. Pure.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { errors } from '../errors.js';

const Digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, 'Expected a sha256 digest');

/** A content descriptor (OCI image-spec descriptor). */
export const DescriptorSchema = z
  .object({
    mediaType: z.string().optional(),
    digest: Digest,
    size: z.number().int().nonnegative(),
    platform: z.object({ architecture: z.string(), os: z.string(), variant: z.string().optional() }).passthrough().optional(),
    annotations: z.record(z.string()).optional(),
  })
  .passthrough();
/** A content descriptor. */
export type Descriptor = z.infer<typeof DescriptorSchema>;

/** An image manifest (OCI or Docker schema 2). */
export const ManifestSchema = z
  .object({ schemaVersion: z.literal(2), mediaType: z.string().optional(), config: DescriptorSchema, layers: z.array(DescriptorSchema) })
  .passthrough();
/** An image manifest. */
export type Manifest = z.infer<typeof ManifestSchema>;

/** An image index (OCI) or manifest list (Docker); also the shape of a layout's index.json. */
export const IndexSchema = z
  .object({ schemaVersion: z.literal(2), mediaType: z.string().optional(), manifests: z.array(DescriptorSchema) })
  .passthrough();
/** An image index. */
export type Index = z.infer<typeof IndexSchema>;

/** A parsed manifest document: an image manifest or an index of them. */
export type ManifestDoc = { kind: 'manifest'; manifest: Manifest } | { kind: 'index'; index: Index };

/** The annotation naming an image in an OCI layout's index.json. */
export const REF_NAME = 'org.opencontainers.image.ref.name';

/** `sha256:<hex>` of bytes. */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Parses raw manifest bytes; ERR_FAILED_PRECONDITION for schema 1 or anything else unusable. */
export function parseManifestDoc(bytes: Uint8Array | string, what: string): ManifestDoc {
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch {
    throw errors.failedPrecondition(`the manifest of image ${what} is not JSON`);
  }
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version === 1) throw errors.failedPrecondition(`image ${what} has a Docker schema 1 manifest, which is not supported; push it again with a current client`);
  if (Array.isArray((json as { manifests?: unknown }).manifests)) {
    const r = IndexSchema.safeParse(json);
    if (r.success) return { kind: 'index', index: r.data };
  }
  const r = ManifestSchema.safeParse(json);
  if (r.success) return { kind: 'manifest', manifest: r.data };
  throw errors.failedPrecondition(`the manifest of image ${what} is not an image manifest or index: ${r.error.issues[0]!.message} at ${r.error.issues[0]!.path.join('.')}`);
}

/** The OCI architecture name of a Node `process.arch`. */
export function ociArch(arch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };
  return map[arch] ?? arch;
}

/** The entry of an index for linux on `arch`; ERR_NOT_FOUND naming the platforms it has. */
export function choosePlatform(index: Index, what: string, arch = ociArch()): Descriptor {
  const found = index.manifests.find((d) => d.platform?.os === 'linux' && d.platform.architecture === arch);
  if (found) return found;
  const have = index.manifests.map((d) => (d.platform ? `${d.platform.os}/${d.platform.architecture}` : 'unknown')).join(', ');
  throw errors.notFound(`image ${what} has no linux/${arch} variant (it has: ${have || 'none'})`, { field: 'image' });
}

/** Compressed bytes of an image: its config plus all layers, as the manifest says. */
export function manifestBytes(m: Manifest): number {
  return m.config.size + m.layers.reduce((n, l) => n + l.size, 0);
}

/** The blobs an image manifest references (config and layers). */
export function manifestBlobs(m: Manifest): string[] {
  return [m.config.digest, ...m.layers.map((l) => l.digest)];
}

/** Layer media types umoci 0.4.7 cannot unpack (zstd), of a manifest's layers. Unknown types pass. */
export function unsupportedLayerTypes(m: Manifest): string[] {
  return [...new Set(m.layers.map((l) => l.mediaType ?? '').filter((t) => /zstd/i.test(t)))];
}
