import path from 'node:path';
import type { Command } from '../command.js';
import { GLOBAL_OPTIONS, onePositional, parseCommandArgs, usageError } from '../args.js';
import { formatKeyValues, jsonLine } from '../output.js';
import { getTask, taskContext } from '../task-context.js';
import type { CheckpointOptions } from '../../runtime/task.js';

const options = {
  ...GLOBAL_OPTIONS,
  image: { type: 'string' },
  'leave-running': { type: 'boolean' },
  'tcp-established': { type: 'boolean' },
  'file-locks': { type: 'boolean' },
  'ext-unix-sk': { type: 'boolean' },
  'shell-job': { type: 'boolean' },
  'pre-dump': { type: 'boolean' },
  'parent-path': { type: 'string' },
  'no-rootfs-diff': { type: 'boolean' },
} as const;

/** `stasis task checkpoint ID --image DIR`: dumps a running task with CRIU. */
export const taskCheckpoint: Command = {
  name: 'task checkpoint',
  summary: 'checkpoint a running task into a directory (CRIU)',
  usage: `Usage: stasis task checkpoint ID --image DIR [--leave-running] [--tcp-established] [--file-locks]
                              [--ext-unix-sk] [--shell-job] [--pre-dump] [--parent-path DIR]
                              [--no-rootfs-diff] [--json] [--state-dir DIR] [-n NAMESPACE]

Dumps the task into DIR (created; it must not hold an image yet): CRIU images, its spec, its
overlay changes (rootfs-diff.tar) and checkpoint.json. Without --leave-running the task stops
(reason "checkpointed"). Restore with 'stasis task restore --id NEW --from DIR'.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    const id = onePositional(positionals, 'task id');
    if (!values.image) throw usageError('missing --image DIR');
    const opts: CheckpointOptions = {
      leaveRunning: values['leave-running'] ?? false,
      tcpEstablished: values['tcp-established'] ?? false,
      fileLocks: values['file-locks'] ?? false,
      externalUnixSockets: values['ext-unix-sk'] ?? false,
      shellJob: values['shell-job'] ?? false,
      preDump: values['pre-dump'] ?? false,
      rootfsDiff: !(values['no-rootfs-diff'] ?? false),
    };
    if (values['parent-path']) opts.parentPath = path.resolve(values['parent-path']);
    const ctx = await taskContext(values, io);
    const r = await (await getTask(ctx, id)).checkpoint(path.resolve(values.image), opts);
    if (ctx.json) ctx.out(jsonLine(r));
    else {
      ctx.out(formatKeyValues([
        ['checkpoint', r.path],
        ['CRIU log', r.criuLog],
        ['dump', `${Math.round(r.dumpMs)} ms`],
        ['task', r.leaveRunning ? `${id} left running` : `${id} stopped`],
      ]));
    }
    return 0;
  },
};
