import type { Command } from '../command.js';
import { taskCheckpoint } from './task-checkpoint.js';
import { taskCreate } from './task-create.js';
import { taskDelete } from './task-delete.js';
import { taskExec } from './task-exec.js';
import { taskKill } from './task-kill.js';
import { taskList } from './task-list.js';
import { taskLogs } from './task-logs.js';
import { taskPause } from './task-pause.js';
import { taskPs } from './task-ps.js';
import { taskResize } from './task-resize.js';
import { taskRestore } from './task-restore.js';
import { taskResume } from './task-resume.js';
import { taskStart } from './task-start.js';
import { taskState } from './task-state.js';
import { taskStats } from './task-stats.js';
import { taskUpdate } from './task-update.js';
import { taskWait } from './task-wait.js';

/** The low-level `stasis task …` commands (like containerd's `ctr task`), in help order. */
export const taskCommands: Command[] = [
  taskCreate,
  taskStart,
  taskState,
  taskList,
  taskLogs,
  taskKill,
  taskPause,
  taskResume,
  taskExec,
  taskPs,
  taskStats,
  taskUpdate,
  taskCheckpoint,
  taskRestore,
  taskWait,
  taskDelete,
  taskResize,
];
