/**
 * Loading a node policy: a JSON file (`--policy FILE` / STASIS_POLICY), then single settings from the
 * environment, then flags; later sources win. Errors name the file and the field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errors } from '../errors.js';
import { DEFAULT_USERNS, type IdMapping } from '../config/schema.js';
import { parseUsernsSetting } from '../config/load.js';
import { NodePolicySchema, type NodePolicy, type NodePolicyInput } from './schema.js';

/** Policy settings given as flags (each overrides the file and the environment). */
export interface PolicyFlags {
  /** `--policy FILE`. */
  file?: string;
  /** `--allow-rootfs DIR` (repeatable): added to the file's allowedRootfs. */
  allowRootfs?: string[];
  /** `--allow-host-network`. */
  allowHostNetwork?: boolean;
  /** `--userns private|host|HOSTID:SIZE`. */
  userns?: string;
  /** `--seccomp default|unconfined|FILE`. */
  seccomp?: string;
}

function readPolicyFile(file: string): NodePolicyInput {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw errors.invalidArgument(`cannot read the policy file ${file}: ${(e as Error).message}`, { field: 'policy', path: file });
  }
  try {
    return JSON.parse(text) as NodePolicyInput;
  } catch (e) {
    throw errors.invalidArgument(`the policy file ${file} is not valid JSON: ${(e as Error).message}`, { field: 'policy', path: file });
  }
}

/** Loads the node policy from flags, the environment (STASIS_POLICY, STASIS_ALLOW_ROOTFS, …) and defaults. */
export function loadPolicy(flags: PolicyFlags = {}, env: NodeJS.ProcessEnv = process.env): NodePolicy {
  const file = flags.file ?? (env.STASIS_POLICY || undefined);
  const raw: Record<string, unknown> = file ? { ...readPolicyFile(path.resolve(file)) } : {};
  const envRoots = (env.STASIS_ALLOW_ROOTFS ?? '').split(':').filter(Boolean);
  const extraRoots = [...envRoots, ...(flags.allowRootfs ?? [])].map((r) => path.resolve(r));
  if (extraRoots.length) raw.allowedRootfs = [...((raw.allowedRootfs as string[] | undefined) ?? []), ...extraRoots];
  if (env.STASIS_ALLOW_HOST_NETWORK) raw.allowHostNetwork = /^(1|true|yes)$/i.test(env.STASIS_ALLOW_HOST_NETWORK);
  if (flags.allowHostNetwork) raw.allowHostNetwork = true;
  const userns = flags.userns ?? (env.STASIS_USERNS || undefined);
  if (userns) raw.userns = parseUsernsSetting(userns, flags.userns ? '--userns' : 'STASIS_USERNS') ?? 'host';
  const seccomp = flags.seccomp ?? (env.STASIS_SECCOMP || undefined);
  if (seccomp) raw.seccomp = seccomp === 'default' || seccomp === 'unconfined' ? seccomp : path.resolve(seccomp);
  const r = NodePolicySchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const where = file ? ` (${file})` : '';
    throw errors.invalidArgument(`invalid node policy${where}: \`${i.path.join('.') || '(policy)'}\`: ${i.message}`, { field: `policy.${i.path.join('.')}` });
  }
  return r.data;
}

/** The user-namespace mapping a policy asks for (null: off, container root is host root). */
export function usernsMapping(p: Pick<NodePolicy, 'userns'>): IdMapping | null {
  if (p.userns === 'host') return null;
  if (p.userns === 'private') return { ...DEFAULT_USERNS };
  return { ...p.userns };
}
