/**
 * A payload under the node policy: the limits it runs with, the rootfs it may use, whether it may
 * have the host's network, and the annotation prefixes reserved to the node and its runtime.
 * Everything a producer asks for beyond the policy is refused with ERR_PERMISSION_DENIED naming the
 * field and the rule.
 */
import { errors } from '../errors.js';
import type { IdMapping } from '../config/schema.js';
import { effectiveLimits, type PayloadLimits } from './limits.js';
import { resolveRootfs, type RootfsContext } from './rootfs.js';
import type { EffectiveLimits, NodePolicy } from './schema.js';

/** Annotation keys starting with this belong to the node (job id, lock token, deadlines…). */
export const RESERVED_ANNOTATION_PREFIX = 'io.stasis.';

/**
 * Prefixes of annotations the runtime below acts on: runc hands `org.criu.config` to CRIU as its
 * configuration file, whose settings win over runc's (an `action-script` there runs as host root);
 * the others are read by runc, crun or systemd. A producer may set none of them.
 */
export const RUNTIME_ANNOTATION_PREFIXES = ['org.criu.', 'org.opencontainers.', 'org.systemd.', 'run.oci.'] as const;

/** What a payload asks of the policy (the parsed payload's fields). */
export interface PolicyRequest {
  namespace: string;
  rootfs?: string;
  network?: 'none' | 'host';
  limits?: PayloadLimits;
  annotations?: Record<string, string>;
  user?: { uid: number; gid: number };
  /** The namespace of a template checkpoint the payload restores from, when it names one. */
  restoreNamespace?: string;
}

/** A payload's sandbox as the node will run it. */
export interface PolicyDecision {
  limits: EffectiveLimits;
  /** The real path of the rootfs (for an image: its unpacked rootfs in the node's store). */
  rootfs: string;
  network: 'none' | 'host';
  /** Set for a job that names an image: what it resolved to. */
  image?: { ref: string; digest: string };
}

/** Checks the parts of a request that need no filesystem (network, annotations, ids, namespaces). */
export function checkRequest(r: PolicyRequest, policy: NodePolicy, userns: IdMapping | null): void {
  if (r.network === 'host') {
    const ns = policy.namespaces[r.namespace];
    const allowed = ns?.allowHostNetwork ?? policy.allowHostNetwork;
    if (!allowed) {
      throw errors.permissionDenied(`\`network\` "host" is not allowed on this node${ns ? ` for namespace ${r.namespace}` : ''} (node policy allowHostNetwork)`, {
        field: 'network',
        rule: 'allowHostNetwork',
      });
    }
  }
  for (const k of Object.keys(r.annotations ?? {})) {
    if (k.startsWith(RESERVED_ANNOTATION_PREFIX)) {
      throw errors.permissionDenied(`\`annotations.${k}\`: the \`${RESERVED_ANNOTATION_PREFIX}\` prefix is reserved to the node`, {
        field: `annotations.${k}`,
        rule: 'reserved-annotation',
      });
    }
    const runtime = RUNTIME_ANNOTATION_PREFIXES.find((pre) => k.toLowerCase().startsWith(pre));
    if (runtime) {
      throw errors.permissionDenied(`\`annotations.${k}\`: the \`${runtime}\` prefix is read by the container runtime and reserved to the node`, {
        field: `annotations.${k}`,
        rule: 'reserved-annotation',
      });
    }
  }
  if (userns && r.user) {
    const max = userns.size - 1;
    for (const k of ['uid', 'gid'] as const) {
      if (r.user[k] > max) {
        throw errors.invalidArgument(`Expected \`user.${k}\` to be at most ${max} (this node's user namespace maps ids 0-${max}), got ${r.user[k]}`, { field: `user.${k}` });
      }
    }
  }
  if (r.restoreNamespace !== undefined && r.restoreNamespace !== r.namespace) {
    throw errors.permissionDenied(`\`restoreFrom\` names a checkpoint of namespace ${r.restoreNamespace}; a job may only restore checkpoints of its own namespace (${r.namespace})`, {
      field: 'restoreFrom',
      rule: 'own-namespace',
    });
  }
}

/** Applies the node policy to a request: the decision, or ERR_PERMISSION_DENIED / ERR_INVALID_ARGUMENT. */
export async function applyPolicy(r: PolicyRequest, policy: NodePolicy, userns: IdMapping | null, ctx: RootfsContext): Promise<PolicyDecision> {
  checkRequest(r, policy, userns);
  const limits = effectiveLimits(r.limits, policy, r.namespace);
  const rootfs = await resolveRootfs(r.rootfs, policy, ctx);
  return { limits, rootfs, network: r.network ?? 'none' };
}
