/** `stasis job update JOB_ID --memory/--cpus/--pids`: change a running job's limits in place. */
import type { Command } from '../command.js';
import { onePositional, parseOptions, usageError } from '../args.js';
import { formatStats, jsonLine } from '../output.js';
import { CONTROL_OPTIONS, withJobControl } from '../job-control-cli.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { RESOURCE_OPTIONS, resourcesFromFlags } from '../resource-flags.js';

const options = { ...RESOURCE_OPTIONS, ...CONTROL_OPTIONS } as const satisfies OptionSpecs;

/** `stasis job update`. */
export const jobUpdate: Command = {
  name: 'job update',
  summary: "change a running job's memory, cpu or pids limits",
  usage: formatUsage(
    {
      synopsis: 'job update [options] JOB_ID',
      about: "Changes the job's cgroup limits in place (runc update on its node) and prints its stats afterwards.",
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
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
