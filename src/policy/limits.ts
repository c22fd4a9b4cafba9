/** A job's effective limits: its payload's, else the namespace's and the node's defaults, never above the maxima. */
import { errors } from '../errors.js';
import { formatBytes, formatSeconds } from '../config/units.js';
import { BUILTIN_DEFAULTS, BUILTIN_MAX, type EffectiveLimits, type LimitSet, type NodePolicy } from './schema.js';

/** The limits a payload may set (parsed: bytes, seconds). */
export type PayloadLimits = Partial<Record<keyof LimitSet, number>>;

type Key = keyof LimitSet;

const SHOW: Record<Key, (n: number) => string> = {
  memory: formatBytes,
  disk: formatBytes,
  outputBytes: formatBytes,
  cpus: (n) => `${n} CPUs`,
  pids: (n) => `${n} processes`,
  timeout: formatSeconds,
  cpuTime: formatSeconds,
  killGrace: formatSeconds,
};

/** The default and the maximum of one limit for `namespace`. */
export function limitRule(policy: NodePolicy, namespace: string, k: Key): { def: number | undefined; max: number | undefined } {
  const ns = policy.namespaces[namespace];
  const def = ns?.defaults?.[k] ?? policy.defaults[k] ?? (BUILTIN_DEFAULTS as Partial<Record<Key, number>>)[k];
  const max = ns?.max?.[k] ?? policy.max[k] ?? (BUILTIN_MAX as Partial<Record<Key, number>>)[k];
  return { def, max };
}

/**
 * Resolves every limit of a job. A payload value above the maximum is refused with
 * ERR_PERMISSION_DENIED naming the field and the rule; a default above the maximum (an operator's
 * own mismatch) is lowered to the maximum.
 */
export function effectiveLimits(payload: PayloadLimits | undefined, policy: NodePolicy, namespace: string): EffectiveLimits {
  const pick = (k: Key): number | undefined => {
    const { def, max } = limitRule(policy, namespace, k);
    const asked = payload?.[k];
    if (asked !== undefined) {
      if (max !== undefined && asked > max) {
        const where = policy.namespaces[namespace] ? ` for namespace ${namespace}` : '';
        throw errors.permissionDenied(`\`limits.${k}\` ${SHOW[k](asked)} is above the node's maximum ${SHOW[k](max)}${where}`, {
          field: `limits.${k}`,
          rule: 'max',
          max,
        });
      }
      return asked;
    }
    if (def === undefined) return undefined;
    return max !== undefined ? Math.min(def, max) : def;
  };
  const cpuTime = pick('cpuTime');
  return {
    memoryBytes: pick('memory')!,
    cpus: pick('cpus')!,
    pids: pick('pids')!,
    timeoutSeconds: pick('timeout')!,
    ...(cpuTime !== undefined ? { cpuTimeSeconds: cpuTime } : {}),
    diskBytes: pick('disk')!,
    outputBytes: pick('outputBytes')!,
    killGraceMs: Math.round(pick('killGrace')! * 1000),
  };
}
