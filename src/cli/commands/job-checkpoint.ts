/** `stasis job checkpoint JOB_ID --leave-running [--image DIR]`: checkpoint a running job on its node. */
import path from 'node:path';
import type { Command } from '../command.js';
import { onePositional, parseOptions, usageError } from '../args.js';
import { jsonLine } from '../output.js';
import { CONTROL_OPTIONS, withJobControl } from '../job-control-cli.js';
import { formatUsage, type OptionSpecs } from '../options.js';

const options = {
  'leave-running': { type: 'boolean', help: 'keep the job running after the dump' },
  image: { type: 'string', value: 'DIR', help: 'write the image to this directory on the node (absent or empty)' },
  'tcp-established': { type: 'boolean', help: 'checkpoint established TCP connections' },
  'file-locks': { type: 'boolean', help: 'checkpoint file locks' },
  'no-rootfs-diff': { type: 'boolean', help: "do not save the job's filesystem changes" },
  ...CONTROL_OPTIONS,
} as const satisfies OptionSpecs;

/** `stasis job checkpoint`. */
export const jobCheckpoint: Command = {
  name: 'job checkpoint',
  summary: 'checkpoint a running job (CRIU) and keep it running',
  usage: formatUsage(
    {
      synopsis: 'job checkpoint [options] JOB_ID',
      about: `Checkpoints the job on the node that runs it. With --leave-running the job keeps running and the
image goes into the node's checkpoint store (<checkpoint dir>/<namespace>/<job>/<seq>; without a
--checkpoint-dir on the node: <state dir>/checkpoints), or into --image DIR on that node. Prints the
image's path. Without --leave-running the node refuses: to move a job use \`stasis job migrate\`.`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
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
