/** Validation of task, exec and namespace ids, and the names derived from them. */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { errors } from '../errors.js';

/** What a namespace, task id or exec id must look like. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Throws ERR_INVALID_ARGUMENT unless `id` matches ID_PATTERN. */
export function validateId(id: unknown, field: string): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw errors.invalidArgument(
      `Expected \`${field}\` to be 1-64 characters of letters, digits, '_', '.', '-' starting with a letter or digit, got \`${JSON.stringify(id)}\``,
      { field },
    );
  }
  return id;
}

/**
 * The runc container id of a task. '+' cannot occur in ids, so the mapping is one-to-one
 * (namespace "a-b" + id "c" and namespace "a" + id "b-c" stay distinct).
 */
export function containerIdFor(namespace: string, id: string): string {
  return `${namespace}+${id}`;
}

/**
 * A short stable name of a state directory (8 hex digits of sha256 of its absolute path), so two
 * stasis instances on one host (different state dirs, same ids) never share a cgroup.
 */
export function stateDirTag(stateDir: string): string {
  return createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 8);
}

/**
 * The explicit cgroup path of a task: /stasis/<state dir tag>+<namespace>+<id>. One level under the
 * shared /stasis parent, so `runc delete` removing the task's cgroup leaves no empty parents behind.
 */
export function cgroupsPathFor(stateDir: string, namespace: string, id: string): string {
  return `/stasis/${stateDirTag(stateDir)}+${namespace}+${id}`;
}

/** A valid hostname derived from a task id ('_' and '.' runs become '-'). */
export function hostnameFor(id: string): string {
  const h = id.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return h.length > 0 ? h : 'task';
}
