/**
 * What CRIU is told for this node's tasks, and by whom. runc hands the file a container's
 * `org.criu.config` annotation names to CRIU as its configuration, whose settings win over runc's
 * (an `action-script` there runs as host root): every task's spec sets that annotation to '' (no
 * file), whatever annotations it was given (a producer's, or an old checkpoint's). The node's own
 * settings reach CRIU through CRIU_CONFIG_FILE in the environment of the runc it starts, naming a
 * file the node writes under its state dir.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** The annotation runc reads for a CRIU configuration file. */
export const CRIU_CONFIG_ANNOTATION = 'org.criu.config';

/**
 * The node's CRIU settings. `network-lock skip`: a task's network namespace is its own and holds
 * only loopback (network 'none'), so no peer outside needs shielding from its frozen sockets, and
 * the default iptables lock costs 8–12 process starts per dump or restore. Tasks on the host's
 * network have no namespace of their own, which CRIU never locks either way.
 */
const CRIU_CONFIG = '# Written by stasis for its tasks (CRIU_CONFIG_FILE); changes are overwritten.\nnetwork-lock skip\n';

/** Where the node's CRIU configuration lives. */
export function criuConfigPath(stateDir: string): string {
  return path.join(stateDir, 'criu.conf');
}

/** Writes the node's CRIU configuration (atomically, 0644) unless it already holds it. */
export async function writeCriuConfig(stateDir: string): Promise<void> {
  const file = criuConfigPath(stateDir);
  // Missing or unreadable: written below.
  if ((await fs.readFile(file, 'utf8').catch(() => '')) === CRIU_CONFIG) return;
  await fs.mkdir(stateDir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await fs.writeFile(tmp, CRIU_CONFIG, { mode: 0o644 });
  await fs.rename(tmp, file);
}

/** The environment that gives CRIU, started by runc, the node's configuration. */
export function criuEnv(stateDir: string): Record<string, string> {
  return { CRIU_CONFIG_FILE: criuConfigPath(stateDir) };
}

/** `annotations` with no CRIU configuration file of their own (any given one is dropped). */
export function withoutCriuConfig(annotations: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations ?? {})) if (k.toLowerCase() !== CRIU_CONFIG_ANNOTATION) out[k] = v;
  out[CRIU_CONFIG_ANNOTATION] = '';
  return out;
}
