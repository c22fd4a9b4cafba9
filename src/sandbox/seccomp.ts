/**
 * The seccomp profile of a task: the default allowlist as OCI `linux.seccomp` data (what runc 1.1.5
 * reads from config.json), its zod schema, and the loader of an operator's own profile.
 *
 * How runc 1.1.5 with libseccomp 2.5.4 applies it (this shapes the data below):
 * - it installs the filter inside the container right before execve, so runc's own init (Go: futex,
 *   thread clones, signals, execve) and then every process of the task run under it;
 * - a rule whose action equals the default action is skipped, and a name libseccomp does not know is
 *   skipped too; the names of all rules still count for runc's -ENOSYS stub: a syscall numbered above
 *   the highest known name of the profile fails with ENOSYS (so libc falls back), one below with the
 *   default action. The explicit EPERM rule for BLOCKED_SYSCALLS keeps them below that line;
 * - several comparisons of one argument in one rule become separate rules OR-ed together
 *   (runc#2735), so the loader refuses them rather than let an intended range allow everything.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import { z } from 'zod';
import { errors } from '../errors.js';

const EPERM = 1;
const ENOSYS = 38;

/** Syscalls every task may make, unconditionally (x86_64 names plus their 32-bit x86 twins). */
const ALLOWED: readonly string[] = [
  // processes, threads, scheduling
  'exit', 'exit_group', 'fork', 'vfork', 'execve', 'execveat', 'wait4', 'waitid', 'waitpid',
  'kill', 'tkill', 'tgkill', 'getpid', 'getppid', 'gettid', 'set_tid_address', 'set_robust_list', 'get_robust_list',
  'futex', 'futex_time64', 'futex_waitv', 'futex_wait', 'futex_wake', 'futex_requeue', 'rseq', 'membarrier',
  'getrandom', 'restart_syscall', 'sched_yield', 'sched_getaffinity', 'sched_setaffinity', 'sched_getattr', 'sched_setattr',
  'sched_getparam', 'sched_setparam', 'sched_getscheduler', 'sched_setscheduler', 'sched_get_priority_max',
  'sched_get_priority_min', 'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'getpriority', 'setpriority',
  'ioprio_get', 'ioprio_set', 'prctl', 'arch_prctl', 'set_thread_area', 'get_thread_area', 'getcpu',
  'pidfd_open', 'pidfd_send_signal', 'process_mrelease', 'seccomp', 'landlock_create_ruleset', 'landlock_add_rule',
  'landlock_restrict_self', 'capget', 'capset', 'getrusage', 'times', 'prlimit64', 'getrlimit', 'setrlimit',
  'ugetrlimit', 'setsid', 'getsid', 'setpgid', 'getpgid', 'getpgrp', 'umask', 'uname', 'sysinfo',
  // the task has its own UTS namespace; chroot needs CAP_SYS_CHROOT, which tasks get
  'sethostname', 'setdomainname', 'chroot',
  // credentials
  'getuid', 'geteuid', 'getgid', 'getegid', 'getresuid', 'getresgid', 'getgroups', 'setuid', 'setgid', 'setreuid',
  'setregid', 'setresuid', 'setresgid', 'setfsuid', 'setfsgid', 'setgroups', 'getuid32', 'geteuid32', 'getgid32',
  'getegid32', 'getresuid32', 'getresgid32', 'getgroups32', 'setuid32', 'setgid32', 'setreuid32', 'setregid32',
  'setresuid32', 'setresgid32', 'setfsuid32', 'setfsgid32', 'setgroups32',
  // signals and timers
  'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigpending', 'rt_sigsuspend', 'rt_sigtimedwait',
  'rt_sigtimedwait_time64', 'rt_sigqueueinfo', 'rt_tgsigqueueinfo', 'sigaltstack', 'signalfd', 'signalfd4',
  'sigreturn', 'sigprocmask', 'pause', 'alarm', 'getitimer', 'setitimer', 'timer_create', 'timer_settime',
  'timer_settime64', 'timer_gettime', 'timer_gettime64', 'timer_getoverrun', 'timer_delete', 'timerfd_create',
  'timerfd_settime', 'timerfd_settime64', 'timerfd_gettime', 'timerfd_gettime64', 'nanosleep', 'clock_nanosleep',
  'clock_nanosleep_time64', 'clock_gettime', 'clock_gettime64', 'clock_getres', 'clock_getres_time64',
  'gettimeofday', 'time',
  // memory
  'brk', 'mmap', 'mmap2', 'munmap', 'mremap', 'mprotect', 'madvise', 'mincore', 'msync', 'mlock', 'mlock2',
  'mlockall', 'munlock', 'munlockall', 'remap_file_pages', 'memfd_create', 'memfd_secret', 'pkey_alloc',
  'pkey_free', 'pkey_mprotect', 'map_shadow_stack', 'mseal', 'uretprobe',
  // files and directories
  'read', 'write', 'readv', 'writev', 'pread64', 'pwrite64', 'preadv', 'pwritev', 'preadv2', 'pwritev2', 'open',
  'openat', 'openat2', 'creat', 'close', 'close_range', 'dup', 'dup2', 'dup3', 'lseek', '_llseek', 'fcntl',
  'fcntl64', 'ioctl', 'flock', 'fsync', 'fdatasync', 'sync', 'syncfs', 'sync_file_range', 'fadvise64',
  'fadvise64_64', 'fallocate', 'readahead', 'truncate', 'truncate64', 'ftruncate', 'ftruncate64', 'sendfile',
  'sendfile64', 'splice', 'tee', 'vmsplice', 'copy_file_range', 'cachestat', 'stat', 'stat64', 'lstat', 'lstat64',
  'fstat', 'fstat64', 'fstatat64', 'newfstatat', 'statx', 'statfs', 'statfs64', 'fstatfs', 'fstatfs64', 'access',
  'faccessat', 'faccessat2', 'readlink', 'readlinkat', 'getdents', 'getdents64', 'getcwd', 'chdir', 'fchdir',
  'mkdir', 'mkdirat', 'mknod', 'mknodat', 'rmdir', 'rename', 'renameat', 'renameat2', 'link', 'linkat', 'symlink',
  'symlinkat', 'unlink', 'unlinkat', 'chmod', 'fchmod', 'fchmodat', 'fchmodat2', 'chown', 'chown32', 'fchown',
  'fchown32', 'fchownat', 'lchown', 'lchown32', 'utime', 'utimes', 'utimensat', 'utimensat_time64', 'futimesat',
  'getxattr', 'lgetxattr', 'fgetxattr', 'getxattrat', 'setxattr', 'lsetxattr', 'fsetxattr', 'setxattrat',
  'listxattr', 'llistxattr', 'flistxattr', 'listxattrat', 'removexattr', 'lremovexattr', 'fremovexattr',
  'removexattrat', 'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch', 'fanotify_mark',
  'statmount', 'listmount',
  // polling, events, AIO (io_uring is not here: see BLOCKED_SYSCALLS)
  'poll', 'ppoll', 'ppoll_time64', 'select', '_newselect', 'pselect6', 'pselect6_time64', 'epoll_create',
  'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_wait', 'epoll_wait_old', 'epoll_pwait', 'epoll_pwait2',
  'eventfd', 'eventfd2', 'io_setup', 'io_destroy', 'io_submit', 'io_cancel', 'io_getevents', 'io_pgetevents',
  'io_pgetevents_time64',
  // System V and POSIX IPC (the task has its own IPC namespace), pipes
  'pipe', 'pipe2', 'ipc', 'msgget', 'msgsnd', 'msgrcv', 'msgctl', 'semget', 'semop', 'semtimedop',
  'semtimedop_time64', 'semctl', 'shmget', 'shmat', 'shmdt', 'shmctl', 'mq_open', 'mq_unlink', 'mq_timedsend',
  'mq_timedsend_time64', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_notify', 'mq_getsetattr',
  // sockets (socket itself has an argument rule below; 32-bit socketcall cannot be filtered by domain)
  'socketpair', 'bind', 'listen', 'accept', 'accept4', 'connect', 'getsockname', 'getpeername', 'getsockopt',
  'setsockopt', 'shutdown', 'send', 'sendto', 'sendmsg', 'sendmmsg', 'recv', 'recvfrom', 'recvmsg', 'recvmmsg',
  'recvmmsg_time64', 'socketcall',
];

