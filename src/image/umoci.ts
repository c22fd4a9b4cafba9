/**
 * umoci: argv from typed options (pure) and the one place that runs it.
 *
 * The store uses `umoci raw unpack` (not `umoci unpack`): it writes only the rootfs, without the
 * runtime config.json (which stasis writes itself) and without the mtree manifest, for which umoci
 * hashes every file and which only `umoci repack` needs. It runs as root and not `--rootless`, so
 * owners, setuid/setgid bits, device nodes and xattrs come out as in the image, shifted by
 * `--uid-map/--gid-map 0:HOST:SIZE` when a mapping is given (checked with umoci 0.4.7).
 */
import { errors } from '../errors.js';
import { formatMapping, type IdMapping } from './mapping.js';
import type { ImageTools } from './tools.js';

/** argv of `umoci raw unpack` of `layout:name` into `rootfs` (whose parent must exist). */
export function unpackArgs(o: { layout: string; name: string; rootfs: string; mapping: IdMapping }): string[] {
  const map = o.mapping === null ? [] : [`0:${o.mapping.hostId}:${o.mapping.size}`];
  return [
    '--log=error',
    'raw',
    'unpack',
    ...map.flatMap((m) => ['--uid-map', m, '--gid-map', m]),
    '--image',
    `${o.layout}:${o.name}`,
    o.rootfs,
  ];
}

/** The last error line of umoci's output (`⨯ create rootfs: …`), cleaned of its bullet. */
export function umociMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.replace(/^\s*[•⨯]\s*/, '').trim()).filter(Boolean);
  return lines[lines.length - 1] ?? 'no output';
}

/** Unpacks `layout:name` into `rootfs`; ERR_FAILED_PRECONDITION when owners fall outside the mapping. */
export async function umociUnpack(tools: ImageTools, o: { layout: string; name: string; rootfs: string; mapping: IdMapping; image: string }): Promise<void> {
  const args = unpackArgs(o);
  const r = await tools.run({ file: tools.umoci, args });
  if (r.exitCode === 0) return;
  const argv = [tools.umoci, ...args];
  if (r.notFound) throw errors.unavailable(`umoci is not installed at ${tools.umoci} (install package umoci: npm run setup)`, { argv });
  const msg = umociMessage(r.stderr);
  const d = { argv, exitCode: r.exitCode, runtimeError: msg };
  if (/cannot be mapped to a host id/.test(msg)) {
    throw errors.failedPrecondition(`image ${o.image} has files whose owner is outside the id mapping ${formatMapping(o.mapping)}: ${msg}`, { ...d, field: 'mapping' });
  }
  if (/not correct mediatype/.test(msg)) throw errors.failedPrecondition(`image ${o.image} has a layer umoci cannot unpack: ${msg}`, d);
  throw errors.runtime(`umoci could not unpack image ${o.image}: ${msg}`, d);
}
