/** `stasis job checkpoint JOB_ID --leave-running [--image DIR]`: checkpoint a running job on its node. */
import path from 'node:path';
import { usageError } from '../args.js';
import { jsonLine } from '../output.js';
import { jobControlCommand } from '../job-control-command.js';

/** `stasis job checkpoint`. */
export const jobCheckpoint = jobControlCommand({
  verb: 'checkpoint',
  summary: 'checkpoint a running job (CRIU) and keep it running',
  about: `Checkpoints the job on the node that runs it. With --leave-running the job keeps running and the
image goes into the node's checkpoint store (<checkpoint dir>/<namespace>/<job>/<seq>; without a
--checkpoint-dir on the node: <state dir>/checkpoints), or into --image DIR on that node. Prints the
image's path. Without --leave-running the node refuses: to move a job use \`stasis job migrate\`.`,
  flags: {
    'leave-running': { type: 'boolean', help: 'keep the job running after the dump' },
    image: { type: 'string', value: 'DIR', help: 'write the image to this directory on the node (absent or empty)' },
    'tcp-established': { type: 'boolean', help: 'checkpoint established TCP connections' },
    'file-locks': { type: 'boolean', help: 'checkpoint file locks' },
    'no-rootfs-diff': { type: 'boolean', help: "do not save the job's filesystem changes" },
  },
  check(values) {
    if (values.image !== undefined && values.image === '') throw usageError('Expected `--image` to be a directory, got an empty string');
  },
  async act({ jobId, control, t, json, values, io }) {
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
  },
});
