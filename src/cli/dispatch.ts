/** Command dispatch of the CLI: longest matching name, help, usage errors and error printing. */
import { loadCommand, type CliIO, type Command, type CommandEntry } from './command.js';
import { isUsageError, takeLeadingGlobals, wantsHelp } from './args.js';
import { formatError } from './output.js';
import { hasCode, toErrorData } from '../errors.js';

/** The command whose (space-separated) name is the longest prefix of `argv`, and the args after it. */
export function findCommand<C extends { name: string }>(commands: C[], argv: string[]): { command: C; args: string[] } | null {
  let best: { command: C; args: string[] } | null = null;
  let bestLen = 0;
  for (const command of commands) {
    const words = command.name.split(' ');
    if (words.length <= bestLen || words.length > argv.length) continue;
    if (words.every((w, i) => argv[i] === w)) {
      best = { command, args: argv.slice(words.length) };
      bestLen = words.length;
    }
  }
  return best;
}

/** `stasis --help`: every command with its summary; `group` limits the list to one group ('task'). */
export function formatHelp(commands: { name: string; summary: string }[], group?: string): string {
  const shown = group ? commands.filter((c) => c.name.startsWith(`${group} `)) : commands;
  const w = Math.max(0, ...shown.map((c) => c.name.length));
  const lines = shown.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`);
  return [
    `Usage: stasis [--state-dir DIR] [-n NAMESPACE] ${group ?? '<command>'}${group ? ' <verb>' : ''} [options]`,
    '',
    'Commands:',
    ...lines,
    '',
    'Global options: --state-dir DIR (default /var/lib/stasis, env STASIS_STATE_DIR),',
    '  -n/--namespace NAME (default "default", env STASIS_NAMESPACE), --json (where supported).',
    "Run 'stasis <command> --help' for a command's usage.",
    '',
  ].join('\n');
}

/**
 * Runs the CLI over `argv` (without node and the script) and resolves to the process exit code.
 * Only the chosen command's module is loaded (help lists names and summaries without loading any).
 */
export async function runCli(commands: CommandEntry[], rawArgv: string[], io: CliIO, version = '0.0.0'): Promise<number> {
  let argv: string[];
  let env: NodeJS.ProcessEnv;
  try {
    ({ argv, env } = takeLeadingGlobals(rawArgv, io.env));
  } catch (e) {
    io.stderr.write(formatError(e instanceof Error ? e.message : String(e)));
    io.stderr.write(formatHelp(commands));
    return 2;
  }
  const first = argv[0];
  if (first === undefined) {
    io.stderr.write(formatHelp(commands));
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(formatHelp(commands));
    return 0;
  }
  if (first === '--version' || first === '-V' || first === 'version') {
    io.stdout.write(`stasis ${version}\n`);
    return 0;
  }
  const found = findCommand(commands, argv);
  if (!found) {
    const isGroup = commands.some((c) => c.name.startsWith(`${first} `));
    if (isGroup && (argv.length === 1 || wantsHelp(argv.slice(1)))) {
      const help = formatHelp(commands, first);
      if (argv.length === 1) io.stderr.write(help);
      else io.stdout.write(help);
      return argv.length === 1 ? 2 : 0;
    }
    const what = isGroup ? `${first} ${argv[1] ?? ''}`.trim() : first;
    io.stderr.write(`stasis: unknown command '${what}'\n`);
    io.stderr.write(formatHelp(commands, isGroup ? first : undefined));
    return 2;
  }
  const { args } = found;
  const command = await loadCommand(found.command);
  if (wantsHelp(args)) {
    io.stdout.write(withNewline(command.usage));
    return 0;
  }
  try {
    return await command.run(args, { ...io, env });
  } catch (e) {
    return reportError(e, command, io);
  }
}

/** Prints a failure and returns its exit code: 2 for invalid arguments, 1 for everything else. */
export function reportError(e: unknown, command: Command | null, io: CliIO): number {
  if (hasCode(e)) {
    const d = toErrorData(e);
    io.stderr.write(formatError(d.message, d.details));
    if (command && isUsageError(e)) io.stderr.write(withNewline(command.usage));
    return d.code === 'ERR_INVALID_ARGUMENT' ? 2 : 1;
  }
  const d = toErrorData(e);
  io.stderr.write(formatError(`internal error: ${d.message}`));
  if (io.env.STASIS_DEBUG && d.stack) io.stderr.write(`${d.stack}\n`);
  return 1;
}

function withNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}
