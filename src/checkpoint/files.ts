/** Small file helpers of the directory store: its checkpoint.json reader and a durable write. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../errors.js';
import { CHECKPOINT_LAYOUT } from './layout.js';

/** True when `e` is a Node error with one of these codes. */
export function isErrno(e: unknown, ...codes: string[]): boolean {
  return typeof e === 'object' && e !== null && codes.includes(String((e as NodeJS.ErrnoException).code));
}

/** checkpoint.json of a checkpoint directory as a plain object, if present. */
export async function readMeta(dir: string): Promise<Record<string, unknown> | undefined> {
  const file = path.join(dir, CHECKPOINT_LAYOUT.meta);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw errors.checkpoint(`${CHECKPOINT_LAYOUT.meta} in ${dir} is not a JSON object`, { file: CHECKPOINT_LAYOUT.meta });
}

/** Writes a file under a temporary name, fsyncs it and renames it into place (`mode`: of a new file). */
export async function writeFileDurably(file: string, text: string, mode?: number): Promise<void> {
  const tmp = `${file}.tmp-${randomUUID().slice(0, 8)}`;
  const h = await fs.open(tmp, 'w', mode);
  try {
    await h.writeFile(text);
    await h.sync();
  } finally {
    await h.close();
  }
  await fs.rename(tmp, file);
}
