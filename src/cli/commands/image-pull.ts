import type { Command } from '../command.js';
import { onePositional, parseCommandArgs } from '../args.js';
import { IMAGE_OPTIONS, imageContext, parseMapFlag, POLICY_OPTIONS, pullPolicy } from '../image-context.js';
import { formatEnsured, ProgressLine } from '../image-output.js';
import { jsonLine } from '../output.js';

const options = { ...IMAGE_OPTIONS, ...POLICY_OPTIONS, map: { type: 'string' } } as const;

/** `stasis image pull`: puts an image into the node's store and unpacks it. */
export const imagePull: Command = {
  name: 'image pull',
  summary: "pull an image into the node's store and unpack it (a progress bar on a terminal)",
  usage: `Usage: stasis image pull REF [--map HOSTID:SIZE] [--insecure] [--authfile FILE]
                         [--max-image-bytes SIZE] [--policy FILE] [--state-dir DIR] [--json]

Pulls REF (registry.example:5000/team/tool:1.4, name@sha256:<hex>, oci:/path/to/layout:tag) into
STATE_DIR/images and unpacks its rootfs, once per image and id mapping however many pulls run at
once. Prints the digest the reference resolved to and the rootfs directory.
  --map HOSTID:SIZE   unpack with owners shifted: container id 0..SIZE-1 = host id HOSTID..
  --insecure          plain HTTP or unverified TLS for REF's registry
  --authfile FILE     registry credentials (containers-auth.json format)
  --policy FILE       the node's image policy (JSON; env STASIS_IMAGE_POLICY) instead of trusting REF
A progress bar (bytes and layers) is drawn on stderr when it is a terminal.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    const ref = onePositional(positionals, 'image reference');
    const mapping = parseMapFlag(values.map);
    const policy = await pullPolicy(ref, values, io.env);
    const ctx = await imageContext(values, io);
    const bar = new ProgressLine(io.stderr);
    let image;
    try {
      image = await ctx.store.ensure(ref, { policy, mapping, onProgress: (p) => bar.update(p) });
    } finally {
      bar.end();
    }
    ctx.out(ctx.json ? jsonLine(image) : formatEnsured(image));
    return 0;
  },
};
