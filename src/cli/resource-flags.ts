/** The limit flags of `task update` and `job update`, and the Resources they ask for. */
import { parseIntFlag } from './args.js';
import type { OptionSpecs } from './options.js';
import { parseByteSize, parseCpus } from '../config/units.js';
import type { Resources } from '../runtime/task.js';

/** --memory, --memory-swap, --cpus, --cpu-shares, --pids (alias --pids-limit). */
export const RESOURCE_OPTIONS = {
  memory: { type: 'string', value: 'SIZE', help: 'memory limit (256m, 1g, bytes); swap stays off unless --memory-swap' },
  'memory-swap': { type: 'string', value: 'SIZE', help: 'memory plus swap limit' },
  cpus: { type: 'string', value: 'N', help: 'CPUs (0.5 = half a CPU)' },
  'cpu-shares': { type: 'string', value: 'N', help: 'relative CPU weight, 2 to 262144' },
  pids: { type: 'string', value: 'N', help: 'most processes at once' },
  'pids-limit': { type: 'string', aliasOf: 'pids' },
} as const satisfies OptionSpecs;

/** Builds Resources from the limit flags' values (pure); only the given ones are set. */
export function resourcesFromFlags(v: {
  memory?: string | undefined;
  'memory-swap'?: string | undefined;
  cpus?: string | undefined;
  'cpu-shares'?: string | undefined;
  pids?: string | undefined;
}): Resources {
  const r: Resources = {};
  if (v.memory !== undefined) r.memoryBytes = parseByteSize(v.memory, '--memory');
  if (v['memory-swap'] !== undefined) r.memorySwapBytes = parseByteSize(v['memory-swap'], '--memory-swap');
  if (v.cpus !== undefined) r.cpus = parseCpus(v.cpus, '--cpus');
  const shares = parseIntFlag(v['cpu-shares'], 'cpu-shares', 2, 262144);
  if (shares !== undefined) r.cpuShares = shares;
  const pids = parseIntFlag(v.pids, 'pids');
  if (pids !== undefined) r.pids = pids;
  return r;
}
