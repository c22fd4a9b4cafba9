/**
 * Images in use by a mount: an overlay whose lowerdir (or any mount whose source or mount point) is
 * an unpacked rootfs of the store. The runtime mounts task overlays in the node's mount namespace,
 * so /proc/self/mountinfo shows every rootfs a running task stands on, whoever started it.
 */
import fs from 'node:fs/promises';
import { parseUnpackKey } from './mapping.js';

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The image digests whose unpacked rootfs under `rootfsDir` appears in mountinfo `text` (pure). */
export function mountedDigests(text: string, rootfsDir: string): Set<string> {
  const plain = text.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const re = new RegExp(`${escapeRe(rootfsDir.replace(/\/+$/, ''))}/([a-f0-9]{64}(?:-u\\d+-\\d+)?)(?=/|[\\s,:]|$)`, 'gm');
  const out = new Set<string>();
  for (const m of plain.matchAll(re)) {
    const k = parseUnpackKey(m[1]!);
    if (k) out.add(k.digest);
  }
  return out;
}

/** The digests of images mounted on this node right now (empty when mountinfo is unreadable). */
export async function readMountedDigests(rootfsDir: string): Promise<Set<string>> {
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return mountedDigests(text, rootfsDir);
}
