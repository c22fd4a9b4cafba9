/** `stasis job exec JOB_ID -- CMD…`: run a process inside a running job's container, print its output, exit with its status. */
import { exitCodeOf, parseEnvList, usageError } from '../args.js';
import { secondsFlag } from '../durations.js';
import { jsonLine } from '../output.js';
import { jobControlCommand } from '../job-control-command.js';
import type { OptionSpecs } from '../options.js';
import { readAll } from '../stdin.js';
import { parseByteSize } from '../../config/units.js';
import type { ExecOptions } from '../../queue/job-control.js';

/** The exec flags of `job exec` (CONTROL_OPTIONS are appended). */
const EXEC_OPTIONS = {
  env: { type: 'string', short: 'e', multiple: true, value: 'K=V', help: 'environment variable' },
  cwd: { type: 'string', short: 'w', value: 'DIR', help: 'working directory' },
  workdir: { type: 'string', aliasOf: 'cwd' },
  user: { type: 'string', short: 'u', value: 'UID[:GID]', help: 'run as this user' },
  tty: { type: 'boolean', short: 't', help: 'give it a terminal' },
  stdin: { type: 'boolean', short: 'i', help: "send this command's stdin (read to its end first)" },
  interactive: { type: 'boolean', aliasOf: 'stdin' },
  timeout: { type: 'string', value: 'DURATION', help: 'kill it after this long, e.g. 30 (seconds), 1.5s, 2m', default: '60s' },
  'output-bytes': { type: 'string', value: 'SIZE', help: 'cap of stdout and of stderr each', default: '1m' },
} as const satisfies OptionSpecs;

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
  if (v.timeout !== undefined) o.timeoutMs = Math.ceil(secondsFlag(v.timeout, '--timeout') * 1000);
  if (v['output-bytes'] !== undefined) o.outputBytes = parseByteSize(v['output-bytes'], '--output-bytes');
  return o;
}

/** `stasis job exec`. */
export const jobExec = jobControlCommand({
  verb: 'exec',
  summary: "run a command inside a running job's container",
  synopsis: 'job exec [options] JOB_ID -- COMMAND [ARG...]',
  about: `Runs COMMAND in the job's container on the node that runs it, waits for it, prints its stdout and
stderr and exits with its exit status. --json prints {"execId","exitStatus","signal","exitedAt",
"stdout","stderr","stdoutTruncated","stderrTruncated","timedOut"} instead.`,
  flags: EXEC_OPTIONS,
  async check(values, rest, io) {
    if (rest.length === 0) throw usageError('missing the command to run, after --');
    const o = execOptionsFromFlags(values);
    if (values.stdin) o.stdin = await readAll(io.stdin ?? process.stdin);
    return { argv: rest, o };
  },
  async act({ jobId, control, t, json, input: { argv, o }, io }) {
    const r = await control.exec(jobId, argv, { ...o, ...t });
    if (json) {
      io.stdout.write(jsonLine(r));
    } else {
      io.stdout.write(r.stdout);
      io.stderr.write(r.stderr);
      if (r.stdoutTruncated || r.stderrTruncated) io.stderr.write(`stasis: output of the exec was cut at its --output-bytes cap\n`);
      if (r.timedOut) io.stderr.write(`stasis: the exec ran past its timeout and was killed\n`);
    }
    return exitCodeOf(r.exitStatus);
  },
});
