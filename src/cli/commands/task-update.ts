import type { Command } from '../command.js';
import { GLOBAL_OPTIONS, onePositional, parseCommandArgs, parseIntFlag, parseKeyValues, usageError } from '../args.js';
import { getTask, taskContext } from '../task-context.js';
import { parseByteSize, parseCpus } from '../../config/units.js';
import type { Resources } from '../../runtime/task.js';

const options = {
  ...GLOBAL_OPTIONS,
  memory: { type: 'string' },
  'memory-swap': { type: 'string' },
  cpus: { type: 'string' },
  'cpu-shares': { type: 'string' },
  pids: { type: 'string' },
  annotation: { type: 'string', multiple: true },
} as const;

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
  usage: `Usage: stasis task update ID [--memory SIZE] [--memory-swap SIZE] [--cpus N] [--cpu-shares N]
                          [--pids N] [--annotation K=V]... [--state-dir DIR] [-n NAMESPACE]

Changes the task's cgroup limits in place (runc update); annotations are merged into its record.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
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
