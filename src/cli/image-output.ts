/** Output of `stasis image …`: the image table, the pull summary and the pull progress line. Pure except ProgressLine. */
import { assertNever } from '../errors.js';
import type { EnsuredImage } from '../image/store.js';
import type { ImageInfo } from '../image/inventory.js';
import { formatMapping } from '../image/mapping.js';
import type { PullProgress } from '../image/progress.js';
import { formatBytes } from '../config/units.js';
import { formatKeyValues, formatTable } from './output.js';

/** The first 12 hex characters of a digest, as docker shows image ids. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** `stasis image ls`: one row per image (its references joined by commas). */
export function formatImageList(images: Omit<ImageInfo, 'lastUsedMs'>[]): string {
  const rows = images.map((i) => [
    i.refs.join(', ') || '<none>',
    shortDigest(i.digest),
    formatBytes(i.sizeBytes),
    i.unpacked.length ? i.unpacked.map((u) => `${formatMapping(u.mapping)} (${formatBytes(u.sizeBytes)})`).join(', ') : '-',
    i.lastUsedAt,
  ]);
  return formatTable(['REFERENCE', 'DIGEST', 'SIZE', 'UNPACKED', 'LAST USED'], rows);
}

/** `stasis image pull`: what was pulled and where its rootfs is. */
export function formatEnsured(e: Omit<EnsuredImage, 'config'>): string {
  return formatKeyValues([
    ['image', e.ref],
    ['digest', e.digest],
    ['size', `${formatBytes(e.sizeBytes)} compressed${e.pulled ? '' : ' (already in the store)'}`],
    ['rootfs', `${e.rootfs}${e.unpacked ? '' : ' (already unpacked)'}`],
  ]);
}

/** One progress line: `pulling REF [#####-----] 12.5MiB/50MiB 3/6 layers`. */
export function formatPullProgress(p: PullProgress, width = 24): string {
  switch (p.phase) {
    case 'resolving':
      return `resolving ${p.ref}`;
    case 'unpacking':
      return `unpacking ${p.ref}`;
    case 'done':
      return `done ${p.ref}`;
    case 'pulling': {
      const frac = p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : 1;
      const filled = Math.round(frac * width);
      const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
      return `pulling ${p.ref} [${bar}] ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)} ${p.layersDone}/${p.layersTotal} layers`;
    }
    default:
      return assertNever(p.phase);
  }
}

/** A progress line rewritten in place on a terminal; silent when the stream is not a TTY. */
export class ProgressLine {
  private last = '';
  private lastAt = 0;
  private readonly enabled: boolean;

  constructor(private readonly out: NodeJS.WritableStream, enabled?: boolean) {
    this.enabled = enabled ?? (out as { isTTY?: boolean }).isTTY === true;
  }

  /** Shows `p` (at most ten times a second, except on a phase change or when a pull completes). */
  update(p: PullProgress): void {
    if (!this.enabled) return;
    const line = formatPullProgress(p);
    const now = Date.now();
    const phaseChanged = line.split(' ')[0] !== this.last.split(' ')[0];
    const complete = p.phase === 'pulling' && p.bytesDone === p.bytesTotal;
    if (line === this.last || (!phaseChanged && !complete && now - this.lastAt < 100)) return;
    this.out.write(`\r\x1b[K${line}`);
    this.last = line;
    this.lastAt = now;
  }

  /** Ends the line (a newline, if anything was shown). */
  end(): void {
    if (this.enabled && this.last) this.out.write('\n');
    this.last = '';
  }
}
