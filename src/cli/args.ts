/** Argument parsing shared by CLI commands: strict node:util parseArgs plus the global flags. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errors, hasCode, type ErrorDetails, type StasisError } from '../errors.js';
import { DEFAULT_NAMESPACE } from '../runtime/task.js';
import { isAlias, parseConfig, type OptionSpecs } from './options.js';
import { MAX_SIGNAL, signalNumber } from '../os/signals.js';

/** The option table of one command, as node:util parseArgs takes it. */
export type OptionTable = NonNullable<ParseArgsConfig['options']>;

/** The state directory used when neither --state-dir nor STASIS_STATE_DIR is given. */
export const DEFAULT_STATE_DIR = '/var/lib/stasis';

/** The table of the flags every task command accepts: --state-dir, -n/--namespace, --json. */
export const GLOBAL_SPECS = {
  'state-dir': { type: 'string', value: 'DIR', help: 'state directory', env: 'STASIS_STATE_DIR', default: DEFAULT_STATE_DIR },
  namespace: { type: 'string', short: 'n', value: 'NAME', help: 'tenant namespace', env: 'STASIS_NAMESPACE', default: DEFAULT_NAMESPACE },
  json: { type: 'boolean', help: 'print JSON' },
} as const satisfies OptionSpecs;

/** Flags every task command accepts, as node:util parseArgs takes them (derived from GLOBAL_SPECS). */
export const GLOBAL_OPTIONS = parseConfig(GLOBAL_SPECS) satisfies OptionTable;

/** The parsed (not yet resolved) values of the global flags. */
export interface GlobalFlagValues {
  'state-dir'?: string | undefined;
  namespace?: string | undefined;
  json?: boolean | undefined;
}

/** What the global flags resolve to, after environment defaults. */
export interface GlobalOptions {
  stateDir: string;
  namespace: string;
  json: boolean;
}

/** Arguments of one command split into flags, positionals and the command after `--`. */
export interface CommandArgs<V> {
  values: V;
  /** Positionals before `--`. */
  positionals: string[];
  /** Everything after the first `--` (the command to run), or [] when there was no `--`. */
  rest: string[];
  /** Whether a `--` was given at all. */
  hasRest: boolean;
}

/** A usage error: bad or unknown flags. main.ts prints the command's usage after the message. */
export function usageError(message: string): StasisError {
  return errors.invalidArgument(message, { usage: true });
}

/** True for errors that should be followed by the command's usage text. */
export function isUsageError(e: unknown): boolean {
  return hasCode(e, 'ERR_INVALID_ARGUMENT') && (e as { details?: ErrorDetails }).details?.usage === true;
}

/**
 * Parses `args` strictly against `options` (unknown flags are usage errors). Positionals after the
 * first `--` are returned as `rest`, untouched, so `-- sh -c 'echo hi'` reaches the task as given.
 */
export function parseCommandArgs<const O extends OptionTable>(args: string[], options: O) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const unknown = /^Unknown option '([^']+)'/.exec(msg);
    throw usageError(unknown ? `unknown option '${unknown[1]}'` : msg.split('\n')[0]!);
  }
  const term = parsed.tokens.find((t) => t.kind === 'option-terminator');
  const positionals: string[] = [];
  const rest: string[] = [];
  for (const t of parsed.tokens) {
    if (t.kind !== 'positional') continue;
    if (term && t.index > term.index) rest.push(t.value);
    else positionals.push(t.value);
  }
  const result: CommandArgs<typeof parsed.values> = { values: parsed.values, positionals, rest, hasRest: term !== undefined };
  return result;
}

/**
 * Parses `args` against an option table (options.ts) like parseCommandArgs, then folds each alias
 * into its target (`--pids-limit 5` reads as `--pids 5`; repeatable ones are joined). Giving a
 * single-valued flag under two of its names is a usage error.
 */
