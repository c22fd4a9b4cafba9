import type { Command } from '../command.js';
import { doctor } from './doctor.js';
import { taskCommands } from './task.js';
import { runCommand } from './run.js';
import { submitCommand } from './submit.js';
import { statusCommand } from './status.js';
import { logsCommand } from './logs.js';
import { resultCommand } from './result.js';
import { cancelCommand } from './cancel.js';
import { serveCommand } from './serve.js';

/**
 * Every command of the CLI, in the order `stasis --help` lists them. Add a command by importing
 * it here; main.ts dispatches on the longest matching name ('task create' before 'task').
 */
export const commands: Command[] = [
  ...taskCommands,
  doctor,
  runCommand,
  submitCommand,
  statusCommand,
  logsCommand,
  resultCommand,
  cancelCommand,
  serveCommand,
];
