/**
 * A command built from its option table: the usage lists the table and run() gets the arguments
 * already parsed against that same table, so a command never restates either.
 */
import type { CliIO, Command } from './command.js';
import { onePositional, parseOptions, type CommandArgs } from './args.js';
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

/** The texts and own flags of a command that acts on one thing named by its id (a task, a job). */
export interface IdCommandRow<T extends OptionSpecs> {
  /** One line for `stasis --help`. */
  summary: string;
  /** The synopsis without `Usage: stasis ` (default `<name> [options] <ID>`). */
  synopsis?: string;
  /** The paragraphs of the usage between the synopsis and the flags. */
  about: string;
  /** The command's own flags; the family's shared ones are appended. */
  flags: T;
}

/** What every command of one family (`task …`, `job …`) has in common: its id and its shared flags. */
export interface IdCommandFamily<S extends OptionSpecs> {
  /** The id's placeholder in the synopsis ('ID', 'JOB_ID'). */
  id: string;
  /** How the usage error of a missing id names it ('task id'). */
  idName: string;
  /** The flags every command of the family takes, listed after its own. */
  shared: S;
}

/** Builds `<name> [options] <ID>` from a row: its flags plus the family's, then `run` with the one id. */
export function idCommand<const T extends OptionSpecs, const S extends OptionSpecs>(
  name: string,
  row: IdCommandRow<T>,
  family: IdCommandFamily<S>,
  run: (id: string, parsed: CommandArgs<FlagValues<T & S>>, io: CliIO) => Promise<number>,
): Command {
  const options: T & S = { ...row.flags, ...family.shared };
  return tableCommand({
    name,
    summary: row.summary,
    synopsis: row.synopsis ?? `${name} [options] ${family.id}`,
    about: row.about,
    options,
    run: (parsed, io) => run(onePositional(parsed.positionals, family.idName), parsed, io),
  });
}
