/** Compares the entries a manifest lists with the entries found on disk. */
import { errors } from '../errors.js';
import type { ManifestEntry } from './manifest.js';

/** One difference between a manifest and the directory. */
export interface VerifyProblem {
  file: string;
  problem: 'missing' | 'extra' | 'changed';
}

function sameEntry(a: ManifestEntry, b: ManifestEntry): boolean {
  if (a.type === 'file' && b.type === 'file') return a.size === b.size && a.sha256 === b.sha256;
  if (a.type === 'symlink' && b.type === 'symlink') return a.target === b.target;
  return false;
}

/** The differences between `expected` (manifest) and `actual` (disk), sorted by file. */
export function diffEntries(expected: readonly ManifestEntry[], actual: readonly ManifestEntry[]): VerifyProblem[] {
  const want = new Map(expected.map((e) => [e.path, e]));
  const have = new Map(actual.map((e) => [e.path, e]));
  const out: VerifyProblem[] = [];
  for (const [p, w] of want) {
    const h = have.get(p);
    if (!h) out.push({ file: p, problem: 'missing' });
    else if (!sameEntry(w, h)) out.push({ file: p, problem: 'changed' });
  }
  for (const p of have.keys()) if (!want.has(p)) out.push({ file: p, problem: 'extra' });
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

function sentence(p: VerifyProblem): string {
  switch (p.problem) {
    case 'missing':
      return `${p.file} is listed in the manifest but missing`;
    case 'extra':
      return `${p.file} is not listed in the manifest`;
    case 'changed':
      return `${p.file} does not match its digest in the manifest (tampered or corrupt)`;
  }
}

/** Throws ERR_CHECKPOINT naming every tampered, missing or extra file; `name` identifies the checkpoint. */
export function verifyEntries(
  expected: readonly ManifestEntry[],
  actual: readonly ManifestEntry[],
  name: string,
  dir: string,
): void {
  const problems = diffEntries(expected, actual);
  if (problems.length === 0) return;
  throw errors.checkpoint(`Checkpoint ${name} failed verification: ${problems.map(sentence).join('; ')}.`, {
    path: dir,
    file: problems[0]!.file,
    files: problems.map((p) => p.file),
    problems,
  });
}
