import type { Command } from '../command.js';
import { onePositional, parseCommandArgs } from '../args.js';
import { IMAGE_OPTIONS, imageContext } from '../image-context.js';

/** `stasis image inspect`: one stored image as JSON. */
export const imageInspect: Command = {
  name: 'image inspect',
  summary: 'show a stored image: digest, references, layers, config, unpacked rootfs directories',
  usage: `Usage: stasis image inspect REF|DIGEST [--state-dir DIR]

Prints one image of the node's store as JSON (always; --json is accepted): digest, manifestDigest,
source, sizeBytes, refs, lastUsedAt, unpacked, layers and config (env, entrypoint, cmd, workingDir,
user, labels). REF is a reference pulled before, a digest, or a digest prefix of 12+ hex digits.
No registry is contacted.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, IMAGE_OPTIONS);
    const ref = onePositional(positionals, 'image reference or digest');
    const ctx = await imageContext(values, io);
    const { lastUsedMs: _ms, ...image } = await ctx.store.inspect(ref);
    ctx.out(`${JSON.stringify(image, null, 2)}\n`);
    return 0;
  },
};
