/**
 * A job that names an image, on this node: the image is ensured in the node's store (one pull and one
 * unpack per digest and id mapping, whatever the concurrency), the tag resolved to a digest at claim
 * time, and the process made from its config by docker's rules with the payload winning. A job that
 * restores a checkpoint runs on exactly the digest the checkpoint was taken on.
 */
import type { IdMapping } from '../config/schema.js';
import { effectiveProcess } from '../image/process.js';
import { parseImageRef } from '../image/reference.js';
import type { ImageStore } from '../image/store.js';
import { resolveUser } from '../image/user.js';
import type { ImagePolicy } from '../image/policy.js';
import type { JobPayload } from './job-schema.js';
import type { JobProcess } from './run-spec.js';

/** A job's image as the node will run it. */
export interface JobImage {
  image: { ref: string; digest: string };
  /** The unpacked rootfs (owned by the node's mapped ids when it has a user namespace). */
  rootfs: string;
  process: JobProcess;
}

/** The reference that pins `ref` to `digest` (`registry/repo@sha256:…`; an OCI layout ref as it is). */
export function pinnedRef(ref: string, digest: string): string {
  const r = parseImageRef(ref);
  if (r.transport !== 'docker' || !r.registry) return ref;
  return `${r.registry}/${r.repository}@${digest}`;
}

/** Ensures the payload's image (pinned to `digest` when given) and derives the job's process from it. */
export async function resolveJobImage(
  store: ImageStore,
  payload: JobPayload & { image: string },
  policy: ImagePolicy,
  mapping: IdMapping | null,
  digest?: string,
): Promise<JobImage> {
  const ref = digest ? pinnedRef(payload.image, digest) : payload.image;
  const ensured = await store.ensure(ref, { policy, ...(mapping ? { mapping } : {}) });
  const p = effectiveProcess({
    config: ensured.config,
    image: payload.image,
    ...(payload.command ? { command: payload.command } : {}),
    ...(payload.env ? { env: payload.env } : {}),
    ...(payload.cwd ? { cwd: payload.cwd } : {}),
    ...(payload.user ? { user: payload.user } : {}),
  });
  const user = await resolveUser(ensured.rootfs, p.user, `image ${payload.image}`);
  return {
    image: { ref: payload.image, digest: ensured.digest },
    rootfs: ensured.rootfs,
    process: { args: p.args, env: p.env, cwd: p.cwd, user: { uid: user.uid, gid: user.gid } },
  };
}
