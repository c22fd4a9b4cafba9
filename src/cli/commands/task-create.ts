import path from 'node:path';
import type { Command } from '../command.js';
import { GLOBAL_SPECS, type GlobalFlagValues, parseEnvList, parseIntFlag, parseKeyValues, parseOptions, usageError } from '../args.js';
import { secondsFlag } from '../durations.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { jsonLine, taskJson } from '../output.js';
import { taskContext } from '../task-context.js';
import { ensureBusyboxRootfs } from '../../sandbox/busybox.js';
import { parseByteSize, parseCpus } from '../../config/units.js';
import type { Limits, NetworkMode } from '../../sandbox/types.js';
import type { CreateTaskOptions } from '../../runtime/task.js';

const options = {
  id: { type: 'string', value: 'ID', help: 'task id, unique in the namespace (required)' },
  rootfs: { type: 'string', value: 'DIR', help: 'read-only lower rootfs', default: 'a busybox rootfs in STATE_DIR/rootfs/busybox' },
  memory: { type: 'string', value: 'SIZE', help: 'memory limit, e.g. 64m, 1g (no swap)' },
  cpus: { type: 'string', value: 'N', help: 'CPU limit, e.g. 0.5' },
  pids: { type: 'string', value: 'N', help: 'maximum number of processes' },
  'pids-limit': { type: 'string', aliasOf: 'pids' },
  env: { type: 'string', short: 'e', multiple: true, value: 'K=V', help: 'environment variable' },
  cwd: { type: 'string', short: 'w', value: 'DIR', help: 'working directory inside the task' },
  workdir: { type: 'string', aliasOf: 'cwd' },
  tty: { type: 'boolean', short: 't', help: 'run the process on a pty' },
  stdin: { type: 'boolean', short: 'i', help: 'keep a stdin pipe open' },
  interactive: { type: 'boolean', aliasOf: 'stdin' },
  timeout: { type: 'string', value: 'DURATION', help: 'the monitor kills the task after this long, e.g. 30 (seconds), 2m' },
  net: { type: 'string', value: 'none|host', help: "network: its own empty namespace or the host's", default: 'none' },
  network: { type: 'string', aliasOf: 'net' },
  hostname: { type: 'string', value: 'NAME', help: 'hostname inside the task', default: 'the id' },
  annotation: { type: 'string', multiple: true, value: 'K=V', help: 'annotation' },
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** Builds CreateTaskOptions from `task create` arguments (pure; the rootfs default is filled in later). */
export function createOptionsFromArgs(args: string[]): { opts: CreateTaskOptions; globals: GlobalFlagValues } {
  const { values, positionals, rest } = parseOptions(args, options);
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
  if (values.timeout !== undefined) opts.timeoutSeconds = secondsFlag(values.timeout, '--timeout');
  if (values.hostname !== undefined) opts.hostname = values.hostname;
  const annotations = parseKeyValues(values.annotation, 'annotation');
  if (Object.keys(annotations).length) opts.annotations = annotations;
  return { opts, globals: values };
}

/** `stasis task create`: creates a task (its process waits for `task start`). */
export const taskCreate: Command = {
  name: 'task create',
  summary: 'create a task from a rootfs and a command (start it with task start)',
  usage: formatUsage(
    {
      synopsis: 'task create --id ID [options] -- COMMAND [ARG...]',
      about: `Creates a task: a per-task overlay over a read-only rootfs, an OCI spec from the limits, and a
conmon monitor. The process is created but not started; run 'stasis task start ID'.`,
    },
    options,
  ),
  options,
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
