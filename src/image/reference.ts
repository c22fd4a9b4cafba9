/**
 * Image references: `registry.example:5000/team/tool:1.4`, `name@sha256:<64 hex>`, `busybox`
 * (Docker Hub, `docker.io/library/…`), and `oci:/abs/path/to/layout[:tag]` for an OCI layout on
 * the node. Parsing is pure; it follows the grammar of distribution/reference.
 */
import path from 'node:path';
import { z } from 'zod';
import { errors } from '../errors.js';

/** A parsed, normalized image reference. */
export interface ImageRef {
  /** `docker`: a registry; `oci`: an OCI image layout directory on this node. */
  transport: 'docker' | 'oci';
  /** Registry host[:port] (docker only), normalized: `docker.io` for Docker Hub. */
  registry?: string;
  /** Repository path in the registry (`team/tool`, `library/busybox`), or the layout's absolute path (oci). */
  repository: string;
  /** Tag (`1.4`); `latest` when a docker reference names neither tag nor digest. */
  tag?: string;
  /** `sha256:<64 hex>` when the reference pins a digest. */
  digest?: string;
  /** The normalized reference, usable as a key: `docker.io/library/busybox:latest`, `oci:/srv/img:v1`. */
  canonical: string;
}

/** Docker Hub's canonical registry name. */
export const DOCKER_HUB = 'docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::\d{1,5})?$/;
const MAX_NAME = 255;

/** True for a `sha256:<64 lowercase hex>` digest. */
export function isDigest(v: string): boolean {
  return DIGEST.test(v);
}

/** The outcome of parsing: the reference, or why it is not one. */
export type ParseResult = { ok: true; ref: ImageRef } | { ok: false; reason: string };

/** Parses `input` into an ImageRef, or says why it is not a reference (never throws). */
export function tryParseImageRef(input: string): ParseResult {
  if (typeof input !== 'string' || input.trim() === '') return { ok: false, reason: 'it is empty' };
  if (input !== input.trim() || /[\s\0]/.test(input)) return { ok: false, reason: 'it contains white space or NUL' };
  if (input.startsWith('oci:')) return parseOci(input.slice(4));
  return parseDocker(input.startsWith('docker://') ? input.slice('docker://'.length) : input);
}

/** Parses `input` into an ImageRef; ERR_INVALID_ARGUMENT naming `field` when it is not one. */
export function parseImageRef(input: string, field = 'image'): ImageRef {
  const r = tryParseImageRef(input);
  if (r.ok) return r.ref;
  throw errors.invalidArgument(
    `Expected \`${field}\` to be an image reference like \`registry.example:5000/team/tool:1.4\`, \`name@sha256:<64 hex>\` or \`oci:/path/to/layout:tag\`, got \`${String(input)}\`: ${r.reason}`,
    { field },
  );
}

/** A zod string that must be an image reference (for payload and config schemas). */
export const ImageRefString = z.string().superRefine((v, ctx) => {
  const r = tryParseImageRef(v);
  if (!r.ok) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `Expected an image reference like \`registry.example:5000/team/tool:1.4\`, got \`${v}\`: ${r.reason}` });
});

function parseOci(rest: string): ParseResult {
  const colon = rest.indexOf(':');
  const dir = colon < 0 ? rest : rest.slice(0, colon);
  const tag = colon < 0 ? undefined : rest.slice(colon + 1);
  if (!path.isAbsolute(dir)) return { ok: false, reason: 'an oci: layout path must be absolute' };
  if (dir.split('/').includes('..')) return { ok: false, reason: 'an oci: layout path must not contain `..`' };
  if (tag !== undefined && !TAG.test(tag)) return { ok: false, reason: `\`${tag}\` is not a valid tag (letters, digits, _ . -, at most 128)` };
  const repository = path.normalize(dir).replace(/\/+$/, '') || '/';
  const canonical = `oci:${repository}${tag === undefined ? '' : `:${tag}`}`;
  return { ok: true, ref: { transport: 'oci', repository, ...(tag === undefined ? {} : { tag }), canonical } };
}

function parseDocker(s: string): ParseResult {
  let name = s;
  let digest: string | undefined;
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!DIGEST.test(digest)) return { ok: false, reason: `\`${digest}\` is not a digest like sha256:<64 lowercase hex>` };
  }
  let tag: string | undefined;
  const lastSlash = name.lastIndexOf('/');
  const lastColon = name.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = name.slice(lastColon + 1);
    name = name.slice(0, lastColon);
    if (!TAG.test(tag)) return { ok: false, reason: `\`${tag}\` is not a valid tag (letters, digits, _ . -, at most 128)` };
  }
  if (name === '') return { ok: false, reason: 'the repository name is empty' };
  const parts = name.split('/');
  let registry = DOCKER_HUB;
  if (parts.length > 1 && (/[.:]/.test(parts[0]!) || parts[0] === 'localhost')) {
    registry = parts.shift()!;
    if (!HOST.test(registry)) return { ok: false, reason: `\`${registry}\` is not a registry host[:port]` };
    if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  }
  if (parts.length === 0 || parts[0] === '') return { ok: false, reason: 'the repository name is empty' };
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const c of parts) {
    if (c !== c.toLowerCase()) return { ok: false, reason: 'the repository name must be lowercase' };
    if (!COMPONENT.test(c)) return { ok: false, reason: `\`${c}\` is not a valid repository path component` };
  }
  const repository = parts.join('/');
  if (`${registry}/${repository}`.length > MAX_NAME) return { ok: false, reason: `the name is longer than ${MAX_NAME} characters` };
  if (tag === undefined && digest === undefined) tag = 'latest';
  const canonical = `${registry}/${repository}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
  return {
    ok: true,
    ref: { transport: 'docker', registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}), canonical },
  };
}

/** The skopeo transport string of a reference: `docker://host/repo:tag`, `oci:/dir:tag`. */
export function transportString(ref: ImageRef, pin?: string): string {
  if (ref.transport === 'oci') return `oci:${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}`;
  const name = `${ref.registry}/${ref.repository}`;
  const digest = pin ?? ref.digest;
  return `docker://${name}${digest ? `@${digest}` : `:${ref.tag ?? 'latest'}`}`;
}

/** The name of the reference without tag or digest (`docker.io/library/busybox`, `oci:/dir`). */
export function repositoryName(ref: ImageRef): string {
  return ref.transport === 'oci' ? `oci:${ref.repository}` : `${ref.registry}/${ref.repository}`;
}