export function parseOptions<const T extends OptionSpecs>(args: string[], specs: T) {
  const parsed = parseCommandArgs(args, parseConfig(specs));
  const values = parsed.values as Record<string, unknown>;
  for (const [name, s] of Object.entries(specs)) {
    if (!isAlias(s) || values[name] === undefined) continue;
    const given = values[name];
    delete values[name];
    const target = values[s.aliasOf];
    if (target === undefined) values[s.aliasOf] = given;
    else if (Array.isArray(target) && Array.isArray(given)) values[s.aliasOf] = [...(target as unknown[]), ...(given as unknown[])];
    else throw usageError(`\`--${name}\` is another name of \`--${s.aliasOf}\`: give only one of them`);
  }
  return parsed;
}

/** True when `args` asks for help (`-h`/`--help` before any `--`). */
export function wantsHelp(args: string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

/** Resolves the global flags: flag, then STASIS_STATE_DIR / STASIS_NAMESPACE, then defaults. */
export function resolveGlobals(values: GlobalFlagValues, env: NodeJS.ProcessEnv): GlobalOptions {
  const stateDir = values['state-dir'] ?? env.STASIS_STATE_DIR ?? DEFAULT_STATE_DIR;
  const namespace = values.namespace ?? env.STASIS_NAMESPACE ?? DEFAULT_NAMESPACE;
  if (stateDir === '') throw usageError('Expected `--state-dir` to be a directory, got an empty string');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(namespace)) {
    throw usageError(`Expected \`--namespace\` to be a name like \`default\`, got \`${namespace}\``);
  }
  return { stateDir, namespace, json: values.json ?? false };
}

/**
 * Moves global flags given before the command name (`stasis --state-dir D -n ns task list`) into
 * the environment the command sees, so every command (task, queue, doctor) honours them.
 */
export function takeLeadingGlobals(argv: string[], env: NodeJS.ProcessEnv): { argv: string[]; env: NodeJS.ProcessEnv } {
  const out = { ...env };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const key = name === '--state-dir' ? 'STASIS_STATE_DIR' : name === '--namespace' || name === '-n' ? 'STASIS_NAMESPACE' : null;
    if (key === null) break;
    const v = inline ?? argv[++i];
    if (v === undefined) throw usageError(`Option '${name}' needs a value`);
    out[key] = v;
  }
  return { argv: argv.slice(i), env: out };
}

/** The single positional a command expects (a task id), or a usage error naming it. */
export function onePositional(positionals: string[], name: string): string {
  if (positionals.length === 0) throw usageError(`missing ${name}`);
  if (positionals.length > 1) throw usageError(`expected one ${name}, got ${positionals.length}: ${positionals.join(' ')}`);
  return positionals[0]!;
}

/** Parses repeated `K=V` flags (`--env`, `--annotation`) into a record; `field` names the flag. */
export function parseKeyValues(list: string[] | undefined, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw usageError(`Expected \`--${field}\` to be KEY=VALUE, got \`${kv}\``);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** Parses repeated `--env K=V` flags into the OCI form (`K=V` strings), validating each. */
export function parseEnvList(list: string[] | undefined): string[] {
  const vars = parseKeyValues(list, 'env');
  return Object.entries(vars).map(([k, v]) => `${k}=${v}`);
}

/** Parses a whole number flag within [min, max]; `undefined` stays undefined. */
export function parseIntFlag(v: string | undefined, field: string, min = 1, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw usageError(`Expected \`--${field}\` to be a whole number from ${min} to ${max}, got \`${v}\``);
  }
  return n;
}

/** A signal flag: a name with or without SIG (`TERM`, `SIGKILL`) or a number; returned as runc takes it. */
export function parseSignal(v: string | undefined, fallback = 'SIGTERM'): string | number {
  if (v === undefined) return fallback;
  const n = signalNumber(v);
  if (/^\s*\d+\s*$/.test(v)) {
    if (n === undefined) throw usageError(`Expected \`--signal\` to be a signal number from 1 to ${MAX_SIGNAL}, got \`${v}\``);
    return n;
  }
  if (n === undefined) throw usageError(`Expected \`--signal\` to be a signal like \`TERM\`, got \`${v}\``);
  const name = v.trim().toUpperCase();
  return name.startsWith('SIG') ? name : `SIG${name}`;
}

/** Maps a task's exit status to a process exit code (0-255; a timeout's -1 becomes 255). */
export function exitCodeOf(status: number): number {
  if (!Number.isInteger(status) || status < 0 || status > 255) return 255;
  return status;
}
