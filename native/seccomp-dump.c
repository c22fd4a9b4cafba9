/*
 * stasis-seccomp-dump PID: writes the one seccomp filter of process PID to stdout, as struct
 * sock_filter records. The node runs it once per profile on a probe container that runc started
 * with that profile (src/sandbox/seccomp/compiled.ts): the program runc built, its -ENOSYS stub
 * included, becomes the filter /.stasis/seccomp loads in later containers. Needs CAP_SYS_ADMIN
 * (PTRACE_SECCOMP_GET_FILTER). Fails unless PID has exactly one filter.
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

static int fail(const char *what, int err) {
  fprintf(stderr, "stasis-seccomp-dump: %s: %s\n", what, strerror(err));
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) return fail("usage: stasis-seccomp-dump PID", EINVAL);
  char *end;
  long pid = strtol(argv[1], &end, 10);
  if (*end != '\0' || pid <= 0) return fail("PID", EINVAL);
  if (ptrace(PTRACE_SEIZE, (pid_t)pid, 0, 0) != 0) return fail("PTRACE_SEIZE", errno);
  if (ptrace(PTRACE_INTERRUPT, (pid_t)pid, 0, 0) != 0) return fail("PTRACE_INTERRUPT", errno);
  int status;
  if (waitpid((pid_t)pid, &status, __WALL) < 0) return fail("waitpid", errno);
  long count = ptrace(PTRACE_SECCOMP_GET_FILTER, (pid_t)pid, 0, NULL);
  if (count <= 0) return fail("PTRACE_SECCOMP_GET_FILTER", count == 0 ? ENOENT : errno);
  struct sock_filter *insns = calloc((size_t)count, sizeof *insns);
  if (!insns) return fail("calloc", ENOMEM);
  if (ptrace(PTRACE_SECCOMP_GET_FILTER, (pid_t)pid, 0, insns) != count) return fail("PTRACE_SECCOMP_GET_FILTER", errno);
  // A second filter would have been installed by the process itself: not runc's alone.
  if (ptrace(PTRACE_SECCOMP_GET_FILTER, (pid_t)pid, 1, NULL) >= 0 || errno != ENOENT) return fail("more than one filter", EEXIST);
  ptrace(PTRACE_DETACH, (pid_t)pid, 0, 0);
  size_t len = (size_t)count * sizeof *insns;
  if (fwrite(insns, 1, len, stdout) != len || fflush(stdout) != 0) return fail("stdout", errno);
  return 0;
}
