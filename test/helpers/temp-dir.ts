/** A fresh temporary directory for each test of a describe block, removed after it. */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/** Registers the hooks; the returned function gives the current test's directory. */
export function useTempDir(prefix: string): () => string {
  let dir = '';
  beforeEach(async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  });
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true });
  });
  return () => dir;
}
