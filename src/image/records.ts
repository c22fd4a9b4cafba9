/**
 * The store's own small JSON records (image, reference, unpack), written atomically (temporary
 * file + rename) so readers in other threads and processes see the old or the new file, never half.
 */
import { randomUUID } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { errors } from '../errors.js';
import { IdMappingSchema } from './mapping.js';

const Digest = z.string().regex(/^sha256:[a-f0-9]{64}$/);

/** One pulled image. Its file's presence commits the pull; the file's mtime is its last use. */
export const ImageRecordSchema = z.object({
  /** The image's digest: of the manifest (or index) its reference resolved to at the source. */
  digest: Digest,
  /** The digest of the image manifest stored in the layout (differs for an index, or a Docker manifest skopeo converted to OCI). */
  manifestDigest: Digest,
  /** The reference it was first pulled as (canonical). */
  source: z.string(),
  /** Compressed size of config plus layers. */
  sizeBytes: z.number().int().nonnegative(),
  pulledAt: z.string(),
});
/** One pulled image. */
export type ImageRecord = z.infer<typeof ImageRecordSchema>;

/** What a reference resolved to the last time it was resolved. */
export const RefRecordSchema = z.object({ ref: z.string(), digest: Digest, resolvedAt: z.string() });
/** What a reference resolved to. */
export type RefRecord = z.infer<typeof RefRecordSchema>;

/** One unpacked rootfs directory. */
export const UnpackRecordSchema = z.object({
  digest: Digest,
  mapping: IdMappingSchema.nullable(),
  /** Bytes of the unpacked files (apparent size). */
  sizeBytes: z.number().int().nonnegative(),
  unpackedAt: z.string(),
});
/** One unpacked rootfs directory. */
export type UnpackRecord = z.infer<typeof UnpackRecordSchema>;

/** Largest record or JSON blob the store reads (an image manifest or config is far smaller). */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;

/** Writes JSON to `file` atomically (temporary sibling, then rename). */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;
  try {
    await fs.writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Reads at most `max` bytes of a regular file; ERR_FAILED_PRECONDITION when it is bigger. */
export async function readCapped(file: string, max = MAX_JSON_BYTES): Promise<Buffer> {
  // Synchronous calls (at most `max` bytes): a job from a cached image reads several such files on
  // its way to the pool, and each thread-pool round trip yields the busy main thread (src/os/local-fs.ts).
  // O_NONBLOCK, so that a FIFO in a layout cannot hold the thread in open(); fstat refuses it below.
  const fd = fsSync.openSync(file, fsSync.constants.O_RDONLY | fsSync.constants.O_NONBLOCK);
  try {
    const st = fsSync.fstatSync(fd);
    if (!st.isFile()) throw errors.failedPrecondition(`${file} is not a regular file`);
    if (st.size > max) throw errors.failedPrecondition(`${file} is ${st.size} bytes, more than the ${max} the image store reads`);
    const buf = Buffer.alloc(st.size);
    const bytesRead = fsSync.readSync(fd, buf, 0, st.size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    fsSync.closeSync(fd);
  }
}

/** Reads and validates a record; undefined when the file does not exist; ERR_INTERNAL when it is corrupt. */
export async function readRecord<S extends z.ZodTypeAny>(file: string, schema: S): Promise<z.output<S> | undefined> {
  let buf: Buffer;
  try {
    buf = await readCapped(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch {
    throw errors.internal(`image store record ${file} is not JSON`, { path: file });
  }
  const r = schema.safeParse(json);
  if (!r.success) throw errors.internal(`image store record ${file} is invalid: ${r.error.issues[0]!.message}`, { path: file });
  return r.data as z.output<S>;
}
