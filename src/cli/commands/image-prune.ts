import type { Command } from '../command.js';
import { parseCommandArgs, parseIntFlag, usageError } from '../args.js';
import { IMAGE_OPTIONS, imageContext, readPolicyFile } from '../image-context.js';
import { jsonLine } from '../output.js';
import { formatBytes, parseByteSize } from '../../config/units.js';

const options = { ...IMAGE_OPTIONS, target: { type: 'string' }, 'min-idle': { type: 'string' }, policy: { type: 'string' } } as const;

/** `stasis image prune`: garbage-collects the node's store. */
export const imagePrune: Command = {
  name: 'image prune',
  summary: 'remove least recently used images that no task has mounted, down to a size',
  usage: `Usage: stasis image prune [--target SIZE] [--min-idle SECONDS] [--policy FILE] [--json] [--state-dir DIR]

Removes images least recently used first until the store holds at most SIZE (default: the
policy's storeMaxBytes with --policy or STASIS_IMAGE_POLICY, else 0 = every image it may remove),
then blobs no remaining image references and debris of interrupted pulls. Never removes an image a
running task has mounted, or one used in the last --min-idle seconds (default 600).`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    if (positionals.length) throw usageError(`unexpected argument '${positionals[0]}'`);
    const file = values.policy ?? io.env.STASIS_IMAGE_POLICY;
    const target = values.target !== undefined ? parseByteSize(values.target, 'target') : file ? (await readPolicyFile(file)).storeMaxBytes : undefined;
    const minIdle = parseIntFlag(values['min-idle'], 'min-idle', 0);
    const ctx = await imageContext(values, io);
    const r = await ctx.store.prune({ targetBytes: target ?? 0, ...(minIdle !== undefined ? { minIdleMs: minIdle * 1000 } : {}) });
    if (ctx.json) ctx.out(jsonLine(r));
    else {
      ctx.out(`removed ${r.removed.length} image(s) and ${r.blobsRemoved} blob(s); store ${formatBytes(r.beforeBytes)} -> ${formatBytes(r.afterBytes)}\n`);
      if (r.skipped.length) ctx.out(`skipped (busy or just used): ${r.skipped.join(', ')}\n`);
    }
    return 0;
  },
};
