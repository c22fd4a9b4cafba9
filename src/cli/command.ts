/** The shape of a CLI command: `stasis <name> …args`. Each command lives in commands/<name>.ts. */
import type { OptionSpecs } from './options.js';
export interface Command {
  /** The verb, or a group and verb separated by a space ('task create'). */
  name: string;
  /** One line for `stasis --help`. */
  summary: string;
  /** Usage text printed by `stasis <name> --help` and on bad arguments. */
  usage: string;
  /** The option table the command parses and its usage lists (options.ts); absent for hand-written usage. */
  options?: OptionSpecs;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(args: string[], io: CliIO): Promise<number>;
}

/** Where a command writes; tests may pass their own. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Where `-i` reads from (default: process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

/** A command as the dispatcher lists it: loaded (a Command) or loaded on demand (`load`). */
export type CommandEntry = Command | LazyCommand;

/** A command whose module is imported only when it runs; name and summary are for matching and help. */
export interface LazyCommand {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** The Command of an entry (imports its module if it is lazy). */
export async function loadCommand(e: CommandEntry): Promise<Command> {
  return 'load' in e ? e.load() : e;
}
