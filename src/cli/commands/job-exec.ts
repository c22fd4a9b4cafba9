/** `stasis job exec JOB_ID -- CMD…`: run a process inside a running job's container, print its output, exit with its status. */
import type { Command } from '../command.js';
import { exitCodeOf, onePositional, parseCommandArgs, parseEnvList, usageError } from '../args.js';
import { jsonLine } from '../output.js';
import { CONTROL_FLAGS_USAGE, CONTROL_OPTIONS, withJobControl } from '../job-control-cli.js';
import { parseByteSize } from '../../config/units.js';
import type { ExecOptions } from '../../queue/job-control.js';

const options = {
  ...CONTROL_OPTIONS,
  env: { type: 'string', short: 'e', multiple: true },
  cwd: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  tty: { type: 'boolean', short: 't' },
  stdin: { type: 'boolean', short: 'i' },
  timeout: { type: 'string' },
  'output-bytes': { type: 'string' },
} as const;

async function readAll(s: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Builds exec options from the flags (pure but for --stdin, which the caller reads). */
export function execOptionsFromFlags(v: {
  env?: string[] | undefined;
  cwd?: string | undefined;
  user?: string | undefined;
  tty?: boolean | undefined;
  timeout?: string | undefined;
  'output-bytes'?: string | undefined;
}): ExecOptions {
  const o: ExecOptions = {};
  const env = parseEnvList(v.env);
  if (env.length) o.env = env;
  if (v.cwd !== undefined) o.cwd = v.cwd;
  if (v.user !== undefined) {
    const m = /^(\d+)(?::(\d+))?$/.exec(v.user);
    if (!m) throw usageError(`Expected \`--user\` to be UID or UID:GID (numbers), got \`${v.user}\``);
    o.user = { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
  }
  if (v.tty) o.tty = true;
  if (v.timeout !== undefined) {
    const s = /^\s*\d*\.?\d+\s*$/.test(v.timeout) ? Number(v.timeout) : NaN;
    if (!Number.isFinite(s) || s <= 0) throw usageError(`Expected \`--timeout\` to be a number of seconds above 0, got \`${v.timeout}\``);
    o.timeoutMs = Math.ceil(s * 1000);
  }
  if (v['output-bytes'] !== undefined) o.outputBytes = parseByteSize(v['output-bytes'], '--output-bytes');
  return o;
}

/** `stasis job exec`. */
export const jobExec: Command = {
  name: 'job exec',
  summary: "run a command inside a running job's container",
  usage: `Usage: stasis job exec [options] JOB_ID -- COMMAND [ARG...]

Runs COMMAND in the job's container on the node that runs it, waits for it, prints its stdout and
stderr and exits with its exit status. --json prints {"execId","exitStatus","signal","exitedAt",
"stdout","stderr","stdoutTruncated","stderrTruncated","timedOut"} instead.

  -e, --env K=V        environment (repeatable)
  -w, --cwd DIR        working directory
  -u, --user UID[:GID] run as this user
  -t, --tty            give it a terminal
  -i, --stdin          send this command's stdin (read to its end first)
      --timeout SECS   kill it after this long (default 60)
      --output-bytes N cap of stdout and of stderr each (default 1m)
${CONTROL_FLAGS_USAGE}`,
  async run(args, io) {
    const { values, positionals, rest } = parseCommandArgs(args, options);
    const jobId = onePositional(positionals, 'JOB_ID');
    if (rest.length === 0) throw usageError('missing the command to run, after --');
    const o = execOptionsFromFlags(values);
    if (values.stdin) o.stdin = await readAll(process.stdin);
    return withJobControl(values, io, async (control, t, json) => {
      const r = await control.exec(jobId, rest, { ...o, ...t });
      if (json) {
        io.stdout.write(jsonLine(r));
      } else {
        io.stdout.write(r.stdout);
        io.stderr.write(r.stderr);
        if (r.stdoutTruncated || r.stderrTruncated) io.stderr.write(`stasis: output of the exec was cut at its --output-bytes cap\n`);
        if (r.timedOut) io.stderr.write(`stasis: the exec ran past its timeout and was killed\n`);
      }
      return exitCodeOf(r.exitStatus);
    });
  },
};
