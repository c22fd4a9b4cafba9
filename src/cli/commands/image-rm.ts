import type { Command } from '../command.js';
import { parseCommandArgs, usageError } from '../args.js';
import { IMAGE_OPTIONS, imageContext } from '../image-context.js';
import { shortDigest } from '../image-output.js';
import { jsonLine } from '../output.js';

const options = { ...IMAGE_OPTIONS, force: { type: 'boolean', short: 'f' } } as const;

/** `stasis image rm`: removes images from the node's store. */
export const imageRm: Command = {
  name: 'image rm',
  summary: "remove images from the node's store (never one a running task has mounted)",
  usage: `Usage: stasis image rm REF|DIGEST... [--force] [--json] [--state-dir DIR]

Removes each image with all its references and unpacked rootfs directories; blobs shared with
other images stay. An image whose rootfs a task has mounted is never removed. --json prints
[{"digest","refs"}] of the removed images.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    if (positionals.length === 0) throw usageError('missing image reference or digest');
    const ctx = await imageContext(values, io);
    const removed = [];
    for (const ref of positionals) {
      const info = await ctx.store.remove(ref, { force: values.force ?? false });
      removed.push({ digest: info.digest, refs: info.refs });
      if (!ctx.json) ctx.out(`removed ${info.refs.join(', ') || shortDigest(info.digest)} (${info.digest})\n`);
    }
    if (ctx.json) ctx.out(jsonLine(removed));
    return 0;
  },
};
