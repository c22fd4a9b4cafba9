/** `stasis job update JOB_ID --memory/--cpus/--pids`: change a running job's limits in place. */
import type { Command } from '../command.js';
import { onePositional, parseCommandArgs, usageError } from '../args.js';
import { formatStats, jsonLine } from '../output.js';
import { CONTROL_FLAGS_USAGE, CONTROL_OPTIONS, withJobControl } from '../job-control-cli.js';
import { resourcesFromFlags } from './task-update.js';

/** `stasis job update`. */
export const jobUpdate: Command = {
  name: 'job update',
  summary: "change a running job's memory, cpu or pids limits",
  usage: `Usage: stasis job update [options] JOB_ID

Changes the job's cgroup limits in place (runc update on its node) and prints its stats afterwards.

      --memory SIZE    memory limit (256m, 1g, bytes); swap stays off unless --memory-swap
      --memory-swap SIZE
      --cpus N         CPUs (0.5 = half a CPU)
      --cpu-shares N
      --pids N         most processes at once
${CONTROL_FLAGS_USAGE}`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      ...CONTROL_OPTIONS,
      memory: { type: 'string' },
      'memory-swap': { type: 'string' },
      cpus: { type: 'string' },
      'cpu-shares': { type: 'string' },
      pids: { type: 'string' },
    });
    const jobId = onePositional(positionals, 'JOB_ID');
    const resources = resourcesFromFlags(values);
    if (Object.keys(resources).length === 0) throw usageError('nothing to update: give --memory, --cpus, --pids, --cpu-shares or --memory-swap');
    return withJobControl(values, io, async (control, t, json) => {
      const r = await control.update(jobId, resources, t);
      io.stdout.write(json ? jsonLine(r) : `updated job ${jobId}\n${formatStats({ ...r, raw: null })}`);
      return 0;
    });
  },
};
