/*
 * stasis-seccomp: loads a compiled seccomp filter, then execs a program. Bind-mounted read-only at
 * /.stasis/seccomp in every container whose filter the node compiled once (src/sandbox/seccomp/
 * compiled.ts), instead of runc compiling the profile with libseccomp at every container start.
 *
 *   /.stasis/seccomp FILTER -- PROGRAM [ARG]...
 *
 * FILTER holds the program as struct sock_filter records (what PTRACE_SECCOMP_GET_FILTER returns).
 * The filter is loaded with no_new_privs set (runc sets it for every task), before the exec, so the
 * program and all its descendants run under it, as under runc's own. PROGRAM is looked up in PATH as
 * runc looks up a process' argv[0]. A failure never execs the program unfiltered: it writes one
 * `stasis: cannot start:` line on stderr and exits 127 (no such program, or the filter could not be
 * loaded) or 126 (the program cannot be run), as the launch script does. Linked statically: it runs
 * in any rootfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fail(const char *what, int err) {
  dprintf(2, "stasis: cannot start: seccomp: %s: %s\n", what, strerror(err));
  return 127;
}

static int cannot_run(const char *program, int err) {
  dprintf(2, "stasis: cannot start: %s: %s\n", program, strerror(err));
  return err == ENOENT || err == ENOTDIR ? 127 : 126;
}

int main(int argc, char **argv) {
  static struct sock_filter insns[BPF_MAXINSNS + 1];
  // The node's copy is execute-only to the task, which makes this process non-dumpable already;
  // this says so again until the exec below, before anything else runs.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (argc < 4 || strcmp(argv[2], "--") != 0) return fail("usage: stasis-seccomp FILTER -- PROGRAM [ARG]...", EINVAL);
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(argv[1], errno);
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, (char *)insns + n, sizeof insns - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail(argv[1], errno);
    if (r == 0) break;
    n += (size_t)r;
    if (n == sizeof insns) return fail(argv[1], E2BIG);
  }
  close(fd);
  if (n == 0 || n % sizeof insns[0] != 0) return fail(argv[1], EINVAL);
  struct sock_fprog prog = { .len = (unsigned short)(n / sizeof insns[0]), .filter = insns };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail("no_new_privs", errno);
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return fail("loading the filter", errno);
  execvp(argv[3], argv + 3);
  return cannot_run(argv[3], errno);
}
