/**
 * The node's image policy: which registries and OCI layouts jobs may use, when to pull, the
 * credentials file, size caps. It is node configuration, never taken from a job payload.
 */
import fs from '../os/local-fs.js';
import path from 'node:path';
import { z } from 'zod';
import { errors } from '../errors.js';
import { parseByteSize } from '../config/units.js';
import type { ImageRef } from './reference.js';

/** When to contact the registry: always (re-resolve tags), if-not-present (default), never. */
export const PullPolicy = z.enum(['always', 'if-not-present', 'never']);
/** One of the pull policies. */
export type PullPolicy = z.infer<typeof PullPolicy>;

const PATTERN = /^(?:\*|(?:\*\.)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::(?:\d{1,5}|\*))?|\[[a-f0-9:]+\](?::(?:\d{1,5}|\*))?)$/;

/** A registry pattern: `host`, `host:port`, `host:*` (any port), `*.example.com[:port|:*]`, or `*` (any registry). */
export const RegistryPattern = z
  .string()
  .transform((s) => s.toLowerCase())
  .refine((s) => PATTERN.test(s), (s) => ({ message: `Expected a registry pattern like \`registry.example:5000\`, \`*.example.com\` or \`host:*\`, got \`${s}\`` }));

const AbsDir = z.string().refine((s) => path.isAbsolute(s), (s) => ({ message: `Expected an absolute path, got \`${s}\`` }));

const ByteSize = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseByteSize(v, 'size');
  } catch (e) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
    return z.NEVER;
  }
});

/** The image policy schema (input → parsed, with defaults). */
export const ImagePolicySchema = z
  .object({
    /** Registries images may come from; default none (only `oci:` layouts under allowedLayouts). */
    allowedRegistries: z.array(RegistryPattern).default([]),
    /** Directories whose OCI layouts (`oci:/dir/…`) may be used. */
    allowedLayouts: z.array(AbsDir).default([]),
    pull: PullPolicy.default('if-not-present'),
    /** Credentials for skopeo (`--authfile`); node configuration only. */
    authFile: AbsDir.optional(),
    /** Registries reached over plain HTTP or with unverified TLS (`--src-tls-verify=false`). */
    insecureRegistries: z.array(RegistryPattern).default([]),
    /** Refuse an image whose compressed layers and config add up to more than this. */
    maxImageBytes: ByteSize.optional(),
    /** Garbage collection target of the whole store (blobs plus unpacked rootfs directories). */
    storeMaxBytes: ByteSize.optional(),
    /** Time limit of one registry operation (skopeo inspect or copy), ms; default 10 minutes. */
    timeoutMs: z.number().int().positive().default(600_000),
  })
  .strict();

/** A parsed image policy. */
export type ImagePolicy = z.output<typeof ImagePolicySchema>;
/** An image policy as written in configuration (defaults not yet applied). */
export type ImagePolicyInput = z.input<typeof ImagePolicySchema>;

/** Parses a policy; ERR_INVALID_ARGUMENT naming the bad field. */
export function parseImagePolicy(input: unknown): ImagePolicy {
  const r = ImagePolicySchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = ['imagePolicy', ...issue.path].join('.');
  throw errors.invalidArgument(`Invalid \`${field}\`: ${issue.message}`, { field });
}

/** True when the registry `host[:port]` matches `pattern` (see RegistryPattern). */
export function registryMatches(pattern: string, registry: string): boolean {
  const p = pattern.toLowerCase();
  const r = registry.toLowerCase();
  if (p === '*') return true;
  const [pHost, pPort] = splitHostPort(p);
  const [rHost, rPort] = splitHostPort(r);
  if (pPort !== '*' && pPort !== rPort) return false;
  if (pHost.startsWith('*.')) return rHost.endsWith(pHost.slice(1)) && rHost.length > pHost.length - 1;
  return pHost === rHost;
}

function splitHostPort(s: string): [string, string | undefined] {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(.+))?$/.exec(s);
  return m ? [m[1]!, m[2]] : [s, undefined];
}

/** True when skopeo must talk to `registry` without TLS verification. */
export function isInsecure(policy: ImagePolicy, registry: string): boolean {
  return policy.insecureRegistries.some((p) => registryMatches(p, registry));
}

/**
 * Checks that the policy allows `ref`: its registry is in allowedRegistries, or its layout lies
 * (after resolving symlinks) under one of allowedLayouts. Returns the path skopeo should read for an
 * `oci:` reference (the real path). ERR_PERMISSION_DENIED when forbidden; ERR_NOT_FOUND for an
 * allowed layout that does not exist.
 */
export async function checkAllowed(policy: ImagePolicy, ref: ImageRef): Promise<string | undefined> {
  if (ref.transport === 'docker') {
    const registry = ref.registry!;
    if (policy.allowedRegistries.some((p) => registryMatches(p, registry))) return undefined;
    const allowed = policy.allowedRegistries.length ? policy.allowedRegistries.join(', ') : 'none';
    throw errors.permissionDenied(
      `image ${ref.canonical} comes from registry ${registry}, which the node's image policy does not allow (allowed registries: ${allowed})`,
      { field: 'image', registry },
    );
  }
  const denied = () =>
    errors.permissionDenied(
      `image ${ref.canonical} is an OCI layout outside the node's allowed layout directories (${policy.allowedLayouts.join(', ') || 'none'})`,
      { field: 'image', layout: ref.repository },
    );
  const roots = await Promise.all(policy.allowedLayouts.map(async (d) => [path.resolve(d), await fs.realpath(d).catch(() => path.resolve(d))] as const));
  const under = (p: string) => roots.some(([lex, real]) => isUnder(p, lex) || isUnder(p, real));
  if (!under(ref.repository)) throw denied();
  const real = await fs.realpath(ref.repository).catch(() => undefined);
  if (real === undefined) throw errors.notFound(`OCI layout ${ref.repository} does not exist`, { field: 'image', layout: ref.repository });
  if (!roots.some(([, r]) => isUnder(real, r))) throw denied();
  return real;
}

function isUnder(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel));
}
