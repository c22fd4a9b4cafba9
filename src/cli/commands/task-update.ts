import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseIntFlag, parseKeyValues, parseOptions, usageError } from '../args.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { getTask, taskContext } from '../task-context.js';
import { parseByteSize, parseCpus } from '../../config/units.js';
import type { Resources } from '../../runtime/task.js';

/** The limit flags of `task update` and `job update`. */
export const RESOURCE_OPTIONS = {
  memory: { type: 'string', value: 'SIZE', help: 'memory limit (256m, 1g, bytes); swap stays off unless --memory-swap' },
  'memory-swap': { type: 'string', value: 'SIZE', help: 'memory plus swap limit' },
  cpus: { type: 'string', value: 'N', help: 'CPUs (0.5 = half a CPU)' },
  'cpu-shares': { type: 'string', value: 'N', help: 'relative CPU weight, 2 to 262144' },
  pids: { type: 'string', value: 'N', help: 'most processes at once' },
  'pids-limit': { type: 'string', aliasOf: 'pids' },
} as const satisfies OptionSpecs;

const options = {
  ...RESOURCE_OPTIONS,
  annotation: { type: 'string', multiple: true, value: 'K=V', help: "annotation merged into the task's record" },
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** Builds Resources from `task update` flag values (pure). */
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

/** `stasis task update ID`: changes the limits (and annotations) of a running task. */
export const taskUpdate: Command = {
  name: 'task update',
  summary: 'change the memory, cpu or pids limits of a task',
  usage: formatUsage(
    { synopsis: 'task update [options] ID', about: "Changes the task's cgroup limits in place (runc update); annotations are merged into its record." },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const id = onePositional(positionals, 'task id');
    const resources = resourcesFromFlags(values);
    const annotations = parseKeyValues(values.annotation, 'annotation');
    const hasAnnotations = Object.keys(annotations).length > 0;
    if (Object.keys(resources).length === 0 && !hasAnnotations) {
      throw usageError('nothing to update: give --memory, --cpus, --pids, --cpu-shares, --memory-swap or --annotation');
    }
    const ctx = await taskContext(values, io);
    await (await getTask(ctx, id)).update(resources, hasAnnotations ? annotations : undefined);
    return 0;
  },
};
