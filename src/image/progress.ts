/**
 * Progress of a pull. skopeo prints no byte counts when its output is not a terminal, so progress is
 * read from the disk instead: blobs of the image already in the shared blob dir count as done, and
 * skopeo's temporary `oci-put-blob*` files in the pull's private staging dir as partly done.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Descriptor } from './manifest.js';
import { blobFile } from './paths.js';

/** One progress report of ensure(). */
export interface PullProgress {
  /** The canonical reference being ensured. */
  ref: string;
  phase: 'resolving' | 'pulling' | 'unpacking' | 'done';
  layersDone: number;
  layersTotal: number;
  /** Compressed bytes of config and layers already in the store. */
  bytesDone: number;
  bytesTotal: number;
}

/** Receives progress reports; must not throw. */
export type ProgressListener = (p: PullProgress) => void;

/** Measures how far a pull is: blobs present in `blobs`, plus temporary files in `staging`. */
export async function measurePull(o: { blobs: string; staging: string; config: Descriptor; layers: Descriptor[] }): Promise<{ layersDone: number; bytesDone: number }> {
  const present = async (d: Descriptor) => (await fs.stat(blobFile(o.blobs, d.digest)).catch(() => undefined))?.isFile() === true;
  let layersDone = 0;
  let bytesDone = (await present(o.config)) ? o.config.size : 0;
  for (const l of o.layers) {
    if (await present(l)) {
      layersDone++;
      bytesDone += l.size;
    }
  }
  for (const name of await fs.readdir(o.staging).catch(() => [] as string[])) {
    if (!name.startsWith('oci-put-blob')) continue;
    bytesDone += (await fs.stat(path.join(o.staging, name)).catch(() => undefined))?.size ?? 0;
  }
  const bytesTotal = o.config.size + o.layers.reduce((n, l) => n + l.size, 0);
  return { layersDone, bytesDone: Math.min(bytesDone, bytesTotal) };
}

/** Reports measurePull every `intervalMs` until stopped; stop() sends a last report. */
export function watchPull(
  o: { ref: string; blobs: string; staging: string; config: Descriptor; layers: Descriptor[]; onProgress: ProgressListener },
  intervalMs = 200,
): { stop(): Promise<void> } {
  const bytesTotal = o.config.size + o.layers.reduce((n, l) => n + l.size, 0);
  let busy: Promise<void> = Promise.resolve();
  const report = () => {
    busy = busy.then(async () => {
      const m = await measurePull(o);
      o.onProgress({ ref: o.ref, phase: 'pulling', layersTotal: o.layers.length, bytesTotal, ...m });
    }).catch(() => undefined);
  };
  report();
  const timer = setInterval(report, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      report();
      await busy;
    },
  };
}
