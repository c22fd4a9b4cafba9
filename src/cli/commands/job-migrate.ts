/** `stasis job migrate JOB_ID [--to NODE]`: checkpoint a running job and hand it back to the queue. */
import type { Command } from '../command.js';
import { onePositional, parseOptions } from '../args.js';
import { jsonLine } from '../output.js';
import { CONTROL_OPTIONS, withJobControl } from '../job-control-cli.js';
import { formatUsage, type OptionSpecs } from '../options.js';

const options = {
  to: { type: 'string', value: 'NODE', help: 'only this node may take the job' },
  ...CONTROL_OPTIONS,
} as const satisfies OptionSpecs;
import { migrateJob } from '../../queue/migration.js';

/** `stasis job migrate`. */
export const jobMigrate: Command = {
  name: 'job migrate',
  summary: 'move a running job to another node (checkpoint, hand back, restore there)',
  usage: formatUsage(
    {
      synopsis: 'job migrate [options] JOB_ID',
      about: `The node running the job checkpoints it into its checkpoint store (which must be shared with the other
nodes, --checkpoint-dir), then hands the same job back to the queue. The next node to take it (only
NODE with --to) restores it and the job finishes there; its result lists both nodes and the checkpoint.`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const jobId = onePositional(positionals, 'JOB_ID');
    return withJobControl(values, io, async (control, t, json) => {
      const r = await migrateJob(control, jobId, { ...(values.to ? { to: values.to } : {}), ...t });
      if (json) io.stdout.write(jsonLine(r));
      else io.stdout.write(`job ${jobId} checkpointed on node ${r.from} (#${r.seq}) and handed back to the queue${r.to ? ` for node ${r.to}` : ''}\n${r.path}\n`);
      return 0;
    });
  },
};