/** Syscalls the default profile refuses with EPERM whatever their arguments. */
export const BLOCKED_SYSCALLS: readonly string[] = [
  // kernel keyrings, perf, eBPF, io_uring, userfaultfd: large attack surface, not namespaced
  'keyctl', 'add_key', 'request_key', 'perf_event_open', 'bpf', 'io_uring_setup', 'io_uring_enter',
  'io_uring_register', 'userfaultfd',
  // kernel images and modules
  'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'create_module',
  'get_kernel_syms', 'query_module',
  // mounts (old and new API) and namespaces
  'mount', 'umount', 'umount2', 'pivot_root', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount',
  'open_tree', 'mount_setattr', 'unshare', 'setns',
  // other processes' memory and files
  'process_vm_readv', 'process_vm_writev', 'process_madvise', 'kcmp', 'pidfd_getfd',
  // host-wide state: accounting, swap, power, kernel log, quotas, NFS, profiling
  'acct', 'swapon', 'swapoff', 'reboot', 'syslog', 'quotactl', 'quotactl_fd', 'nfsservctl', 'lookup_dcookie',
  'vhangup', 'fanotify_init',
  // the clock. adjtimex could be allowed for read-only use, but `modes` sits behind a pointer, so a
  // filter cannot tell a read from a write, and glibc >= 2.32 implements adjtimex() with
  // clock_adjtime: both are refused (jobs do not read NTP state; a writer gets EPERM either way).
  'settimeofday', 'stime', 'clock_settime', 'clock_settime64', 'clock_adjtime', 'clock_adjtime64', 'adjtimex',
  // file handles bypass path permissions (the "shocker" escape)
  'open_by_handle_at', 'name_to_handle_at',
  // raw I/O ports, vm86 mode, 16-bit segments (only Wine and DOSEMU need modify_ldt)
  'iopl', 'ioperm', 'vm86', 'vm86old', 'modify_ldt',
];

