/**
 * Retention of what a node keeps on disk after its tasks are gone: finished tasks' logs
 * (<state>/logs/<namespace>/<task>.log) and logs of failed restores (<state>/failures/). Oldest files
 * go first: everything older than `maxAgeMs`, then more until the directory is under `maxBytes`.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** How long and how much a node keeps. */
export interface RetentionOptions {
  maxAgeMs: number;
  maxBytes: number;
}

/** What a prune removed. */
export interface PruneReport {
  removed: number;
  freedBytes: number;
  keptBytes: number;
}

async function files(dir: string): Promise<{ file: string; size: number; mtimeMs: number }[]> {
  const out: { file: string; size: number; mtimeMs: number }[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (e.isFile()) {
      const st = await fs.stat(p).catch(() => undefined);
      if (st) out.push({ file: p, size: st.size, mtimeMs: st.mtimeMs });
    }
  }
  return out;
}

/** Prunes `dir` (recursively) to the retention limits; empty subdirectories go too. Never throws. */
export async function pruneDir(dir: string, o: RetentionOptions, now = Date.now()): Promise<PruneReport> {
  const all = (await files(dir)).sort((a, b) => a.mtimeMs - b.mtimeMs);
  let kept = all.reduce((n, f) => n + f.size, 0);
  const report: PruneReport = { removed: 0, freedBytes: 0, keptBytes: kept };
  for (const f of all) {
    if (now - f.mtimeMs <= o.maxAgeMs && kept <= o.maxBytes) break;
    if (await fs.rm(f.file, { force: true }).then(() => true, () => false)) {
      report.removed++;
      report.freedBytes += f.size;
      kept -= f.size;
    }
  }
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) await fs.rmdir(path.join(dir, e.name)).catch(() => undefined);
  }
  report.keptBytes = kept;
  return report;
}
