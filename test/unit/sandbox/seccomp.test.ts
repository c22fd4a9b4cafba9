import { describe, expect, it } from 'vitest';
import {
  BLOCKED_SYSCALLS,
  CLONE_NAMESPACE_FLAGS,
  CONDITIONAL_SYSCALLS,
  DEFAULT_SECCOMP_PROFILE,
  ENOSYS_SYSCALLS,
  SAFE_PERSONAS,
} from '../../../src/sandbox/seccomp/profile.js';
import { parseSeccompProfile } from '../../../src/sandbox/seccomp/load.js';
import { SeccompProfileSchema, type SeccompProfile } from '../../../src/sandbox/seccomp/schema.js';

const rules = DEFAULT_SECCOMP_PROFILE.syscalls;
const allowRules = rules.filter((r) => r.action === 'SCMP_ACT_ALLOW');
const unconditionallyAllowed = new Set(allowRules.filter((r) => !r.args?.length).flatMap((r) => r.names));
const rulesFor = (name: string) => rules.filter((r) => r.names.includes(name));

/** What the brief says the default profile must refuse (outright or outside an argument rule). */
const MUST_REFUSE = [
  'keyctl', 'add_key', 'request_key', 'perf_event_open', 'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'bpf',
  'userfaultfd', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'mount', 'umount2',
  'pivot_root', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'mount_setattr', 'unshare', 'setns',
  'acct', 'swapon', 'swapoff', 'reboot', 'syslog', 'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'quotactl',
  'nfsservctl', 'lookup_dcookie', 'vm86', 'vm86old', 'open_by_handle_at', 'name_to_handle_at', 'iopl', 'ioperm', 'kcmp',
  'process_vm_readv', 'process_vm_writev', 'pidfd_getfd',
];

/** What runc's init (Go), libc, a shell, busybox, Python and Node call: none of it may be refused. */
const MUST_ALLOW = [
  'futex', 'execve', 'execveat', 'wait4', 'waitid', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'sigaltstack',
  'epoll_create1', 'epoll_ctl', 'epoll_pwait', 'epoll_wait', 'close_range', 'statx', 'openat2', 'faccessat2', 'rseq',
  'getrandom', 'membarrier', 'prlimit64', 'mmap', 'mprotect', 'munmap', 'madvise', 'brk', 'arch_prctl', 'set_tid_address',
  'set_robust_list', 'sched_getaffinity', 'sched_yield', 'nanosleep', 'clock_nanosleep', 'clock_gettime', 'tgkill',
  'getpid', 'gettid', 'openat', 'read', 'write', 'close', 'fcntl', 'ioctl', 'newfstatat', 'getdents64', 'pipe2', 'dup3',
  'vfork', 'fork', 'eventfd2', 'timerfd_create', 'uname', 'getcwd', 'capget', 'capset', 'prctl', 'setsid', 'kill',
];

function profile(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }],
    ...over,
  });
}

const parse = (text: string, ctx?: Parameters<typeof parseSeccompProfile>[2]): SeccompProfile =>
  parseSeccompProfile(text, 'profile.json', ctx);

