/*
 * seccomp probe: calls each syscall named on argv with harmless arguments and prints one line per
 * name, "<name> <errno>" (0 = the call was allowed). What matters is which errno comes back (EPERM
 * from the filter, ENOSYS from clone3) rather than what the call would do; every argument is chosen
 * so that the call is a no-op, a query or an error even where it is allowed (the probe may run as
 * root on a host without a filter). Built with `gcc -static -O1` by probe.ts; never committed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467 /* Linux 6.15, newer than libseccomp 2.5.4 */
#endif
#define KEY_SPEC_SESSION_KEYRING -3
#define KEYCTL_GET_KEYRING_ID 0
#define KCMP_FILE 0

/* -1/errno of a raw return value, 0 on success (closing a returned descriptor). */
static int fd_result(long r) {
  if (r < 0) return errno;
  if (r > 2) close((int)r);
  return 0;
}

static int result(long r) { return r < 0 ? errno : 0; }

/* Exit status of a child that ran `fn`, or the errno of the fork itself. */
static int in_child(int (*fn)(void)) {
  pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) _exit(fn());
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return errno;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int do_nothing(void) { return 0; }
static void *thread_main(void *arg) { return arg; }

static int unshare_user(void) { return result(unshare(CLONE_NEWUSER)); }
/* getpid through the x32 ABI: x86_64's number with __X32_SYSCALL_BIT set. */
static int x32_getpid(void) { return result(syscall(0x40000000L | SYS_getpid)); }
static int traceme(void) { return result(ptrace(PTRACE_TRACEME, 0, NULL, NULL)); }

/* raw clone(2) with namespace flags; the child exits at once. */
static int clone_flags(unsigned long flags) {
  long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (r < 0) return errno;
  if (r == 0) _exit(0);
  waitpid((pid_t)r, NULL, 0);
  return 0;
}

static int attach_child(void) {
  pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) {
    pause();
    _exit(0);
  }
  int err = result(ptrace(PTRACE_ATTACH, pid, NULL, NULL));
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return err;
}

