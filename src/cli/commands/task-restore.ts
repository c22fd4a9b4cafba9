import path from 'node:path';
import { GLOBAL_SPECS, parseKeyValues, usageError } from '../args.js';
import { secondsFlag } from '../durations.js';
import { jsonLine, taskJson } from '../output.js';
import { tableCommand } from '../table-command.js';
import { taskContext } from '../task-context.js';
import type { RestoreTaskOptions } from '../../runtime/task.js';

/** `stasis task restore --id NEW --from DIR`: a running task from a checkpoint directory. */
export const taskRestore = tableCommand({
  name: 'task restore',
  summary: 'restore a task from a checkpoint directory',
  synopsis: 'task restore [options] --id ID --from DIR',
  about: `Restores a task checkpointed with 'stasis task checkpoint' under id ID (new, or the old id once
that task is gone) in a new bundle. It is running when this command returns, and its output keeps
going to its own log. --rootfs overrides the lower rootfs recorded in the checkpoint.`,
  options: {
    id: { type: 'string', value: 'ID', help: 'id of the restored task (required)' },
    from: { type: 'string', value: 'DIR', help: 'the checkpoint directory (required)' },
    rootfs: { type: 'string', value: 'DIR', help: 'lower rootfs', default: 'the one recorded in the checkpoint' },
    timeout: { type: 'string', value: 'DURATION', help: 'the monitor kills the task after this long, e.g. 30 (seconds), 2m' },
    annotation: { type: 'string', multiple: true, value: 'K=V', help: 'annotation' },
    ...GLOBAL_SPECS,
  },
  async run({ values, positionals }, io) {
    if (positionals.length) throw usageError(`unexpected argument '${positionals[0]}'`);
    if (!values.id) throw usageError('missing --id');
    if (!values.from) throw usageError('missing --from DIR');
    const opts: RestoreTaskOptions = { id: values.id, from: path.resolve(values.from) };
    if (values.rootfs) opts.rootfs = path.resolve(values.rootfs);
    if (values.timeout !== undefined) opts.timeoutSeconds = secondsFlag(values.timeout, '--timeout');
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
});