describe('DEFAULT_SECCOMP_PROFILE', () => {
  it('parses with its own schema', () => {
    expect(SeccompProfileSchema.parse(DEFAULT_SECCOMP_PROFILE)).toEqual(DEFAULT_SECCOMP_PROFILE);
  });

  it('refuses by default with EPERM (SCMP_ACT_ERRNO, errno 1), never by killing', () => {
    expect(DEFAULT_SECCOMP_PROFILE.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(DEFAULT_SECCOMP_PROFILE.defaultErrnoRet).toBe(1);
    expect(rules.map((r) => r.action).filter((a) => a !== 'SCMP_ACT_ALLOW' && a !== 'SCMP_ACT_ERRNO')).toEqual([]);
  });

  it('covers x86_64 and x86, not x32 (its calls hit the bad-architecture action)', () => {
    expect(DEFAULT_SECCOMP_PROFILE.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  });

  it('is frozen, so no caller can change it for every task', () => {
    expect(Object.isFrozen(DEFAULT_SECCOMP_PROFILE)).toBe(true);
    expect(Object.isFrozen(rules[0]!.names)).toBe(true);
  });

  it('refuses everything the brief lists, outright or outside a documented argument rule', () => {
    const refused = new Set([...BLOCKED_SYSCALLS, ...Object.keys(CONDITIONAL_SYSCALLS)]);
    expect(MUST_REFUSE.filter((n) => !refused.has(n))).toEqual([]);
    expect(MUST_REFUSE.filter((n) => unconditionallyAllowed.has(n))).toEqual([]);
  });

  it('names no blocked syscall in any allow rule', () => {
    expect(BLOCKED_SYSCALLS.filter((n) => allowRules.some((r) => r.names.includes(n)))).toEqual([]);
    expect(ENOSYS_SYSCALLS.filter((n) => allowRules.some((r) => r.names.includes(n)))).toEqual([]);
  });

  it('allows the conditional syscalls only through an argument rule', () => {
    for (const name of Object.keys(CONDITIONAL_SYSCALLS)) {
      expect(unconditionallyAllowed.has(name), name).toBe(false);
      expect(rulesFor(name).length, name).toBeGreaterThan(0);
      for (const r of rulesFor(name)) expect(r.args?.length, name).toBe(1);
    }
    const argRules = allowRules.filter((r) => r.args?.length).flatMap((r) => r.names);
    expect([...new Set(argRules)].sort()).toEqual(Object.keys(CONDITIONAL_SYSCALLS).sort());
  });

  it('allows clone only when arg0 carries no CLONE_NEW* flag (MASKED_EQ to 0)', () => {
    const flags = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];
    expect(CLONE_NAMESPACE_FLAGS).toBe(flags.reduce((a, b) => a | b, 0));
    const args = [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }];
    expect(rulesFor('clone')).toEqual([{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args }]);
  });

  it('allows personality only for 0x0, 0x8, 0x20000, 0x20008 and the query 0xffffffff', () => {
    expect(SAFE_PERSONAS).toEqual([0x0, 0x8, 0x20000, 0x20008, 0xffffffff]);
    const values = rulesFor('personality').map((r) => (r.args?.[0]?.op === 'SCMP_CMP_EQ' && r.args[0].index === 0 ? r.args[0].value : NaN));
    expect(values).toEqual([...SAFE_PERSONAS]);
  });

  it('allows ptrace only for PTRACE_TRACEME', () => {
    const args = [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }];
    expect(rulesFor('ptrace')).toEqual([{ names: ['ptrace'], action: 'SCMP_ACT_ALLOW', args }]);
  });

  it('allows socket domains below AF_ALG only, so AF_ALG and AF_VSOCK are refused', () => {
    const args = [{ index: 0, value: 38, op: 'SCMP_CMP_LT' }];
    expect(rulesFor('socket')).toEqual([{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args }]);
  });

  it('answers clone3 with ENOSYS (38), so that libc falls back to clone', () => {
    expect(rulesFor('clone3')).toEqual([{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
  });

  it('lists every blocked syscall in an explicit EPERM rule (which keeps them below runc’s ENOSYS line)', () => {
    const explicit = rules.filter((r) => r.action === 'SCMP_ACT_ERRNO' && r.errnoRet === 1).flatMap((r) => r.names);
    expect(explicit.sort()).toEqual([...BLOCKED_SYSCALLS].sort());
  });

  it('allows what runc init, libc, busybox, Python and Node call', () => {
    expect(MUST_ALLOW.filter((n) => !unconditionallyAllowed.has(n))).toEqual([]);
  });

  it('names each syscall in one rule only, except the conditional ones', () => {
    const names = rules.flatMap((r) => r.names).filter((n) => !(n in CONDITIONAL_SYSCALLS));
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });
});

describe('parseSeccompProfile (behind loadSeccompProfile)', () => {
  it('accepts a good OCI profile as it is', () => {
    const text = profile({
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW', comment: 'reads' },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      ],
    });
    expect(parse(text)).toEqual(JSON.parse(text));
  });

  it('accepts the default profile written out as JSON', () => {
    expect(parse(JSON.stringify(DEFAULT_SECCOMP_PROFILE))).toEqual(DEFAULT_SECCOMP_PROFILE);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'an unknown action',
      { syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['x'], action: 'SCMP_ACT_PERMIT' }] },
      'syscalls[1].action',
      'Expected `syscalls[1].action` to be one of SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, ' +
        'SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG, got `SCMP_ACT_PERMIT`',
    ],
    ['an unknown default action', { defaultAction: 'deny' }, 'defaultAction', 'Expected `defaultAction` to be one of SCMP_ACT_ALLOW'],
    ['SCMP_ACT_NOTIFY (no seccomp agent)', { defaultAction: 'SCMP_ACT_NOTIFY' }, 'defaultAction', 'got `SCMP_ACT_NOTIFY`'],
    ['a missing syscalls list', { syscalls: undefined }, 'syscalls', 'Expected `syscalls` to be set, it is missing'],
    ['an empty names list', { syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] }, 'syscalls[0].names', 'a non-empty list of names'],
    [
      'a bad syscall name',
      { syscalls: [{ names: ['read', 'Open At'], action: 'SCMP_ACT_ALLOW' }] },
      'syscalls[0].names[1]',
      'Expected `syscalls[0].names[1]` to be a syscall name like `openat`, got `Open At`',
    ],
    ['an unknown architecture', { architectures: ['SCMP_ARCH_Z80'] }, 'architectures[0]', 'got `SCMP_ARCH_Z80`'],
    ['an unknown flag', { flags: ['SECCOMP_FILTER_FLAG_FAST'] }, 'flags[0]', 'got `SECCOMP_FILTER_FLAG_FAST`'],
    [
      'an errno out of range',
      { defaultErrnoRet: 5000 },
      'defaultErrnoRet',
      'Expected `defaultErrnoRet` to be an errno between 0 and 4095, got `5000`',
    ],
    [
      'errnoRet with an allow action',
      { syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] },
      'syscalls[0].errnoRet',
      'Expected `syscalls[0].errnoRet` to be set only with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, got it with `SCMP_ACT_ALLOW`',
    ],
    ['defaultErrnoRet with a kill default', { defaultAction: 'SCMP_ACT_KILL' }, 'defaultErrnoRet', 'got it with `SCMP_ACT_KILL`'],
    [
      'an argument index above 5',
      { syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] },
      'syscalls[0].args[0].index',
      'Expected `syscalls[0].args[0].index` to be an argument index from 0 to 5, got `6`',
    ],
    [
      'an unknown operator',
      { syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_IN' }] }] },
      'syscalls[0].args[0].op',
      'got `SCMP_CMP_IN`',
    ],
    [
      'a value JSON cannot carry exactly',
      { syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 2 ** 64, op: 'SCMP_CMP_EQ' }] }] },
      'syscalls[0].args[0].value',
      'at most 2^53-1',
    ],
    [
      'two comparisons of one argument (runc would OR them)',
      {
        syscalls: [
          {
            names: ['socket'],
            action: 'SCMP_ACT_ALLOW',
            args: [{ index: 0, value: 1, op: 'SCMP_CMP_GE' }, { index: 0, value: 10, op: 'SCMP_CMP_LE' }],
          },
        ],
      },
      'syscalls[0].args[1].index',
      'got argument 0 again',
    ],
    [
      'a misspelt field',
      { syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoret: 1 }] },
      'syscalls[0]',
      'Unknown field `syscalls[0].errnoret` in the seccomp profile',
    ],
    ['a seccomp agent listener', { listenerPath: '/run/agent.sock' }, '', 'Unknown field `listenerPath`'],
  ])('refuses %s, naming the field', (_what, over, field, message) => {
    const text = profile(over);
    const details = expect.objectContaining({ field: field || '(profile)', path: 'profile.json' });
    expect(() => parse(text)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', details }));
    expect(() => parse(text)).toThrow(message);
  });

  it('refuses text that is not JSON, naming the file', () => {
    expect(() => parse('{ "defaultAction": ')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => parse('{ "defaultAction": ')).toThrow(/Expected profile\.json to be a JSON seccomp profile/);
  });

  it('refuses a profile that is not an object', () => {
    expect(() => parse('[]')).toThrow('Expected `(profile)` to be of type object, got `[]`');
  });
});

