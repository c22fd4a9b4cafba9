/** Can this host restore that checkpoint? Compares a manifest with a host's versions and CPU. */
import { errors } from '../errors.js';
import type { HostInfo, Manifest } from './manifest.js';

/** The verdict of a compatibility check; `reasons` are whole sentences. */
export type Compat = { ok: true } | { ok: false; reasons: string[] };

/** Major.minor of a version string ("4.1.1" → "4.1"). */
export function majorMinor(v: string): string {
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  return m ? `${m[1]}.${m[2]}` : v;
}

/** Extra expectations of a restore beyond the host: the rootfs the task will run on. */
export interface CompatOptions {
  /** Digest of the rootfs this host would restore onto; compared with the manifest's when both exist. */
  rootfsDigest?: string;
}

/**
 * Compares the host recorded in a manifest with `host`: same architecture, CRIU major.minor, runc
 * version and kernel release, and every restore-relevant CPU flag of the image present on the host.
 */
export function checkCompat(m: Pick<Manifest, 'host' | 'rootfs'>, host: HostInfo, o: CompatOptions = {}): Compat {
  const img = m.host;
  const reasons: string[] = [];
  if (img.arch !== host.arch) {
    reasons.push(`The checkpoint was taken on ${img.arch}, but this host is ${host.arch}.`);
  }
  if (majorMinor(img.criu.version) !== majorMinor(host.criu.version)) {
    reasons.push(
      `The checkpoint was taken with CRIU ${img.criu.version}, but this host has CRIU ${host.criu.version} (major.minor must match).`,
    );
  }
  if (img.runc.version !== host.runc.version) {
    reasons.push(`The checkpoint was taken with runc ${img.runc.version}, but this host has runc ${host.runc.version}.`);
  }
  if (img.kernel.release !== host.kernel.release) {
    reasons.push(`The checkpoint was taken on kernel ${img.kernel.release}, but this host runs kernel ${host.kernel.release}.`);
  }
  const have = new Set(host.cpu.flags);
  const missing = img.cpu.flags.filter((f) => !have.has(f));
  if (missing.length > 0) {
    reasons.push(
      `This host's CPU (${host.cpu.model || host.cpu.vendor || 'unknown'}) lacks ${missing.length === 1 ? 'the feature' : 'features'} ` +
        `the checkpointed process may use: ${missing.join(', ')}.`,
    );
  }
  if (o.rootfsDigest && m.rootfs && o.rootfsDigest !== m.rootfs.digest) {
    reasons.push(
      `The rootfs differs from the one the checkpoint was taken on (${m.rootfs.path}: ${m.rootfs.digest}, here: ${o.rootfsDigest}).`,
    );
  }
  return reasons.length === 0 ? { ok: true } : { ok: false, reasons };
}

/** Throws ERR_CHECKPOINT listing every reason when `host` cannot restore the checkpoint of manifest `m`. */
export function assertCompatible(m: Manifest, host: HostInfo, o: CompatOptions = {}): void {
  const c = checkCompat(m, host, o);
  if (c.ok) return;
  throw errors.checkpoint(
    `Checkpoint ${m.namespace}/${m.jobId}#${m.seq} cannot be restored on this host: ${c.reasons.join(' ')}`,
    { reasons: c.reasons, jobId: m.jobId, seq: m.seq },
  );
}
