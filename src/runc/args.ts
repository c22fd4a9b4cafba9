/**
 * runc command lines as pure functions of typed options (go-runc style). Every builder returns the
 * argv that follows the binary: global flags first, then the verb, its flags, and the container id.
 * Nothing here runs anything; src/runc/runc.ts does that.
 */

/** Options that apply to every runc invocation (global flags). */
export interface RuncGlobal {
  /** runc's state directory (`--root`). */
  root: string;
  /** CRIU binary passed with `--criu` (needed for checkpoint/restore). */
  criu?: string;
}

/** Flags of `runc checkpoint`. */
export interface CheckpointFlags {
  imagePath: string;
  workPath: string;
  leaveRunning?: boolean;
  tcpEstablished?: boolean;
  fileLocks?: boolean;
  externalUnixSockets?: boolean;
  shellJob?: boolean;
  preDump?: boolean;
  parentPath?: string;
}

/** Flags of a foreground `runc exec`. */
export interface ExecFlags {
  env?: string[];
  cwd?: string;
  /** `uid[:gid]` as runc takes it. */
  user?: string;
  /** Exec even when the container is paused (`--ignore-paused`). */
  ignorePaused?: boolean;
}

/** Global flags: `--root ROOT [--criu CRIU]`. */
export function globalArgs(g: RuncGlobal): string[] {
  return ['--root', g.root, ...(g.criu ? ['--criu', g.criu] : [])];
}

/** `runc state ID`. */
export function stateArgs(g: RuncGlobal, id: string): string[] {
  return [...globalArgs(g), 'state', id];
}

/** `runc list --format json`. */
export function listArgs(g: RuncGlobal): string[] {
  return [...globalArgs(g), 'list', '--format', 'json'];
}

/** `runc start ID`. */
export function startArgs(g: RuncGlobal, id: string): string[] {
  return [...globalArgs(g), 'start', id];
}

/** `runc kill [--all] ID SIGNAL`; numeric signals are passed as numbers, names without `SIG`. */
export function killArgs(g: RuncGlobal, id: string, signal: string | number, all = false): string[] {
  return [...globalArgs(g), 'kill', ...(all ? ['--all'] : []), id, normalizeSignal(signal)];
}

/** `runc pause ID`. */
export function pauseArgs(g: RuncGlobal, id: string): string[] {
  return [...globalArgs(g), 'pause', id];
}

/** `runc resume ID`. */
export function resumeArgs(g: RuncGlobal, id: string): string[] {
  return [...globalArgs(g), 'resume', id];
}

/** `runc ps --format json ID`. */
export function psArgs(g: RuncGlobal, id: string): string[] {
  return [...globalArgs(g), 'ps', '--format', 'json', id];
}

/** `runc events --stats ID` (one stats object, then exit). */
export function statsArgs(g: RuncGlobal, id: string): string[] {
  return [...globalArgs(g), 'events', '--stats', id];
}

/** `runc update --resources FILE ID` (`-` reads the JSON from stdin). */
export function updateArgs(g: RuncGlobal, id: string, resourcesFile: string): string[] {
  return [...globalArgs(g), 'update', '--resources', resourcesFile, id];
}

/** `runc checkpoint …flags ID`; needs `criu` in the globals on hosts whose criu is not on PATH. */
export function checkpointArgs(g: RuncGlobal, id: string, f: CheckpointFlags): string[] {
  const a = [...globalArgs(g), 'checkpoint', '--image-path', f.imagePath, '--work-path', f.workPath];
  if (f.parentPath) a.push('--parent-path', f.parentPath);
  if (f.preDump) a.push('--pre-dump');
  if (f.leaveRunning) a.push('--leave-running');
  if (f.tcpEstablished) a.push('--tcp-established');
  if (f.fileLocks) a.push('--file-locks');
  if (f.externalUnixSockets) a.push('--ext-unix-sk');
  if (f.shellJob) a.push('--shell-job');
  a.push(id);
  return a;
}

/** `runc delete [--force] ID`. */
export function deleteArgs(g: RuncGlobal, id: string, force = false): string[] {
  return [...globalArgs(g), 'delete', ...(force ? ['--force'] : []), id];
}

/** `runc exec [flags] ID ARGS…` in the foreground (runc's exit status is the process'). */
export function execArgs(g: RuncGlobal, id: string, args: string[], f: ExecFlags = {}): string[] {
  const a = [...globalArgs(g), 'exec'];
  for (const e of f.env ?? []) a.push('--env', e);
  if (f.cwd) a.push('--cwd', f.cwd);
  if (f.user) a.push('--user', f.user);
  if (f.ignorePaused) a.push('--ignore-paused');
  a.push(id, ...args);
  return a;
}

/** Signal as runc takes it: numbers as decimal strings, names upper-case without a `SIG` prefix. */
export function normalizeSignal(signal: string | number): string {
  if (typeof signal === 'number') return String(signal);
  const s = signal.trim().toUpperCase();
  return s.startsWith('SIG') ? s.slice(3) : s;
}
