import path from 'node:path';
import type { Command } from '../command.js';
import { GLOBAL_OPTIONS, type GlobalFlagValues, parseCommandArgs, parseEnvList, parseIntFlag, parseKeyValues, usageError } from '../args.js';
import { jsonLine, taskJson } from '../output.js';
import { taskContext } from '../task-context.js';
import { ensureBusyboxRootfs } from '../../sandbox/busybox.js';
import { parseByteSize, parseCpus } from '../../config/units.js';
import type { Limits, NetworkMode } from '../../sandbox/types.js';
import type { CreateTaskOptions } from '../../runtime/task.js';

const options = {
  ...GLOBAL_OPTIONS,
  id: { type: 'string' },
  rootfs: { type: 'string' },
  memory: { type: 'string' },
  cpus: { type: 'string' },
  pids: { type: 'string' },
  env: { type: 'string', short: 'e', multiple: true },
  cwd: { type: 'string' },
  tty: { type: 'boolean', short: 't' },
  stdin: { type: 'boolean', short: 'i' },
  timeout: { type: 'string' },
  net: { type: 'string' },
  hostname: { type: 'string' },
  annotation: { type: 'string', multiple: true },
} as const;

/** Builds CreateTaskOptions from `task create` arguments (pure; the rootfs default is filled in later). */
export function createOptionsFromArgs(args: string[]): { opts: CreateTaskOptions; globals: GlobalFlagValues } {
  const { values, positionals, rest } = parseCommandArgs(args, options);
  if (!values.id) throw usageError('missing --id');
  if (positionals.length) throw usageError(`unexpected argument '${positionals[0]}' (put the command after --)`);
  if (rest.length === 0) throw usageError('missing the command to run, after -- (e.g. -- sh -c "echo hi")');
  const limits: Limits = {};
  if (values.memory !== undefined) limits.memoryBytes = parseByteSize(values.memory, '--memory');
  if (values.cpus !== undefined) limits.cpus = parseCpus(values.cpus, '--cpus');
  const pids = parseIntFlag(values.pids, 'pids');
  if (pids !== undefined) limits.pids = pids;
  const net = values.net ?? 'none';
  if (net !== 'none' && net !== 'host') throw usageError(`Expected \`--net\` to be none or host, got \`${net}\``);
  const opts: CreateTaskOptions = {
    id: values.id,
    rootfs: values.rootfs ? path.resolve(values.rootfs) : '',
    process: { args: rest, terminal: values.tty ?? false },
    limits,
    network: net as NetworkMode,
  };
  const env = parseEnvList(values.env);
  if (env.length) opts.process.env = env;
  if (values.cwd !== undefined) opts.process.cwd = values.cwd;
  if (values.stdin) opts.stdin = true;
  const timeout = parseIntFlag(values.timeout, 'timeout');
  if (timeout !== undefined) opts.timeoutSeconds = timeout;
  if (values.hostname !== undefined) opts.hostname = values.hostname;
  const annotations = parseKeyValues(values.annotation, 'annotation');
  if (Object.keys(annotations).length) opts.annotations = annotations;
  return { opts, globals: values };
}

/** `stasis task create`: creates a task (its process waits for `task start`). */
export const taskCreate: Command = {
  name: 'task create',
  summary: 'create a task from a rootfs and a command (start it with task start)',
  usage: `Usage: stasis task create --id ID [options] -- COMMAND [ARG...]

Creates a task: a per-task overlay over a read-only rootfs, an OCI spec from the limits, and a
conmon monitor. The process is created but not started; run 'stasis task start ID'.

Options:
  --id ID             task id (unique in the namespace)
  --rootfs DIR        read-only lower rootfs (default: a busybox rootfs in STATE_DIR/rootfs/busybox)
  --memory SIZE       memory limit, e.g. 64m, 1g (no swap)
  --cpus N            CPU limit, e.g. 0.5
  --pids N            maximum number of processes
  -e, --env K=V       environment variable (repeatable)
  --cwd DIR           working directory inside the task
  -t, --tty           run the process on a pty
  -i, --stdin         keep a stdin pipe open
  --timeout SECONDS   the monitor kills the task after this long
  --net none|host     network: own empty namespace (default) or the host's
  --hostname NAME     hostname inside the task (default: the id)
  --annotation K=V    annotation (repeatable)
  --state-dir DIR, -n/--namespace NAME, --json`,
  async run(args, io) {
    const { opts, globals } = createOptionsFromArgs(args);
    const ctx = await taskContext(globals, io);
    if (!opts.rootfs) opts.rootfs = await ensureBusyboxRootfs(path.join(path.resolve(ctx.stateDir), 'rootfs', 'busybox'));
    const task = await ctx.manager.create({ ...opts, namespace: ctx.namespace });
    if (ctx.json) ctx.out(jsonLine(taskJson({ info: task.info, state: await task.state() })));
    else ctx.out(`${task.info.id}\n`);
    return 0;
  },
};
