/**
 * Id mappings of unpacked rootfs directories. `null` keeps the image's owners (host ids); otherwise
 * container ids 0..size-1 are host ids hostId..hostId+size-1, and umoci writes the files with the
 * shifted owners, so a task in a user namespace with the same mapping sees the image's own owners.
 */
import { z } from 'zod';
import { errors } from '../errors.js';

const MAX_ID = 2 ** 32 - 2;

/** A container-to-host id range shared by uids and gids, or null for host ids. */
export type IdMapping = { hostId: number; size: number } | null;

/** The schema of a non-null id mapping. */
export const IdMappingSchema = z
  .object({ hostId: z.number().int().nonnegative(), size: z.number().int().positive() })
  .strict()
  .refine((m) => m.hostId + m.size - 1 <= MAX_ID, { message: 'Expected `hostId + size - 1` to be at most 4294967294' });

/** Validates a mapping; ERR_INVALID_ARGUMENT naming `mapping` when it is not one. */
export function checkMapping(m: unknown): IdMapping {
  if (m === null || m === undefined) return null;
  const r = IdMappingSchema.safeParse(m);
  if (r.success) return r.data;
  throw errors.invalidArgument(`Expected \`mapping\` to be null or { hostId, size } with whole numbers (size at least 1), got \`${JSON.stringify(m)}\`: ${r.error.issues[0]!.message}`, { field: 'mapping' });
}

/** The name of an unpacked rootfs directory: `<digest hex>` or `<digest hex>-u<hostId>-<size>`. */
export function unpackKey(digest: string, mapping: IdMapping): string {
  const hex = digest.replace(/^sha256:/, '');
  return mapping === null ? hex : `${hex}-u${mapping.hostId}-${mapping.size}`;
}

/** The digest and mapping a directory name stands for; undefined for other names. */
export function parseUnpackKey(name: string): { digest: string; mapping: IdMapping } | undefined {
  const m = /^([a-f0-9]{64})(?:-u(\d+)-(\d+))?$/.exec(name);
  if (!m) return undefined;
  const mapping = m[2] === undefined ? null : { hostId: Number(m[2]), size: Number(m[3]) };
  return { digest: `sha256:${m[1]}`, mapping };
}

/** The host id of container id `id` under `mapping` (host ids unchanged for null); undefined when unmapped. */
export function hostIdOf(id: number, mapping: IdMapping): number | undefined {
  if (mapping === null) return id;
  return id >= 0 && id < mapping.size ? mapping.hostId + id : undefined;
}

/** `hostId:size` text, for CLI flags and messages. */
export function formatMapping(m: IdMapping): string {
  return m === null ? 'host ids' : `0:${m.hostId}:${m.size}`;
}