describe("parseSeccompProfile with Docker's format", () => {
  const docker = JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    archMap: [
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    ],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
      { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] } },
      { names: ['mount', 'unshare'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['chroot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT'] } },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    ],
  });
  const names = (p: SeccompProfile) => p.syscalls.flatMap((r) => r.names);

  it('takes the x86_64 entry of archMap with its sub-architectures', () => {
    expect(parse(docker, { kernelRelease: '6.1.0' }).architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });

  it('keeps rules for amd64, drops other arches, and without capabilities drops the rules that need one', () => {
    expect(names(parse(docker, { kernelRelease: '6.1.0' }))).toEqual(['read', 'write', 'arch_prctl', 'ptrace', 'clone3']);
  });

  it("resolves includes/excludes against the task's capabilities and the kernel release", () => {
    const p = parse(docker, { capabilities: ['CAP_SYS_ADMIN', 'CAP_SYS_CHROOT'], kernelRelease: '4.4.0-1-amd64' });
    expect(names(p)).toEqual(['read', 'write', 'arch_prctl', 'mount', 'unshare', 'chroot']);
    expect(p.syscalls.every((r) => !('includes' in r) && !('excludes' in r))).toBe(true);
    expect(SeccompProfileSchema.safeParse(p).success).toBe(true);
  });

  it('refuses a bad Docker filter, naming the field', () => {
    const withIncludes = (includes: Record<string, unknown>) =>
      JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', includes }] });
    expect(() => parse(withIncludes({ kernel: '5' }))).toThrow('Unknown field `syscalls[0].includes.kernel` in the seccomp profile');
    expect(() => parse(withIncludes({ minKernel: 'five' }))).toThrow(
      'Expected `syscalls[0].includes.minKernel` to be a kernel version like `4.8`, got `five`',
    );
  });

  it('refuses both architectures and archMap', () => {
    const both = JSON.stringify({ ...JSON.parse(docker), architectures: ['SCMP_ARCH_X86_64'] });
    expect(() => parse(both)).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: 'archMap' }) }));
  });
});
