/**
 * The default seccomp profile of a task: an allowlist as OCI `linux.seccomp` data (what runc 1.1.5
 * reads from config.json). The schema is in schema.ts, the loader of an operator's own in load.ts.
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
import type { SeccompProfile } from './schema.js';

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
  // No x32: Debian's kernels turn its ABI off and no userland of ours uses it; left out, its calls
  // kill the caller (libseccomp's bad-architecture action), and runc compiles a third less (~5 ms
  // of every container start and exec).
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
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
