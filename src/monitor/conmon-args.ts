/**
 * conmon's command line as a pure function of LaunchOptions (runtime-facts §1.1). conmon creates
 * the container with `runc create` (or `runc restore --detach`, or `runc exec --detach` in exec
 * mode), double-forks, and stays as the container's parent and subreaper: it writes the exit code
 * (RUNDIR/exit), the OOM marker (RUNDIR/oom) and the k8s-file log (RUNDIR/ctr.log).
 */
import path from 'node:path';

/** Everything needed to start one conmon for a container (or for an exec process in it). */
export interface LaunchOptions {
  /** conmon binary. */
  conmon: string;
  /** runc binary conmon runs. */
  runc: string;
  /** runc's state root (`--runtime-arg --root`). */
  runcRoot: string;
  /** CRIU binary (`--runtime-arg --criu`); needed for restore. */
  criu?: string;
  /** runc container id (`-c`). In exec mode: the running container to exec into. */
  containerId: string;
  /** Bundle dir (`-b`): conmon creates the attach socket and the ctl/winsz FIFOs here. In exec mode any private dir. */
  bundle: string;
  /** Monitor dir: pidfile, conmon.pid, ctr.log, exits/, exit, oom; conmon's cwd. */
  runDir: string;
  /** Allocate a pty (`-t`); the spec's process.terminal must match. */
  terminal?: boolean;
  /** Open a stdin pipe fed from the attach socket (`-i`). */
  stdin?: boolean;
  /** conmon kills the container after this many seconds (`-T`); the exit file then holds -1. */
  timeoutSeconds?: number;
  /** Restore from this CRIU image dir (`--restore`) instead of creating; no `runc start` afterwards. */
  restoreFrom?: string;
  /** Extra `runc restore` (or `runc exec`) flags passed with `--runtime-opt`. */
  restoreArgs?: string[];
  /** Exec mode (`-e --exec-process-spec`): run this process.json in the running container. */
  exec?: { processSpecPath: string };
  /** Log size cap (`--log-size-max`); on overflow conmon starts an empty log file. */
  logMaxBytes?: number;
  /** conmon's `-u` (default: the container id, or the run dir's name in exec mode). */
  uuid?: string;
  /** conmon's own log level to syslog (default 'info'). */
  logLevel?: 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Program conmon runs after writing the exit files (`--exit-command`), with its args. */
  exitCommand?: { path: string; args?: string[] };
  /** Added to conmon's environment (and so to the runc it runs, and CRIU's). */
  env?: Record<string, string>;
  /** Called with the first conmon pid while conmon waits on the start pipe (e.g. to move it into a cgroup). */
  onSpawn?: (pid: number) => void | Promise<void>;
  /** Kept ready until `onSpawn` resolves, however long (a monitor ready for a restore): it does not hold the thread open meanwhile. */
  standby?: boolean;
}

/** Files conmon writes under the run dir. */
export const RUN_FILES = {
  pidfile: 'pidfile',
  conmonPid: 'conmon.pid',
  log: 'ctr.log',
  exitDir: 'exits',
  exit: 'exit',
  oom: 'oom',
} as const;

/** Files conmon creates in the bundle dir. */
export const BUNDLE_FILES = { attach: 'attach', ctl: 'ctl', winsz: 'winsz' } as const;

/** The conmon argv (without the binary) for `o`. */
export function conmonArgs(o: LaunchOptions): string[] {
  const run = (f: string) => path.join(o.runDir, f);
  const uuid = o.uuid ?? (o.exec ? path.basename(o.runDir) : o.containerId);
  const a = ['--api-version', '1', '-c', o.containerId, '-u', uuid, '-n', o.containerId, '-r', o.runc];
  a.push('--runtime-arg', '--root', '--runtime-arg', o.runcRoot);
  if (o.criu) a.push('--runtime-arg', '--criu', '--runtime-arg', o.criu);
  a.push('-b', o.bundle);
  a.push('-p', run(RUN_FILES.pidfile), '-P', run(RUN_FILES.conmonPid));
  a.push('-l', `k8s-file:${run(RUN_FILES.log)}`);
  a.push('--exit-dir', run(RUN_FILES.exitDir), '-0', o.runDir);
  a.push('--full-attach', '--syslog', '--log-level', o.logLevel ?? 'info');
  // No fsync of ctr.log between the process' exit and the exit file: the node reads the log from the
  // page cache, and a machine crash ends the task anyway (its records are not fsynced either).
  a.push('--no-sync-log');
  if (o.terminal) a.push('-t');
  if (o.stdin) a.push('-i');
  if (o.timeoutSeconds !== undefined) a.push('-T', String(Math.max(1, Math.ceil(o.timeoutSeconds))));
  if (o.logMaxBytes !== undefined) a.push('--log-size-max', String(o.logMaxBytes));
  if (o.exec) a.push('-e', '--exec-process-spec', o.exec.processSpecPath);
  else if (o.restoreFrom) a.push('--restore', o.restoreFrom);
  for (const r of o.restoreArgs ?? []) a.push('--runtime-opt', r);
  if (o.exitCommand) {
    a.push('--exit-command', o.exitCommand.path);
    for (const x of o.exitCommand.args ?? []) a.push('--exit-command-arg', x);
  }
  return a;
}
