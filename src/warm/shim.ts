/**
 * The shim a prepared sandbox runs. Its process is fixed at `runc create` time as
 * `/bin/sh /.stasis/run`; at adoption the host writes /.stasis/run into the sandbox's overlay with
 * the job's cwd, env and argv, and `runc start` lets the shell read it. The script ends in `exec`,
 * so the job's own command becomes the container's pid 1: exit statuses and signals are unchanged.
 */
import type { ProcessSpec } from '../runtime/task.js';

/** The shim's path inside the container. */
export const SHIM_PATH = '/.stasis/run';

/** The process every prepared sandbox is created with. */
export const SHIM_ARGS: readonly string[] = ['/bin/sh', SHIM_PATH];

/** Quotes one word for a POSIX shell (single quotes; ' becomes '\''). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The shim script for a process: cd, drop what the shell itself exports (SHLVL, PWD, OLDPWD, so the
 * job sees the same environment as without the shim), export the job's env, exec its argv.
 */
export function shimScript(proc: Pick<ProcessSpec, 'args' | 'env' | 'cwd'>): string {
  const lines = ['# written by stasis at adoption of a prepared sandbox'];
  lines.push(`cd ${shellQuote(proc.cwd ?? '/')} || exit 127`);
  lines.push('unset SHLVL OLDPWD PWD');
  for (const e of proc.env ?? []) {
    const eq = e.indexOf('=');
    lines.push(`export ${e.slice(0, eq)}=${shellQuote(e.slice(eq + 1))}`);
  }
  lines.push(`exec ${proc.args.map(shellQuote).join(' ')}`);
  return lines.join('\n') + '\n';
}
