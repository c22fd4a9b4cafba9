/** `stasis job ps|stats JOB_ID`: a running job's processes, or its resource usage, from its node. */
import { formatProcesses, formatStats, jsonLine } from '../output.js';
import { jobControlCommand } from '../job-control-command.js';

/** `stasis job ps`. */
export const jobPs = jobControlCommand({
  verb: 'ps',
  summary: "list a running job's processes",
  about: `Prints the job's status (running, or paused when frozen) and its processes (host pids, PPID, state,
RSS, CPU time, command). --json prints {"status","processes":[{"pid","info":{…}}]}.`,
  flags: {},
  async act({ jobId, control, t, json, io }) {
    const r = await control.ps(jobId, t);
    io.stdout.write(json ? jsonLine(r) : `job ${jobId}: ${r.status}\n${formatProcesses(r.processes)}`);
  },
});

/** `stasis job stats`. */
export const jobStats = jobControlCommand({
  verb: 'stats',
  summary: "show a running job's CPU, memory and pids usage and limits",
  about: `Prints the job's cgroup statistics (runc events --stats on its node). --json prints
{"id","readAt","cpu":{…},"memory":{…},"pids":{…}}.`,
  flags: {},
  async act({ jobId, control, t, json, io }) {
    const r = await control.stats(jobId, t);
    io.stdout.write(json ? jsonLine(r) : formatStats({ ...r, raw: null }));
  },
});
