/** `stasis job update JOB_ID --memory/--cpus/--pids`: change a running job's limits in place. */
import { usageError } from '../args.js';
import { formatStats, jsonLine } from '../output.js';
import { jobControlCommand } from '../job-control-command.js';
import { RESOURCE_OPTIONS, resourcesFromFlags } from '../resource-flags.js';

/** `stasis job update`. */
export const jobUpdate = jobControlCommand({
  verb: 'update',
  summary: "change a running job's memory, cpu or pids limits",
  about: "Changes the job's cgroup limits in place (runc update on its node) and prints its stats afterwards.",
  flags: RESOURCE_OPTIONS,
  check(values) {
    const resources = resourcesFromFlags(values);
    if (Object.keys(resources).length === 0) throw usageError('nothing to update: give --memory, --cpus, --pids, --cpu-shares or --memory-swap');
    return resources;
  },
  async act({ jobId, control, t, json, input: resources, io }) {
    const r = await control.update(jobId, resources, t);
    io.stdout.write(json ? jsonLine(r) : `updated job ${jobId}\n${formatStats({ ...r, raw: null })}`);
  },
});
