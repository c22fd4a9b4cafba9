/** `stasis job migrate JOB_ID [--to NODE]`: checkpoint a running job and hand it back to the queue. */
import { jsonLine } from '../output.js';
import { jobControlCommand } from '../job-control-command.js';
import { migrateJob } from '../../queue/migration.js';

/** `stasis job migrate`. */
export const jobMigrate = jobControlCommand({
  verb: 'migrate',
  summary: 'move a running job to another node (checkpoint, hand back, restore there)',
  about: `The node running the job checkpoints it into its checkpoint store (which must be shared with the other
nodes, --checkpoint-dir), then hands the same job back to the queue. The next node to take it (only
NODE with --to) restores it and the job finishes there; its result lists both nodes and the checkpoint.`,
  flags: {
    to: { type: 'string', value: 'NODE', help: 'only this node may take the job' },
  },
  async act({ jobId, control, t, json, values, io }) {
    const r = await migrateJob(control, jobId, { ...(values.to ? { to: values.to } : {}), ...t });
    if (json) io.stdout.write(jsonLine(r));
    else io.stdout.write(`job ${jobId} checkpointed on node ${r.from} (#${r.seq}) and handed back to the queue${r.to ? ` for node ${r.to}` : ''}\n${r.path}\n`);
  },
});
