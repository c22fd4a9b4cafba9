/** Which images the checkpoints of a store were taken on: an image GC must keep those. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE, parseManifest } from './manifest.js';
import { SEQ_RE } from './fs-store.js';

/** The image digests (manifests' given rootfs identities) of every checkpoint under a store root: GC keeps those images. */
export async function storedImageDigests(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const ns of await fs.readdir(root).catch(() => [] as string[])) {
    for (const job of await fs.readdir(path.join(root, ns)).catch(() => [] as string[])) {
      for (const seq of (await fs.readdir(path.join(root, ns, job)).catch(() => [] as string[])).filter((n) => SEQ_RE.test(n))) {
        const text = await fs.readFile(path.join(root, ns, job, seq, MANIFEST_FILE), 'utf8').catch(() => undefined);
        if (!text) continue;
        try {
          const m = parseManifest(text, 'manifest');
          if (m.rootfs?.source === 'given') out.add(m.rootfs.digest);
        } catch {
          // an unreadable manifest names no image; verify() reports it where it matters
        }
      }
    }
  }
  return out;
}
