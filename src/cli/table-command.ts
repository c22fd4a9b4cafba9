/**
 * A command built from its option table: the usage lists the table and run() gets the arguments
 * already parsed against that same table, so a command never restates either.
 */
import type { CliIO, Command } from './command.js';
import { parseOptions, type CommandArgs } from './args.js';
import { formatUsage, type OptionSpecs, type UsageText } from './options.js';

/** The parsed flag values of option table `T`, as parseOptions returns them. */
export type FlagValues<T extends OptionSpecs> = ReturnType<typeof parseOptions<T>>['values'];

/** What a table command declares: its name, summary and usage text, its table, and its work. */
export interface TableCommandSpec<T extends OptionSpecs> extends UsageText {
  /** The verb, or a group and verb separated by a space ('task list'). */
  name: string;
  /** One line for `stasis --help`. */
  summary: string;
  /** The flags, in the order the usage lists them. */
  options: T;
  /** Runs the command on the parsed arguments; resolves to the process exit code. */
  run(parsed: CommandArgs<FlagValues<T>>, io: CliIO): Promise<number>;
}

/** Builds a Command whose usage is derived from `spec.options` and whose arguments are parsed against it. */
export function tableCommand<const T extends OptionSpecs>(spec: TableCommandSpec<T>): Command {
  const { name, summary, options } = spec;
  return {
    name,
    summary,
    usage: formatUsage(spec, options),
    options,
    async run(args, io) {
      return spec.run(parseOptions(args, options), io);
    },
  };
}
