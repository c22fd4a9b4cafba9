/**
 * The image config (OCI image-spec config / Docker container config): the process defaults an
 * image carries. Read from the store's layout through the image's manifest.
 */
import { z } from 'zod';
import { errors } from '../errors.js';
import { readBlob, readManifest } from './layout.js';

const StringList = z.array(z.string()).nullish();

const ConfigBlobSchema = z
  .object({
    architecture: z.string().optional(),
    os: z.string().optional(),
    config: z
      .object({
        Env: StringList,
        Entrypoint: StringList,
        Cmd: StringList,
        WorkingDir: z.string().nullish(),
        User: z.string().nullish(),
        Labels: z.record(z.string()).nullish(),
        StopSignal: z.string().nullish(),
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();

/** What stasis uses of an image config (ExposedPorts, Volumes, Healthcheck are ignored). */
export interface ImageConfig {
  /** `KEY=value` entries, in the image's order. */
  env: string[];
  /** Absent when the image sets none (null and absent are the same to docker). */
  entrypoint?: string[];
  cmd?: string[];
  /** Absent or '' means `/`. */
  workingDir?: string;
  /** `''`, `name`, `uid`, `name:group`, `uid:gid`, … */
  user?: string;
  labels: Record<string, string>;
  stopSignal?: string;
  architecture?: string;
  os?: string;
}

/** Parses a config blob's JSON into an ImageConfig; ERR_FAILED_PRECONDITION when it is not one. */
export function parseImageConfig(json: unknown, what: string): ImageConfig {
  const r = ConfigBlobSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw errors.failedPrecondition(`the config of image ${what} is invalid at ${i.path.join('.') || 'top level'}: ${i.message}`);
  }
  const c = r.data.config ?? {};
  const out: ImageConfig = { env: c.Env ?? [], labels: c.Labels ?? {} };
  if (c.Entrypoint) out.entrypoint = c.Entrypoint;
  if (c.Cmd) out.cmd = c.Cmd;
  if (c.WorkingDir) out.workingDir = c.WorkingDir;
  if (c.User) out.user = c.User;
  if (c.StopSignal) out.stopSignal = c.StopSignal;
  if (r.data.architecture) out.architecture = r.data.architecture;
  if (r.data.os) out.os = r.data.os;
  return out;
}

/** Configs read so far, by blobs dir and manifest digest (the most recent CONFIGS_KEPT). */
const configs = new Map<string, ImageConfig>();
const CONFIGS_KEPT = 64;

/**
 * Reads the config of the image manifest `manifestDigest` from a layout's blobs dir. A manifest's
 * digest names its config for good, and both blobs are checked against their digests when read, so
 * a config read once is kept (every job from an image resolves it). Each caller gets its own copy.
 */
export async function readImageConfig(blobs: string, manifestDigest: string, what: string): Promise<ImageConfig> {
  const key = `${blobs}\0${manifestDigest}`;
  const known = configs.get(key);
  if (known) return structuredClone(known);
  const manifest = await readManifest(blobs, manifestDigest);
  const buf = await readBlob(blobs, manifest.config.digest);
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch {
    throw errors.failedPrecondition(`the config of image ${what} is not JSON`);
  }
  const config = parseImageConfig(json, what);
  configs.set(key, config);
  if (configs.size > CONFIGS_KEPT) configs.delete(configs.keys().next().value as string);
  return structuredClone(config);
}
