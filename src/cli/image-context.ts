/** What every `stasis image …` command shares: the flags, the store under --state-dir, the policy. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../errors.js';
import { parseImagePolicy, type ImagePolicy, type ImagePolicyInput } from '../image/policy.js';
import { parseImageRef } from '../image/reference.js';
import { ImageStore } from '../image/store.js';
import { parseByteSize } from '../config/units.js';
import { GLOBAL_OPTIONS, resolveGlobals, type GlobalFlagValues } from './args.js';
import type { CliIO } from './command.js';

/** Flags of every image command. */
export const IMAGE_OPTIONS = { 'state-dir': GLOBAL_OPTIONS['state-dir'], namespace: GLOBAL_OPTIONS.namespace, json: GLOBAL_OPTIONS.json } as const;

/** Flags that shape the policy of `image pull`. */
export const POLICY_OPTIONS = {
  policy: { type: 'string' },
  insecure: { type: 'boolean' },
  authfile: { type: 'string' },
  'max-image-bytes': { type: 'string' },
} as const;

/** The store of the state dir and the output helpers. */
export async function imageContext(values: GlobalFlagValues, io: CliIO) {
  const g = resolveGlobals(values, io.env);
  const store = await ImageStore.open({ stateDir: g.stateDir });
  return { store, json: g.json, out: (s: string) => io.stdout.write(s) };
}

/** Reads a policy file (JSON); ERR_INVALID_ARGUMENT naming the file when it is unreadable or invalid. */
export async function readPolicyFile(file: string): Promise<ImagePolicy> {
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw errors.invalidArgument(`cannot read the image policy ${file}: ${(e as Error).message}`, { field: 'policy' });
  }
  return parseImagePolicy(json);
}

/**
 * The policy of an operator's `image pull`: the node's policy file when given (--policy or
 * STASIS_IMAGE_POLICY); otherwise the operator's explicit reference is trusted (its registry or
 * layout is allowed) and tags are resolved again (pull always). Flags override either.
 */
export async function pullPolicy(
  refText: string,
  v: { policy?: string | undefined; insecure?: boolean | undefined; authfile?: string | undefined; 'max-image-bytes'?: string | undefined },
  env: NodeJS.ProcessEnv,
): Promise<ImagePolicy> {
  const ref = parseImageRef(refText);
  const file = v.policy ?? env.STASIS_IMAGE_POLICY;
  const base: ImagePolicyInput = file
    ? await readPolicyFile(file)
    : ref.transport === 'docker'
      ? { allowedRegistries: [ref.registry!], pull: 'always' }
      : { allowedLayouts: [ref.repository], pull: 'always' };
  const insecure = v.insecure && ref.registry ? [...(base.insecureRegistries ?? []), ref.registry] : base.insecureRegistries;
  return parseImagePolicy({
    ...base,
    ...(insecure ? { insecureRegistries: insecure } : {}),
    ...(v.authfile ? { authFile: path.resolve(v.authfile) } : {}),
    ...(v['max-image-bytes'] ? { maxImageBytes: parseByteSize(v['max-image-bytes'], 'max-image-bytes') } : {}),
  });
}

/** Parses `--map HOSTID:SIZE` into an id mapping (null when absent). */
export function parseMapFlag(v: string | undefined): { hostId: number; size: number } | null {
  if (v === undefined) return null;
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m) throw errors.invalidArgument(`Expected \`--map\` to be HOSTID:SIZE like \`100000:65536\`, got \`${v}\``, { field: 'map', usage: true });
  return { hostId: Number(m[1]), size: Number(m[2]) };
}
