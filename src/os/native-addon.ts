/**
 * Loading the node's Node-API addons (native/*.c, built into native/build by `npm run build` where a
 * C compiler is). Each is optional: a caller that gets null does the same work without it.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const loaded = new Map<string, unknown>();

/** native/build/<file> when it is built, else null. native/ is beside src/ (vitest) or beside dist/ (the build). */
export function nativeFile(file: string): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return ['../..', '../../..'].map((up) => path.resolve(here, up, 'native', 'build', file)).find((f) => fs.existsSync(f)) ?? null;
}

/** native/build/<name>.node when it is built, else null (loaded once per thread). */
export function loadAddon<T>(name: string): T | null {
  if (loaded.has(name)) return loaded.get(name) as T | null;
  const file = nativeFile(`${name}.node`);
  const addon = file ? (createRequire(import.meta.url)(file) as T) : null;
  loaded.set(name, addon);
  return addon;
}
