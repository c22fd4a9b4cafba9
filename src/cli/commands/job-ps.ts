/** `stasis job ps|stats JOB_ID`: a running job's processes, or its resource usage, from its node. */
import type { Command } from '../command.js';
import { onePositional, parseOptions } from '../args.js';
import { formatProcesses, formatStats, jsonLine } from '../output.js';
import { CONTROL_OPTIONS, withJobControl } from '../job-control-cli.js';
import { formatUsage } from '../options.js';

/** `stasis job ps`. */
export const jobPs: Command = {
  name: 'job ps',
  summary: "list a running job's processes",
  usage: formatUsage(
    {
      synopsis: 'job ps [options] JOB_ID',
      about: `Prints the job's status (running, or paused when frozen) and its processes (host pids, PPID, state,
RSS, CPU time, command). --json prints {"status","processes":[{"pid","info":{…}}]}.`,
    },
    CONTROL_OPTIONS,
  ),
  options: CONTROL_OPTIONS,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, CONTROL_OPTIONS);
    const jobId = onePositional(positionals, 'JOB_ID');
    return withJobControl(values, io, async (control, t, json) => {
      const r = await control.ps(jobId, t);
      io.stdout.write(json ? jsonLine(r) : `job ${jobId}: ${r.status}\n${formatProcesses(r.processes)}`);
      return 0;
    });
  },
};

/** `stasis job stats`. */
export const jobStats: Command = {
  name: 'job stats',
  summary: "show a running job's CPU, memory and pids usage and limits",
  usage: formatUsage(
    {
      synopsis: 'job stats [options] JOB_ID',
      about: `Prints the job's cgroup statistics (runc events --stats on its node). --json prints
{"id","readAt","cpu":{…},"memory":{…},"pids":{…}}.`,
    },
    CONTROL_OPTIONS,
  ),
  options: CONTROL_OPTIONS,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, CONTROL_OPTIONS);
    const jobId = onePositional(positionals, 'JOB_ID');
    return withJobControl(values, io, async (control, t, json) => {
      const r = await control.stats(jobId, t);
      io.stdout.write(json ? jsonLine(r) : formatStats({ ...r, raw: null }));
      return 0;
    });
  },
};
