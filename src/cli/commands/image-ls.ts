import type { Command } from '../command.js';
import { parseCommandArgs, usageError } from '../args.js';
import { IMAGE_OPTIONS, imageContext } from '../image-context.js';
import { formatImageList } from '../image-output.js';
import { jsonLine } from '../output.js';

const options = { ...IMAGE_OPTIONS, quiet: { type: 'boolean', short: 'q' } } as const;

/** `stasis image ls`: the images of the node's store. */
export const imageLs: Command = {
  name: 'image ls',
  summary: "list the images in the node's store",
  usage: `Usage: stasis image ls [--json] [-q] [--state-dir DIR]

Lists the images of STATE_DIR/images, most recently used first: REFERENCE, DIGEST, SIZE
(compressed), UNPACKED (id mapping and size of each unpacked rootfs), LAST USED.
-q prints only digests. --json prints an array of {digest, manifestDigest, source, sizeBytes,
pulledAt, refs, lastUsedAt, unpacked: [{mapping, rootfs, sizeBytes, unpackedAt}]}.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    if (positionals.length) throw usageError(`unexpected argument '${positionals[0]}'`);
    const ctx = await imageContext(values, io);
    const images = (await ctx.store.list()).map(({ lastUsedMs: _ms, ...i }) => i);
    if (ctx.json) ctx.out(jsonLine(images));
    else if (values.quiet) ctx.out(images.map((i) => `${i.digest}\n`).join(''));
    else ctx.out(formatImageList(images));
    return 0;
  },
};
