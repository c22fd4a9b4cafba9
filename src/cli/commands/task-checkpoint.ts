import path from 'node:path';
import { usageError } from '../args.js';
import { formatKeyValues, jsonLine } from '../output.js';
import { taskCommand } from '../task-command.js';
import type { CheckpointOptions } from '../../runtime/task.js';

/** `stasis task checkpoint ID --image DIR`: dumps a running task with CRIU. */
export const taskCheckpoint = taskCommand({
  verb: 'checkpoint',
  summary: 'checkpoint a running task into a directory (CRIU)',
  synopsis: 'task checkpoint [options] ID --image DIR',
  about: `Dumps the task into DIR (created; it must not hold an image yet): CRIU images, its spec, its
overlay changes (rootfs-diff.tar) and checkpoint.json. Without --leave-running the task stops
(reason "checkpointed"). Restore with 'stasis task restore --id NEW --from DIR'.`,
  flags: {
    image: { type: 'string', value: 'DIR', help: 'where the checkpoint goes (created; required)' },
    'leave-running': { type: 'boolean', help: 'keep the task running after the dump' },
    'tcp-established': { type: 'boolean', help: 'checkpoint established TCP connections' },
    'file-locks': { type: 'boolean', help: 'checkpoint file locks' },
    'ext-unix-sk': { type: 'boolean', help: 'allow external unix sockets' },
    'shell-job': { type: 'boolean', help: 'allow a shell job (a process attached to a terminal session)' },
    'pre-dump': { type: 'boolean', help: 'dump memory only, as a parent for a later dump (the task keeps running)' },
    'parent-path': { type: 'string', value: 'DIR', help: 'a pre-dump to base this dump on' },
    'no-rootfs-diff': { type: 'boolean', help: "do not save the task's filesystem changes" },
  },
  check(values) {
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
    return { image: path.resolve(values.image), opts };
  },
  async act({ id, task, ctx, input }) {
    const r = await task.checkpoint(input.image, input.opts);
    if (ctx.json) ctx.out(jsonLine(r));
    else {
      ctx.out(formatKeyValues([
        ['checkpoint', r.path],
        ['CRIU log', r.criuLog],
        ['dump', `${Math.round(r.dumpMs)} ms`],
        ['task', r.leaveRunning ? `${id} left running` : `${id} stopped`],
      ]));
    }
  },
});
