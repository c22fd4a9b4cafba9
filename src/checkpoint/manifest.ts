/** manifest.json of a stored checkpoint: who made it, on what host, and a digest of every file. */
import { z } from 'zod';
import { errors } from '../errors.js';

/** File name of the manifest inside a stored checkpoint directory. */
export const MANIFEST_FILE = 'manifest.json';
/** The manifest format this code writes and reads. */
export const MANIFEST_VERSION = 1;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

/** One entry of a checkpoint directory: a regular file with its digest, or a symlink with its target. */
export const ManifestEntrySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('file'), path: z.string().min(1), size: z.number().int().nonnegative(), sha256: Sha256 }),
  z.object({ type: z.literal('symlink'), path: z.string().min(1), target: z.string() }),
]);
/** One entry of a checkpoint directory. */
export type ManifestEntry = z.infer<typeof ManifestEntrySchema>;

/** What a restoring host must match: CRIU, runc, kernel, architecture and CPU features. */
export const HostInfoSchema = z.object({
  arch: z.string().min(1),
  kernel: z.object({ release: z.string().min(1) }),
  criu: z.object({ version: z.string().min(1) }),
  runc: z.object({ version: z.string().min(1), commit: z.string().optional(), spec: z.string().optional() }),
  cpu: z.object({ vendor: z.string(), model: z.string(), flags: z.array(z.string()) }),
});
/** Versions and CPU features of a host (see host-info.ts). */
export type HostInfo = z.infer<typeof HostInfoSchema>;

/** Identity of the read-only rootfs a checkpoint was taken on. */
export const RootfsIdentitySchema = z.object({
  path: z.string().min(1),
  /** `sha256:<hex>` of a listing (names, types, modes, owners, sizes, link targets) or a caller-given image digest. */
  digest: z.string().min(1),
  source: z.enum(['listing', 'given']),
});
/** Identity of a rootfs. */
export type RootfsIdentity = z.infer<typeof RootfsIdentitySchema>;

/** manifest.json, version 1. */
export const ManifestSchema = z.object({
  format: z.literal('stasis-checkpoint'),
  version: z.literal(MANIFEST_VERSION),
  namespace: z.string().min(1),
  jobId: z.string().min(1),
  taskId: z.string(),
  seq: z.number().int().positive(),
  createdAt: z.string().datetime({ offset: true }),
  nodeId: z.string().min(1),
  host: HostInfoSchema,
  rootfs: RootfsIdentitySchema.nullable(),
  /** Every file of the checkpoint directory except manifest.json, sorted by path. */
  files: z.array(ManifestEntrySchema),
  totalBytes: z.number().int().nonnegative(),
  /** Free-form labels, e.g. { reason: 'migrate' }. */
  labels: z.record(z.string()).default({}),
  /** checkpoint.json (CheckpointMeta) as the runtime wrote it, when present. */
  checkpoint: z.record(z.unknown()).optional(),
});
/** A parsed manifest. */
export type Manifest = z.infer<typeof ManifestSchema>;

/** Formats zod issues as `field: message; …`. */
export function formatIssues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** Parses manifest JSON text (or an already parsed value); ERR_CHECKPOINT naming `where` when invalid. */
export function parseManifest(input: string | unknown, where = MANIFEST_FILE): Manifest {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw errors.checkpoint(`${where} is not valid JSON: ${(e as Error).message}`, { file: where });
    }
  }
  const v = (value as { version?: unknown } | null)?.version;
  if (typeof v === 'number' && v !== MANIFEST_VERSION) {
    throw errors.checkpoint(`${where} has format version ${v}; this stasis reads version ${MANIFEST_VERSION}`, {
      file: where,
    });
  }
  const r = ManifestSchema.safeParse(value);
  if (!r.success) throw errors.checkpoint(`${where} is not a valid checkpoint manifest: ${formatIssues(r.error)}`, { file: where });
  return r.data;
}
