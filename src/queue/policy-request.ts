/** What a parsed payload asks of the node policy (src/policy/apply.ts). Pure. */
import type { PolicyRequest } from '../policy/apply.js';
import type { JobPayload } from './job-schema.js';
import { DEFAULT_JOB_NAMESPACE } from './run-spec.js';

/** The policy request of a payload. */
export function policyRequest(p: JobPayload): PolicyRequest {
  const namespace = p.namespace ?? DEFAULT_JOB_NAMESPACE;
  const rf = p.restoreFrom;
  const restoreNamespace = rf && 'jobId' in rf ? (rf.namespace ?? namespace) : undefined;
  return {
    namespace,
    ...(p.rootfs !== undefined ? { rootfs: p.rootfs } : {}),
    ...(p.network ? { network: p.network } : {}),
    ...(p.limits ? { limits: p.limits } : {}),
    ...(p.annotations ? { annotations: p.annotations } : {}),
    ...(p.user ? { user: p.user } : {}),
    ...(restoreNamespace !== undefined ? { restoreNamespace } : {}),
  };
}
