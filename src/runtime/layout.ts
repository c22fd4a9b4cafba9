/**
 * Where a task lives on disk: tasksDir/<namespace>/<id>/. One function so every module (and every
 * process that re-opens a task) agrees on the layout.
 *
 *   task.json            TaskRecord (TaskInfo + create options), written atomically
 *   bundle/config.json   the OCI spec; bundle/rootfs is the overlay mount point;
 *                        conmon creates attach, ctl and winsz here
 *   overlay/             a tmpfs of the job's disk size holding the writable layer: upper/, work/
 *   job/                 node-owned, bind-mounted read-only at /.stasis/job: the launch script `run`
 *   run/                 conmon's files: pidfile, conmon.pid, ctr.log, exit, oom, exits/
 *   execs/<execId>/      exec.json + process.json; conmon's exec files (attach, ctl) and run/
 *   markers/<name>.json  written BEFORE risky operations ('pausing', 'checkpointing', …)
 */
import path from 'node:path';
import { runDirOf } from '../config/load.js';

/** Paths of one task. */
export interface TaskPaths {
  dir: string;
  record: string;
  bundle: string;
  spec: string;
  rootfs: string;
  /** The writable layer's tmpfs mount point (holds upper and work). */
  layer: string;
  upper: string;
  work: string;
  /** The node-owned job directory (launch script), mounted read-only into the container. */
  jobDir: string;
  runDir: string;
  log: string;
  pidfile: string;
  execsDir: string;
  markersDir: string;
}

/** Paths of one exec process of a task. */
export interface ExecPaths {
  dir: string;
  record: string;
  processSpec: string;
  runDir: string;
  log: string;
  pidfile: string;
}

/** The namespace directory under the tasks dir. */
export function namespaceDir(tasksDir: string, namespace: string): string {
  return path.join(tasksDir, namespace);
}

/** The layout of task `id` in `namespace`. */
export function taskPaths(tasksDir: string, namespace: string, id: string): TaskPaths {
  return pathsIn(path.join(tasksDir, namespace, id));
}

/**
 * The task layout under any directory. A task adopted from a prepared sandbox (src/warm) is a
 * symlink tasks/<ns>/<id> → STATE_DIR/run/warm/<key>/<slot>, so both names give the same files.
 */
export function pathsIn(dir: string): TaskPaths {
  const bundle = path.join(dir, 'bundle');
  const runDir = path.join(dir, 'run');
  return {
    dir,
    record: path.join(dir, 'task.json'),
    bundle,
    spec: path.join(bundle, 'config.json'),
    rootfs: path.join(bundle, 'rootfs'),
    layer: path.join(dir, 'overlay'),
    upper: path.join(dir, 'overlay', 'upper'),
    work: path.join(dir, 'overlay', 'work'),
    jobDir: path.join(dir, 'job'),
    runDir,
    log: path.join(runDir, 'ctr.log'),
    pidfile: path.join(runDir, 'pidfile'),
    execsDir: path.join(dir, 'execs'),
    markersDir: path.join(dir, 'markers'),
  };
}

/** The layout of exec `execId` of a task. */
export function execPaths(task: TaskPaths, execId: string): ExecPaths {
  const dir = path.join(task.execsDir, execId);
  const runDir = path.join(dir, 'run');
  return {
    dir,
    record: path.join(dir, 'exec.json'),
    processSpec: path.join(dir, 'process.json'),
    runDir,
    log: path.join(runDir, 'ctr.log'),
    pidfile: path.join(runDir, 'pidfile'),
  };
}

/** Where the per-task lock files live (outside task dirs, so a lock can guard a dir's creation and removal). */
export function locksDir(stateDir: string): string {
  return path.join(runDirOf(stateDir), 'locks');
}

/** Where logs of failed restores are kept after their task dir was removed. */
export function failuresDir(stateDir: string): string {
  return path.join(stateDir, 'failures');
}
