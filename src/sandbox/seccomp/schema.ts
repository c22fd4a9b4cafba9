/** The zod schema of a seccomp profile in the OCI `linux.seccomp` shape, as runc 1.1.5 reads it. */
import { z } from 'zod';

/** The seccomp actions runc 1.1.5 accepts (SCMP_ACT_NOTIFY is left out: stasis runs no seccomp agent). */
export const SECCOMP_ACTIONS = [
  'SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG',
] as const;
const OPERATORS = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
] as const;
/** Architectures runc 1.1.5 knows. */
export const ARCHES = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X',
] as const;
/** Filter flags runc 1.1.5 knows. */
export const FLAGS = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] as const;

// Messages of checks are the "…" of "Expected `field` to be …, got `value`"; custom issues carry the
// whole "to be …, got …".
const argValue = z.number().int('an integer').min(0, 'at least 0')
  .max(Number.MAX_SAFE_INTEGER, 'at most 2^53-1 (larger JSON numbers lose precision; use MASKED_EQ)');
const ERRNO_RANGE = 'an errno between 0 and 4095';
/** An errno a rule or the default action may return. */
export const errnoValue = z.number().int('an integer').min(0, ERRNO_RANGE).max(4095, ERRNO_RANGE);
const withErrno = (a: string) => a === 'SCMP_ACT_ERRNO' || a === 'SCMP_ACT_TRACE';

const ARG_INDEX_RANGE = 'an argument index from 0 to 5';

/** One argument comparison of a rule (MASKED_EQ: `(arg & value) == valueTwo`). */
export const SeccompArgSchema = z.object({
  index: z.number().int('an integer').min(0, ARG_INDEX_RANGE).max(5, ARG_INDEX_RANGE),
  value: argValue,
  valueTwo: argValue.optional(),
  op: z.enum(OPERATORS),
}).strict();

/** The fields of one rule (Docker's format adds its own around them). */
export const syscallRule = {
  names: z.array(z.string().regex(/^[a-z0-9_]+$/, 'a syscall name like `openat`')).min(1, 'a non-empty list of names'),
  action: z.enum(SECCOMP_ACTIONS),
  errnoRet: errnoValue.optional(),
  args: z.array(SeccompArgSchema).optional(),
  comment: z.string().optional(),
};

const errnoOnlyWith = (action: string) => `to be set only with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, got it with \`${action}\``;

/** Cross-field checks of one rule (errnoRet only with ERRNO/TRACE, one comparison per argument). */
export function checkRule(r: { action: string; errnoRet?: number; args?: { index: number }[] }, ctx: z.RefinementCtx): void {
  if (r.errnoRet !== undefined && !withErrno(r.action)) {
    ctx.addIssue({ code: 'custom', path: ['errnoRet'], message: errnoOnlyWith(r.action) });
  }
  const seen = new Set<number>();
  (r.args ?? []).forEach((a, i) => {
    if (seen.has(a.index)) {
      const message =
        `to name an argument not yet compared in this rule, got argument ${a.index} again ` +
        '(runc 1.1.5 turns repeated comparisons of one argument into OR-ed rules: write one rule per comparison)';
      ctx.addIssue({ code: 'custom', path: ['args', i, 'index'], message });
    }
    seen.add(a.index);
  });
}

/** defaultErrnoRet only with an ERRNO/TRACE default action. */
export function checkDefault(p: { defaultAction: string; defaultErrnoRet?: number }, ctx: z.RefinementCtx): void {
  if (p.defaultErrnoRet !== undefined && !withErrno(p.defaultAction)) {
    ctx.addIssue({ code: 'custom', path: ['defaultErrnoRet'], message: errnoOnlyWith(p.defaultAction) });
  }
}

/** One rule of a profile: the syscalls it names get `action` (when all `args` comparisons hold). */
export const SeccompSyscallSchema = z.object(syscallRule).strict().superRefine(checkRule);

/** The OCI runtime-spec `linux.seccomp` object, as runc 1.1.5 reads it. */
export const SeccompProfileSchema = z.object({
  defaultAction: z.enum(SECCOMP_ACTIONS),
  defaultErrnoRet: errnoValue.optional(),
  architectures: z.array(z.enum(ARCHES)).optional(),
  flags: z.array(z.enum(FLAGS)).optional(),
  syscalls: z.array(SeccompSyscallSchema),
}).strict().superRefine(checkDefault);

/** A seccomp profile in the OCI `linux.seccomp` shape. */
export type SeccompProfile = z.infer<typeof SeccompProfileSchema>;
