/**
 * Option tables: each command describes its flags once — name, short form, type, value placeholder,
 * one line of help, environment variable, default, group — and both the node:util parseArgs config
 * and the usage lines are derived from that table, so the help can never list a flag the parser does
 * not take (or miss one it does). Pure: no I/O.
 */

/** A flag of a command, as its table describes it. */
export interface FlagSpec {
  /** 'string' takes a value (`--memory 256m`), 'boolean' does not (`--json`). */
  type: 'string' | 'boolean';
  /** The one-letter short form (`m` for `-m`). */
  short?: string;
  /** Repeatable: the values come as an array (shown as "repeatable" in the usage). */
  multiple?: boolean;
  /** Placeholder of the value in the usage (`SIZE`, `DURATION`); string flags only. */
  value?: string;
  /** What the flag does, one sentence without a trailing period (wrapped in the usage). */
  help: string;
  /** The environment variable used when the flag is not given (shown in the usage). */
  env?: string;
  /** The default, as the usage shows it (for display only: the command applies its defaults). */
  default?: string;
  /** The heading the usage lists it under ('Limits'); flags without one go under 'Options'. */
  group?: string;
  /** Accepted (for old command lines) but not listed in the usage. */
  hidden?: boolean;
}

/** Another name of a flag (`--pids-limit` for `--pids`): listed on its target's usage line, merged into its value. */
export interface AliasSpec {
  /** Same as the target's type. */
  type: 'string' | 'boolean';
  /** Same as the target's (both are merged into one array). */
  multiple?: boolean;
  /** The long name of the flag this one stands for. */
  aliasOf: string;
}

/** One entry of an option table. */
export type OptionSpec = FlagSpec | AliasSpec;

/** A command's option table: long name (without `--`) → spec, in the order the usage lists them. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The node:util parseArgs config of a table: only `type`, `short` and `multiple` of each entry. */
export type ParseConfigOf<T extends OptionSpecs> = {
  -readonly [K in keyof T]: Pick<T[K], Extract<keyof T[K], 'type' | 'short' | 'multiple'>>;
};

/** True for an alias entry. */
export function isAlias(s: OptionSpec): s is AliasSpec {
  return 'aliasOf' in s;
}

/** Derives the parseArgs options of a table (help, env and defaults stay out: parseArgs would apply a `default`). */
export function parseConfig<const T extends OptionSpecs>(specs: T): ParseConfigOf<T> {
  const out: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, s] of Object.entries(specs)) {
    out[name] = { type: s.type };
    if (!isAlias(s) && s.short !== undefined) out[name]!.short = s.short;
    if (s.multiple !== undefined) out[name]!.multiple = s.multiple;
  }
  return out as ParseConfigOf<T>;
}

/** The aliases of `name` in a table, in table order. */
export function aliasesOf(specs: OptionSpecs, name: string): string[] {
  return Object.entries(specs)
    .filter(([, s]) => isAlias(s) && s.aliasOf === name)
    .map(([n]) => n);
}

/** Where a setting came from: its flag (`--threads`) or its environment variable (`STASIS_THREADS`). */
export interface OptionValue {
  value: string;
  /** `--name` or the variable's name, for messages. */
  source: string;
}

/**
 * The value of string flag `name`: the flag when given, else its table's environment variable when
 * set and not empty, else undefined. Flags win over the environment.
 */
export function flagOrEnv(specs: OptionSpecs, values: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv, name: string): OptionValue | undefined {
  const v = values[name];
  if (typeof v === 'string') return { value: v, source: `--${name}` };
  const s = specs[name];
  const key = s && !isAlias(s) ? s.env : undefined;
  const e = key === undefined ? undefined : env[key];
  return key !== undefined && e !== undefined && e !== '' ? { value: e, source: key } : undefined;
}

/** The usage's left column of one flag: `-m, --memory SIZE`, `    --pids, --pids-limit N`. */
export function flagNames(specs: OptionSpecs, name: string): string {
  const s = specs[name];
  if (!s || isAlias(s)) return '';
  const longs = [name, ...aliasesOf(specs, name)].map((n) => `--${n}`).join(', ');
  const head = s.short ? `-${s.short}, ${longs}` : `    ${longs}`;
  return s.type === 'string' ? `${head} ${s.value ?? 'VALUE'}` : head;
}

/** A no-break space: wrap() keeps `[default: …]` and `[env: …]` on one line. */
const KEEP = '\u00a0';

/** The usage's right column of one flag: its help, then `(repeatable)`, `[default: …]`, `[env: …]`. */
export function flagDescription(s: FlagSpec): string {
  let d = s.help;
  if (s.multiple) d += ' (repeatable)';
  if (s.default !== undefined) d += ` [default: ${s.default}]`.replace(/(?<=.) /g, KEEP);
  if (s.env !== undefined) d += ` [env: ${s.env}]`.replace(/(?<=.) /g, KEEP);
  return d;
}

/**
 * Splits `text` into lines of at most `width` characters at spaces (a longer word gets its own
 * line); no-break spaces join words and come out as plain spaces.
 */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/[ \t\n]+/).filter(Boolean).map((w) => w.replaceAll(KEEP, ' '))) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

/** Widest left column before a flag's description moves to the line below it. */
const MAX_NAME_COLUMN = 30;
/** Line width of the usage text. */
export const USAGE_WIDTH = 100;

/**
 * The usage lines of a table: flags by group (groups in order of first appearance, a heading each),
 * names in an aligned column, descriptions wrapped at USAGE_WIDTH; aliases on their target's line.
 */
export function formatOptions(specs: OptionSpecs, width = USAGE_WIDTH): string {
  const flags = Object.entries(specs).filter((e): e is [string, FlagSpec] => !isAlias(e[1]) && e[1].hidden !== true);
  const heads = new Map(flags.map(([n]) => [n, flagNames(specs, n)]));
  const fitting = [...heads.values()].map((h) => h.length).filter((l) => l <= MAX_NAME_COLUMN);
  const col = 2 + Math.max(0, ...fitting) + 2;
  const groups = new Map<string, [string, FlagSpec][]>();
  for (const f of flags) {
    const g = f[1].group ?? 'Options';
    groups.set(g, [...(groups.get(g) ?? []), f]);
  }
  const out: string[] = [];
  for (const [group, members] of groups) {
    if (out.length) out.push('');
    out.push(`${group}:`);
    for (const [name, s] of members) {
      const head = `  ${heads.get(name)!}`;
      const desc = wrap(flagDescription(s), Math.max(20, width - col));
      const pad = ' '.repeat(col);
      if (head.length + 2 > col) out.push(head, ...desc.map((l) => pad + l));
      else out.push(head.padEnd(col) + desc[0], ...desc.slice(1).map((l) => pad + l));
    }
  }
  return out.join('\n');
}

/** What a command's usage says besides its flags. */
export interface UsageText {
  /** The synopsis lines without `Usage: stasis ` (`run [options] -- COMMAND [ARG...]`). */
  synopsis: string | readonly string[];
  /** Paragraphs between the synopsis and the flags. */
  about?: string;
  /** Paragraphs after the flags. */
  notes?: string;
}

/** A command's whole usage text: synopsis, about, the table's flags, notes. */
export function formatUsage(u: UsageText, specs: OptionSpecs): string {
  const syn = typeof u.synopsis === 'string' ? [u.synopsis] : u.synopsis;
  const lines = syn.map((s, i) => `${i === 0 ? 'Usage: ' : '       '}stasis ${s}`).join('\n');
  return [lines, u.about, formatOptions(specs), u.notes].filter((p): p is string => p !== undefined && p !== '').join('\n\n');
}
