/** The loader of an operator's seccomp profile file: OCI `linux.seccomp` JSON, or Docker's format resolved for this host. */
import fs from 'node:fs/promises';
import os from 'node:os';
import { z } from 'zod';
import { errors } from '../../errors.js';
import { ARCHES, FLAGS, SECCOMP_ACTIONS, SeccompProfileSchema, checkDefault, checkRule, errnoValue, syscallRule, type SeccompProfile } from './schema.js';

/** Docker's profile format (`archMap`, `includes`/`excludes`) is resolved against this. */
export interface DockerProfileContext {
  /** The task's bounding capabilities (default none: rules that need a capability are left out). */
  capabilities?: readonly string[];
  /** Kernel release compared with `minKernel` (default: this host's, `os.release()`). */
  kernelRelease?: string;
}

const dockerFilter = z.object({
  caps: z.array(z.string()).optional(),
  arches: z.array(z.string()).optional(),
  minKernel: z.string().regex(/^\d+\.\d+$/, 'a kernel version like `4.8`').optional(),
}).strict();

const DockerProfileSchema = z.object({
  defaultAction: z.enum(SECCOMP_ACTIONS),
  defaultErrnoRet: errnoValue.optional(),
  archMap: z.array(z.object({
    architecture: z.enum(ARCHES),
    subArchitectures: z.array(z.enum(ARCHES)).nullable().optional(),
  }).strict()).optional(),
  architectures: z.array(z.enum(ARCHES)).optional(),
  flags: z.array(z.enum(FLAGS)).optional(),
  syscalls: z.array(z.object({ ...syscallRule, includes: dockerFilter.optional(), excludes: dockerFilter.optional() })
    .strict().superRefine(checkRule)),
}).strict().superRefine((d, ctx) => {
  checkDefault(d, ctx);
  if (d.archMap && d.architectures) {
    ctx.addIssue({ code: 'custom', path: ['archMap'], message: 'to be absent when `architectures` is given, got both' });
  }
});

type DockerFilter = z.infer<typeof dockerFilter>;

function kernelAtLeast(release: string, min: string): boolean {
  const [a = 0, b = 0] = release.split(/[.-]/).map(Number);
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

/**
 * Does a Docker filter match a task on x86_64 (Go's `amd64`) with these capabilities? As Docker
 * reads them: `includes` needs every condition (and every cap), `excludes` any one (and any cap).
 */
function filterMatches(f: DockerFilter, caps: readonly string[], release: string, all: boolean): boolean {
  const has = (c: string) => caps.includes(c);
  const tests: boolean[] = [];
  if (f.arches?.length) tests.push(f.arches.includes('amd64'));
  if (f.caps?.length) tests.push(all ? f.caps.every(has) : f.caps.some(has));
  if (f.minKernel) tests.push(kernelAtLeast(release, f.minKernel));
  return all ? tests.every(Boolean) : tests.some(Boolean);
}

function fromDocker(d: z.infer<typeof DockerProfileSchema>, ctx: DockerProfileContext): SeccompProfile {
  const caps = ctx.capabilities ?? [];
  const release = ctx.kernelRelease ?? os.release();
  const native = d.archMap?.find((a) => a.architecture === 'SCMP_ARCH_X86_64');
  const architectures = native ? [native.architecture, ...(native.subArchitectures ?? [])] : d.architectures;
  const syscalls = d.syscalls
    .filter((s) => !s.includes || filterMatches(s.includes, caps, release, true))
    .filter((s) => !s.excludes || !filterMatches(s.excludes, caps, release, false))
    .map(({ includes: _i, excludes: _e, ...rule }) => rule);
  return {
    defaultAction: d.defaultAction,
    ...(d.defaultErrnoRet !== undefined ? { defaultErrnoRet: d.defaultErrnoRet } : {}),
    ...(architectures ? { architectures } : {}),
    ...(d.flags ? { flags: d.flags } : {}),
    syscalls,
  };
}

function fieldOf(path: (string | number)[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '') || '(profile)';
}

function valueAt(v: unknown, path: (string | number)[]): unknown {
  const step = (o: unknown, p: string | number) =>
    typeof o === 'object' && o !== null ? (o as Record<string | number, unknown>)[p] : undefined;
  return path.reduce<unknown>(step, v);
}

function describeIssue(i: z.ZodIssue, input: unknown): string {
  const field = fieldOf(i.path);
  if (i.code === 'unrecognized_keys') {
    return `Unknown field ${i.keys.map((k) => `\`${fieldOf([...i.path, k])}\``).join(', ')} in the seccomp profile`;
  }
  if (i.code === 'custom') return `Expected \`${field}\` ${i.message}`;
  const got = valueAt(input, i.path);
  if (got === undefined) return `Expected \`${field}\` to be set, it is missing`;
  const expected =
    i.code === 'invalid_enum_value' ? `one of ${i.options.join(', ')}`
    : i.code === 'invalid_type' ? `of type ${i.expected}`
    : i.message;
  return `Expected \`${field}\` to be ${expected}, got \`${typeof got === 'string' ? got : JSON.stringify(got)}\``;
}

function parseOrThrow<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, raw: unknown, file: string): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  throw errors.invalidArgument(`${describeIssue(i, raw)} (${file})`, { field: fieldOf(i.path), path: file });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasFilter = (s: unknown) => isObject(s) && ('includes' in s || 'excludes' in s);
const isDockerFormat = (raw: unknown): boolean =>
  isObject(raw) && ('archMap' in raw || (Array.isArray(raw.syscalls) && raw.syscalls.some(hasFilter)));

/**
 * Parses a seccomp profile from JSON text: the OCI `linux.seccomp` shape, or Docker's format
 * (`archMap`, `includes`/`excludes`), which is resolved for x86_64 against `context`. `source` names
 * the file in errors. Throws ERR_INVALID_ARGUMENT naming the first bad field.
 */
export function parseSeccompProfile(text: string, source: string, context: DockerProfileContext = {}): SeccompProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const message = `Expected ${source} to be a JSON seccomp profile: ${(e as Error).message}`;
    throw errors.invalidArgument(message, { path: source });
  }
  if (!isDockerFormat(raw)) return parseOrThrow(SeccompProfileSchema, raw, source);
  return fromDocker(parseOrThrow(DockerProfileSchema, raw, source), context);
}

/** Reads an operator's seccomp profile from a JSON file (see parseSeccompProfile). */
export async function loadSeccompProfile(file: string, context: DockerProfileContext = {}): Promise<SeccompProfile> {
  const text = await fs.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    const message = `Expected a readable seccomp profile at ${file}, got ${e.code ?? e.message}`;
    throw errors.invalidArgument(message, { path: file });
  });
  return parseSeccompProfile(text, file, context);
}
