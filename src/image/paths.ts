/**
 * Where the image store keeps things under `<stateDir>/images/`:
 *
 *   oci/                       ONE OCI layout shared by all images (blobs deduplicated); its
 *                              index.json names each image `sha256-<hex>` (written only by stasis)
 *   meta/<hex>.json            one record per image (its presence commits a pull); mtime = last used
 *   refs/<key>.json            what a reference (tag) last resolved to
 *   rootfs/<hex>[-u<host>-<size>]/rootfs     unpacked, read-only by convention (an overlay's lower dir)
 *   rootfs/<…>/unpack.json     mapping, size and time of that unpack
 *   tmp/                       pulls and unpacks in progress (published by rename or linked in)
 *   locks/                     lock files (ref, image, layout)
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { unpackKey, type IdMapping } from './mapping.js';

/** The directories of one image store. */
export interface StorePaths {
  root: string;
  layout: string;
  blobs: string;
  meta: string;
  refs: string;
  rootfs: string;
  tmp: string;
  locks: string;
}

/** The paths of the store under `stateDir`. */
export function storePaths(stateDir: string): StorePaths {
  const root = path.join(path.resolve(stateDir), 'images');
  const layout = path.join(root, 'oci');
  return {
    root,
    layout,
    blobs: path.join(layout, 'blobs'),
    meta: path.join(root, 'meta'),
    refs: path.join(root, 'refs'),
    rootfs: path.join(root, 'rootfs'),
    tmp: path.join(root, 'tmp'),
    locks: path.join(root, 'locks'),
  };
}

/** The hex part of a sha256 digest. */
export function hexOf(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

/** The name of an image in the shared layout's index.json. */
export function layoutName(digest: string): string {
  return `sha256-${hexOf(digest)}`;
}

/** The file of a blob in a layout's blobs dir. */
export function blobFile(blobs: string, digest: string): string {
  return path.join(blobs, 'sha256', hexOf(digest));
}

/** The record file of an image. */
export function metaFile(p: StorePaths, digest: string): string {
  return path.join(p.meta, `${hexOf(digest)}.json`);
}

/** The record file of a reference (named by a hash of its canonical form). */
export function refFile(p: StorePaths, canonical: string): string {
  return path.join(p.refs, `${createHash('sha256').update(canonical).digest('hex').slice(0, 40)}.json`);
}

/** The directory of one unpack (holding rootfs/ and unpack.json). */
export function unpackDir(p: StorePaths, digest: string, mapping: IdMapping): string {
  return path.join(p.rootfs, unpackKey(digest, mapping));
}

/** Lock files: per reference, per image (its pull, unpacks and removal), and the layout's index.json. */
export const lockFile = {
  ref: (p: StorePaths, canonical: string) => path.join(p.locks, `ref-${path.basename(refFile(p, canonical), '.json')}.lock`),
  image: (p: StorePaths, digest: string) => path.join(p.locks, `image-${hexOf(digest)}.lock`),
  layout: (p: StorePaths) => path.join(p.locks, 'layout.lock'),
};