static int probe(const char *name) {
  char buf[16] = "probe";
  struct iovec local = {buf, sizeof buf}, remote = {buf, sizeof buf};
  if (!strcmp(name, "fork")) return in_child(do_nothing);
  if (!strcmp(name, "thread")) {
    pthread_t t;
    int err = pthread_create(&t, NULL, thread_main, NULL);
    return err ? err : pthread_join(t, NULL);
  }
  if (!strcmp(name, "clone")) return clone_flags(0);
  if (!strcmp(name, "clone-newuser")) return clone_flags(CLONE_NEWUSER);
  if (!strcmp(name, "clone-newns")) return clone_flags(CLONE_NEWNS);
  if (!strcmp(name, "clone-newpid")) return clone_flags(CLONE_NEWPID);
  if (!strcmp(name, "clone-newnet")) return clone_flags(CLONE_NEWNET);
  if (!strcmp(name, "clone-newuts")) return clone_flags(CLONE_NEWUTS);
  if (!strcmp(name, "clone-newipc")) return clone_flags(CLONE_NEWIPC);
  if (!strcmp(name, "clone-newcgroup")) return clone_flags(CLONE_NEWCGROUP);
  if (!strcmp(name, "clone3")) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.exit_signal = SIGCHLD;
    long r = syscall(SYS_clone3, &args, sizeof args);
    if (r == 0) _exit(0);
    if (r > 0) waitpid((pid_t)r, NULL, 0);
    return result(r);
  }
  if (!strcmp(name, "unshare")) return in_child(unshare_user);
  if (!strcmp(name, "x32-getpid")) return in_child(x32_getpid);
  if (!strcmp(name, "setns")) return result(setns(-1, 0));
  if (!strcmp(name, "keyctl")) return result(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
  if (!strcmp(name, "add_key")) return result(syscall(SYS_add_key, "stasis-no-such-type", "d", NULL, 0, KEY_SPEC_SESSION_KEYRING));
  if (!strcmp(name, "request_key")) return result(syscall(SYS_request_key, "stasis-no-such-type", "d", NULL, 0));
  if (!strcmp(name, "perf_event_open")) {
    char attr[128];
    memset(attr, 0, sizeof attr);
    return fd_result(syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
  }
  if (!strcmp(name, "bpf")) return result(syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, NULL, 0));
  if (!strcmp(name, "io_uring_setup")) {
    char params[120];
    memset(params, 0, sizeof params);
    return fd_result(syscall(SYS_io_uring_setup, 1, params));
  }
  if (!strcmp(name, "io_uring_enter")) return result(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
  if (!strcmp(name, "io_uring_register")) return result(syscall(SYS_io_uring_register, -1, 0, NULL, 0));
  if (!strcmp(name, "userfaultfd")) return fd_result(syscall(SYS_userfaultfd, 0));
  /* an unknown architecture in flags and too many segments: EINVAL before anything is loaded */
  if (!strcmp(name, "kexec_load")) return result(syscall(SYS_kexec_load, 0, 1000, NULL, 0x7fff0000));
  if (!strcmp(name, "kexec_file_load")) return result(syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0xffff));
  if (!strcmp(name, "init_module")) return result(syscall(SYS_init_module, NULL, 0, ""));
  if (!strcmp(name, "finit_module")) return result(syscall(SYS_finit_module, -1, "", 0));
  if (!strcmp(name, "delete_module")) return result(syscall(SYS_delete_module, "stasis_no_such_module", O_NONBLOCK));
  if (!strcmp(name, "mount")) return result(mount("none", "/tmp", "tmpfs", 0, NULL));
  if (!strcmp(name, "umount2")) return result(umount2("/stasis-no-such-mount", 0));
  if (!strcmp(name, "pivot_root")) return result(syscall(SYS_pivot_root, "/stasis-no-such-dir", "/stasis-no-such-dir"));
  if (!strcmp(name, "fsopen")) return fd_result(syscall(SYS_fsopen, "tmpfs", 0));
  if (!strcmp(name, "fsconfig")) return result(syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0));
  if (!strcmp(name, "fsmount")) return fd_result(syscall(SYS_fsmount, -1, 0, 0));
  if (!strcmp(name, "fspick")) return fd_result(syscall(SYS_fspick, -1, "", 0));
  if (!strcmp(name, "move_mount")) return result(syscall(SYS_move_mount, -1, "", -1, "", 0));
  if (!strcmp(name, "open_tree")) return fd_result(syscall(SYS_open_tree, AT_FDCWD, "/", 0));
  if (!strcmp(name, "mount_setattr")) return result(syscall(SYS_mount_setattr, -1, "", 0, NULL, 0));
  if (!strcmp(name, "open_tree_attr")) return fd_result(syscall(SYS_open_tree_attr, -1, "", 0, NULL, 0));
  if (!strcmp(name, "personality-unsafe")) {
    long r = personality(READ_IMPLIES_EXEC);
    if (r != -1) personality(PER_LINUX);
    return result(r);
  }
  if (!strcmp(name, "personality-query")) return result(personality(0xffffffff));
  if (!strcmp(name, "personality-linux")) return result(personality(PER_LINUX));
  if (!strcmp(name, "ptrace-attach")) return attach_child();
  if (!strcmp(name, "ptrace-traceme")) return in_child(traceme);
  if (!strcmp(name, "process_vm_readv")) return result(syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0));
  if (!strcmp(name, "process_vm_writev")) return result(syscall(SYS_process_vm_writev, getpid(), &local, 1, &remote, 1, 0));
  if (!strcmp(name, "kcmp")) return result(syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 0, 0));
  if (!strcmp(name, "pidfd_getfd")) {
    long pidfd = syscall(SYS_pidfd_open, getpid(), 0);
    if (pidfd < 0) return errno;
    int err = fd_result(syscall(SYS_pidfd_getfd, pidfd, 1, 0));
    close((int)pidfd);
    return err;
  }
  if (!strcmp(name, "open_by_handle_at")) return fd_result(syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
  if (!strcmp(name, "name_to_handle_at")) {
    struct file_handle fh = {.handle_bytes = 0};
    int mount_id;
    return result(syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &fh, &mount_id, 0));
  }
  if (!strcmp(name, "acct")) return result(acct("/stasis-no-such-file"));
  if (!strcmp(name, "swapon")) return result(syscall(SYS_swapon, "/stasis-no-such-file", 0));
  if (!strcmp(name, "swapoff")) return result(syscall(SYS_swapoff, "/stasis-no-such-file"));
  /* wrong magic numbers: EINVAL before any command is looked at */
  if (!strcmp(name, "reboot")) return result(syscall(SYS_reboot, 0, 0, 0, NULL));
  if (!strcmp(name, "syslog")) return result(syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
  if (!strcmp(name, "settimeofday")) return result(syscall(SYS_settimeofday, NULL, NULL));
  if (!strcmp(name, "clock_settime")) return result(syscall(SYS_clock_settime, -1000, NULL));
  if (!strcmp(name, "clock_adjtime")) return result(syscall(SYS_clock_adjtime, -1000, NULL));
  if (!strcmp(name, "adjtimex")) {
    struct timex tx = {.modes = 0};
    return result(syscall(SYS_adjtimex, &tx));
  }
  if (!strcmp(name, "quotactl")) return result(syscall(SYS_quotactl, 0, "/stasis-no-such-dev", 0, NULL));
  if (!strcmp(name, "iopl")) return result(syscall(SYS_iopl, 0));
  if (!strcmp(name, "ioperm")) return result(syscall(SYS_ioperm, 0x80, 1, 0));
  if (!strcmp(name, "modify_ldt")) return result(syscall(SYS_modify_ldt, 0, buf, 0));
  if (!strcmp(name, "socket-inet")) return fd_result(socket(AF_INET, SOCK_STREAM, 0));
  if (!strcmp(name, "socket-unix")) return fd_result(socket(AF_UNIX, SOCK_STREAM, 0));
  if (!strcmp(name, "socket-alg")) return fd_result(socket(AF_ALG, SOCK_SEQPACKET, 0));
  if (!strcmp(name, "socket-vsock")) return fd_result(socket(AF_VSOCK, SOCK_STREAM, 0));
  /* AF_ALG with high bits set: a 32-bit compare would see 38 and the kernel truncates to int */
  if (!strcmp(name, "socket-alg-high")) return fd_result(syscall(SYS_socket, 0x100000000L | AF_ALG, SOCK_SEQPACKET, 0));
  return -1;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; i++) {
    errno = 0;
    int err = probe(argv[i]);
    if (err < 0) {
      fprintf(stderr, "seccomp-probe: unknown probe %s\n", argv[i]);
      return 2;
    }
    printf("%s %d\n", argv[i], err);
  }
  return 0;
}