/** Flags of clone(2) that create namespaces: NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;

/** Personas personality(2) may set: Linux, +UNAME26, +ADDR_NO_RANDOMIZE, both; 0xffffffff only queries. */
export const SAFE_PERSONAS: readonly number[] = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/** PTRACE_TRACEME: lets a child ask to be traced by its parent; every other request is refused. */
const PTRACE_TRACEME = 0;

/** AF_ALG: socket domains from here up are refused (AF_ALG, AF_VSOCK — the host/guest channel —, AF_XDP, …). */
export const FIRST_REFUSED_SOCKET_DOMAIN = 38;

/** Syscalls allowed only for some arguments, and what the rule allows. */
export const CONDITIONAL_SYSCALLS: Readonly<Record<string, string>> = {
  clone: 'without namespace flags (plain fork, vfork and threads)',
  personality: `only the personas ${SAFE_PERSONAS.map((p) => `0x${p.toString(16)}`).join(', ')}`,
  ptrace: 'only PTRACE_TRACEME',
  socket: `only domains below ${FIRST_REFUSED_SOCKET_DOMAIN} (AF_ALG)`,
};

/** Syscalls that fail with ENOSYS rather than EPERM, so libc falls back to an older call. */
export const ENOSYS_SYSCALLS: readonly string[] = ['clone3'];

/** The seccomp actions runc 1.1.5 accepts (SCMP_ACT_NOTIFY is left out: stasis runs no seccomp agent). */
export const SECCOMP_ACTIONS = [
  'SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG',
] as const;
const OPERATORS = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
] as const;
const ARCHES = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X',
] as const;
const FLAGS = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] as const;

// Messages of checks are the "…" of "Expected `field` to be …, got `value`"; custom issues carry the
// whole "to be …, got …".
const argValue = z.number().int('an integer').min(0, 'at least 0')
  .max(Number.MAX_SAFE_INTEGER, 'at most 2^53-1 (larger JSON numbers lose precision; use MASKED_EQ)');
const ERRNO_RANGE = 'an errno between 0 and 4095';
const errnoValue = z.number().int('an integer').min(0, ERRNO_RANGE).max(4095, ERRNO_RANGE);
const withErrno = (a: string) => a === 'SCMP_ACT_ERRNO' || a === 'SCMP_ACT_TRACE';

const ARG_INDEX_RANGE = 'an argument index from 0 to 5';

/** One argument comparison of a rule (MASKED_EQ: `(arg & value) == valueTwo`). */
export const SeccompArgSchema = z.object({
  index: z.number().int('an integer').min(0, ARG_INDEX_RANGE).max(5, ARG_INDEX_RANGE),
  value: argValue,
  valueTwo: argValue.optional(),
  op: z.enum(OPERATORS),
}).strict();

const syscallRule = {
  names: z.array(z.string().regex(/^[a-z0-9_]+$/, 'a syscall name like `openat`')).min(1, 'a non-empty list of names'),
  action: z.enum(SECCOMP_ACTIONS),
  errnoRet: errnoValue.optional(),
  args: z.array(SeccompArgSchema).optional(),
  comment: z.string().optional(),
};

const errnoOnlyWith = (action: string) => `to be set only with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, got it with \`${action}\``;

function checkRule(r: { action: string; errnoRet?: number; args?: { index: number }[] }, ctx: z.RefinementCtx): void {
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

function checkDefault(p: { defaultAction: string; defaultErrnoRet?: number }, ctx: z.RefinementCtx): void {
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
type SeccompRule = SeccompProfile['syscalls'][number];

const eq = (index: number, value: number) => ({ index, value, op: 'SCMP_CMP_EQ' as const });

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) Object.values(v).forEach(deepFreeze);
  return Object.freeze(v);
}

/** The default profile of every task (frozen: structuredClone it to derive another). */
export const DEFAULT_SECCOMP_PROFILE: SeccompProfile = deepFreeze({
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: EPERM,
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [
    { names: [...ALLOWED], action: 'SCMP_ACT_ALLOW' },
    // arg0 is the flags on x86 (s390 swaps the first two arguments; it is not an architecture here)
    {
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    },
    ...SAFE_PERSONAS.map((p): SeccompRule => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [eq(0, p)] })),
    { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', args: [eq(0, PTRACE_TRACEME)] },
    // LT compares all 64 bits: a domain with high bits set (which the kernel would truncate) is refused.
    {
      names: ['socket'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: FIRST_REFUSED_SOCKET_DOMAIN, op: 'SCMP_CMP_LT' }],
    },
    { names: [...ENOSYS_SYSCALLS], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    // Equal to the default action, so runc skips it; listed so that these numbers sit below runc's
    // -ENOSYS line and get EPERM, and so that the profile says what it refuses.
    { names: [...BLOCKED_SYSCALLS], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
  ],
});

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
