/** `stasis job checkpoint JOB_ID --leave-running [--image DIR]`: checkpoint a running job on its node. */
import path from 'node:path';
import type { Command } from '../command.js';
import { onePositional, parseCommandArgs, usageError } from '../args.js';
import { jsonLine } from '../output.js';
import { CONTROL_FLAGS_USAGE, CONTROL_OPTIONS, withJobControl } from '../job-control-cli.js';

/** `stasis job checkpoint`. */
export const jobCheckpoint: Command = {
  name: 'job checkpoint',
  summary: 'checkpoint a running job (CRIU) and keep it running',
  usage: `Usage: stasis job checkpoint [options] JOB_ID

Checkpoints the job on the node that runs it. With --leave-running the job keeps running and the
image goes into the node's checkpoint store (<checkpoint dir>/<namespace>/<job>/<seq>; without a
--checkpoint-dir on the node: <state dir>/checkpoints), or into --image DIR on that node. Prints the
image's path. Without --leave-running the node refuses: to move a job use \`stasis job migrate\`.

      --leave-running      keep the job running after the dump
      --image DIR          write the image to this directory on the node (absent or empty)
      --tcp-established    checkpoint established TCP connections
      --file-locks         checkpoint file locks
      --no-rootfs-diff     do not save the job's filesystem changes
${CONTROL_FLAGS_USAGE}`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      ...CONTROL_OPTIONS,
      'leave-running': { type: 'boolean' },
      image: { type: 'string' },
      'tcp-established': { type: 'boolean' },
      'file-locks': { type: 'boolean' },
      'no-rootfs-diff': { type: 'boolean' },
    });
    const jobId = onePositional(positionals, 'JOB_ID');
    if (values.image !== undefined && values.image === '') throw usageError('Expected `--image` to be a directory, got an empty string');
    return withJobControl(values, io, async (control, t, json) => {
      const r = await control.checkpoint(jobId, {
        leaveRunning: values['leave-running'] ?? false,
        ...(values.image !== undefined ? { image: path.resolve(values.image) } : {}),
        ...(values['tcp-established'] ? { tcpEstablished: true } : {}),
        ...(values['file-locks'] ? { fileLocks: true } : {}),
        ...(values['no-rootfs-diff'] ? { rootfsDiff: false } : {}),
        ...t,
      });
      if (json) io.stdout.write(jsonLine(r));
      else {
        const where = r.store ? ` (store ${r.store.root}, #${r.store.seq})` : '';
        io.stdout.write(`checkpointed job ${jobId} on node ${r.nodeId} in ${r.dumpMs} ms${where}\n${r.path}\n`);
      }
      return 0;
    });
  },
};
