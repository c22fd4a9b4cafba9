import path from 'node:path';
import type { Command } from '../command.js';
import { GLOBAL_OPTIONS, parseCommandArgs, parseIntFlag, parseKeyValues, usageError } from '../args.js';
import { jsonLine, taskJson } from '../output.js';
import { taskContext } from '../task-context.js';
import type { RestoreTaskOptions } from '../../runtime/task.js';

const options = {
  ...GLOBAL_OPTIONS,
  id: { type: 'string' },
  from: { type: 'string' },
  rootfs: { type: 'string' },
  timeout: { type: 'string' },
  annotation: { type: 'string', multiple: true },
} as const;

/** `stasis task restore --id NEW --from DIR`: a running task from a checkpoint directory. */
export const taskRestore: Command = {
  name: 'task restore',
  summary: 'restore a task from a checkpoint directory',
  usage: `Usage: stasis task restore --id ID --from DIR [--rootfs DIR] [--timeout SECONDS] [--annotation K=V]...
                           [--json] [--state-dir DIR] [-n NAMESPACE]

Restores a task checkpointed with 'stasis task checkpoint' under id ID (new, or the old id once
that task is gone) in a new bundle. It is running when this command returns, and its output keeps
going to its own log. --rootfs overrides the lower rootfs recorded in the checkpoint.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    if (positionals.length) throw usageError(`unexpected argument '${positionals[0]}'`);
    if (!values.id) throw usageError('missing --id');
    if (!values.from) throw usageError('missing --from DIR');
    const opts: RestoreTaskOptions = { id: values.id, from: path.resolve(values.from) };
    if (values.rootfs) opts.rootfs = path.resolve(values.rootfs);
    const timeout = parseIntFlag(values.timeout, 'timeout');
    if (timeout !== undefined) opts.timeoutSeconds = timeout;
    const annotations = parseKeyValues(values.annotation, 'annotation');
    if (Object.keys(annotations).length) opts.annotations = annotations;
    const ctx = await taskContext(values, io);
    opts.namespace = ctx.namespace;
    const task = await ctx.manager.restore(opts);
    const state = await task.state();
    if (ctx.json) ctx.out(jsonLine(taskJson({ info: task.info, state })));
    else ctx.out(`${task.info.id} ${state.status} pid ${state.pid}\n`);
    return 0;
  },
};
