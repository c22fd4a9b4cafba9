/*
 * stasis-start: a task's pid 1 where the node built it. One static program instead of the chain
 * seccomp loader → tini → busybox sh → the job (src/sandbox/launcher.ts keeps that chain for nodes
 * without a C compiler):
 *
 *   /.stasis/start [--seccomp FILTER] SPEC
 *
 * 1. Loads FILTER, when given, as native/seccomp-load.c does (no_new_privs, then the program), so
 *    this process and every descendant run under it. Under a user namespace the node gives tasks an
 *    execute-only copy of this program, which keeps it non-dumpable until the filter is loaded; it
 *    is dumpable after that, as tini was, for CRIU.
 * 2. Reads SPEC, the job's process as the node wrote it into the read-only job directory: NUL-ended
 *    fields "stasis-start 1", cwd, RLIMIT_CPU seconds (empty: none), the argument count, the
 *    arguments, the environment count, the `KEY=VALUE` entries.
 * 3. Is pid 1 as `tini -g` is: forks the job into a process group of its own (the terminal's
 *    foreground group when it has one), forwards every signal it gets to that group, reaps every
 *    child, and exits with the job's status (128+n when a signal n ended it).
 * 4. The child checks the working directory and the program as the launch script does (execvp's
 *    PATH search over the job's own PATH), sets the limit and the job's environment over runc's
 *    (PATH, HOME), and execs it.
 *
 * A failure never runs the job differently: one `stasis: cannot start:` line on stderr, exit status
 * 127 (no such directory or program, or the filter or SPEC could not be read) or 126 (it cannot be
 * run), the launch script's lines and statuses. Linked statically: it runs in any rootfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PREFIX "stasis: cannot start: "
#define MAGIC "stasis-start 1"
#define MAX_SPEC (8 << 20)
#define BUSYBOX "/.stasis/busybox"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

extern char **environ;

/** The job's process, pointing into the spec's bytes. */
struct spec {
  const char *cwd;
  const char *cpu;
  char **argv;
  char **env;
  size_t nenv;
};

/** Writes the one start-failure line, in one write (the node reads it as the log's first entry). */
static int fail(int status, const char *fmt, const char *a, const char *b) {
  char line[8192];
  int n = snprintf(line, sizeof line - 1, PREFIX);
  n += snprintf(line + n, sizeof line - 1 - (size_t)n, fmt, a, b);
  if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
  line[n++] = '\n';
  while (write(2, line, (size_t)n) < 0 && errno == EINTR) {}
  return status;
}

static int load_filter(const char *file) {
  static struct sock_filter insns[BPF_MAXINSNS + 1];
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(127, "seccomp: %s: %s", file, strerror(errno));
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, (char *)insns + n, sizeof insns - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail(127, "seccomp: %s: %s", file, strerror(errno));
    if (r == 0) break;
    n += (size_t)r;
    if (n == sizeof insns) return fail(127, "seccomp: %s: %s", file, strerror(E2BIG));
  }
  close(fd);
  if (n == 0 || n % sizeof insns[0] != 0) return fail(127, "seccomp: %s: %s", file, strerror(EINVAL));
  struct sock_fprog prog = { .len = (unsigned short)(n / sizeof insns[0]), .filter = insns };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail(127, "seccomp: %s: %s", "no_new_privs", strerror(errno));
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return fail(127, "seccomp: %s: %s", "loading the filter", strerror(errno));
  return 0;
}

/** The next NUL-ended field at *at, or NULL past the end. */
static char *field(char *buf, size_t len, size_t *at) {
  if (*at >= len) return NULL;
  char *s = buf + *at;
  char *end = memchr(s, '\0', len - *at);
  if (!end) return NULL;
  *at = (size_t)(end - buf) + 1;
  return s;
}

static char **fields(char *buf, size_t len, size_t *at, size_t *count) {
  char *n = field(buf, len, at);
  if (!n || !*n) return NULL;
  char *end;
  unsigned long c = strtoul(n, &end, 10);
  if (*end || c > len) return NULL;
  char **v = calloc(c + 1, sizeof *v);
  if (!v) return NULL;
  for (unsigned long i = 0; i < c; i++)
    if (!(v[i] = field(buf, len, at))) return NULL;
  *count = c;
  return v;
}

static int read_spec(const char *file, struct spec *s) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(127, "%s: %s", file, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size > MAX_SPEC) return fail(127, "%s: %s", file, "not a job spec");
  size_t len = (size_t)st.st_size, n = 0;
  char *buf = malloc(len);
  if (!buf) return fail(127, "%s: %s", file, strerror(ENOMEM));
  while (n < len) {
    ssize_t r = read(fd, buf + n, len - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return fail(127, "%s: %s", file, r < 0 ? strerror(errno) : "short read");
    n += (size_t)r;
  }
  close(fd);
  size_t at = 0, argc = 0;
  const char *magic = field(buf, len, &at);
  if (!magic || strcmp(magic, MAGIC) != 0) return fail(127, "%s: %s", file, "not a job spec");
  s->cwd = field(buf, len, &at);
  s->cpu = field(buf, len, &at);
  s->argv = s->cwd && s->cpu ? fields(buf, len, &at, &argc) : NULL;
  s->env = s->argv && argc > 0 ? fields(buf, len, &at, &s->nenv) : NULL;
  if (!s->env || at != len || !*s->cwd) return fail(127, "%s: %s", file, "not a job spec");
  return 0;
}

static int is_exec_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode) && faccessat(AT_FDCWD, p, X_OK, AT_EACCESS) == 0;
}

/** The job's PATH: its last PATH= entry (one is always there: the node adds it). */
static const char *job_path(const struct spec *s) {
  const char *p = DEFAULT_PATH;
  for (size_t i = 0; i < s->nenv; i++)
    if (strncmp(s->env[i], "PATH=", 5) == 0) p = s->env[i] + 5;
  return p;
}

/** In the child: the launch script's checks, the limit, the environment, the exec. Returns only on failure. */
static int launch(const struct spec *s) {
  struct stat st;
  if (stat(s->cwd, &st) != 0 || !S_ISDIR(st.st_mode)) return fail(127, "working directory %s: %s", s->cwd, "no such directory");
  if (chdir(s->cwd) != 0) return fail(126, "working directory %s: %s", s->cwd, "permission denied");
  const char *prog = s->argv[0];
  char *file = NULL;
  if (strchr(prog, '/')) {
    if (stat(prog, &st) != 0) return fail(127, "%s: %s", prog, "no such file or directory");
    if (!is_exec_file(prog)) return fail(126, "%s: %s", prog, "permission denied");
    file = (char *)prog;
  } else {
    const char *dirs = job_path(s);
    int seen = 0;
    size_t plen = strlen(prog);
    for (const char *d = dirs;; d++) {
      const char *colon = strchrnul(d, ':');
      size_t dlen = (size_t)(colon - d);
      char *cand = malloc((dlen ? dlen : 1) + plen + 2);
      if (!cand) return fail(127, "%s: %s", prog, strerror(ENOMEM));
      if (dlen) memcpy(cand, d, dlen);
      else cand[dlen++] = '.';
      cand[dlen] = '/';
      memcpy(cand + dlen + 1, prog, plen + 1);
      if (is_exec_file(cand)) {
        file = cand;
        break;
      }
      if (stat(cand, &st) == 0) seen = 1;
      free(cand);
      if (!*colon) break;
      d = colon;
    }
    if (!file) return seen ? fail(126, "%s: %s", prog, "permission denied") : fail(127, "%s: %s", prog, "command not found");
  }
  if (*s->cpu) {
    rlim_t secs = (rlim_t)strtoull(s->cpu, NULL, 10);
    struct rlimit rl = { secs, secs };
    if (setrlimit(RLIMIT_CPU, &rl) != 0) return fail(126, "cpu time limit %s: %s", s->cpu, strerror(errno));
  }
  unsetenv("OLDPWD");
  unsetenv("PWD");
  unsetenv("SHLVL");
  for (size_t i = 0; i < s->nenv; i++) putenv(s->env[i]);
  execve(file, s->argv, environ);
  if (errno == ENOEXEC) {
    // No #! line: busybox' sh runs it, as it did under the launch script.
    size_t n = 0;
    while (s->argv[n]) n++;
    char **sh = calloc(n + 2, sizeof *sh);
    if (sh) {
      sh[0] = "sh";
      sh[1] = file;
      for (size_t i = 1; i < n; i++) sh[i + 1] = s->argv[i];
      execve(BUSYBOX, sh, environ);
    }
    return fail(126, "%s: %s", prog, strerror(ENOEXEC));
  }
  int err = errno;
  return fail(err == ENOENT || err == ENOTDIR ? 127 : 126, "%s: %s", prog, strerror(err));
}

int main(int argc, char **argv) {
  int a = 1;
  if (a + 1 < argc && strcmp(argv[a], "--seccomp") == 0) {
    int r = load_filter(argv[a + 1]);
    if (r != 0) return r;
    a += 2;
  }
  // The node's copy is execute-only to the task (src/runtime/native-start.ts): this process was
  // non-dumpable up to here, so no process of the task could write into it before the filter. Now
  // it is as filtered as they are, and dumpable again as tini was (CRIU dumps it through /proc).
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  if (a + 1 != argc) return fail(127, "%s: %s", "usage", "stasis-start [--seccomp FILTER] SPEC");
  struct spec s;
  int r = read_spec(argv[a], &s);
  if (r != 0) return r;

  // As tini: every signal but the synchronous ones waits in the mask for sigwaitinfo below; the
  // terminal's job-control stops are ignored here and back to default in the job.
  sigset_t all, old;
  sigfillset(&all);
  int sync[] = { SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS, SIGTTIN, SIGTTOU };
  for (size_t i = 0; i < sizeof sync / sizeof sync[0]; i++) sigdelset(&all, sync[i]);
  sigprocmask(SIG_SETMASK, &all, &old);
  struct sigaction ign = { .sa_handler = SIG_IGN }, ttin, ttou;
  sigaction(SIGTTIN, &ign, &ttin);
  sigaction(SIGTTOU, &ign, &ttou);

  pid_t child = fork();
  if (child < 0) return fail(127, "%s: %s", "fork", strerror(errno));
  if (child == 0) {
    setpgid(0, 0);
    // The job's group takes the terminal, when stdin is one (ENOTTY, ENXIO: no terminal).
    if (tcsetpgrp(STDIN_FILENO, getpgrp()) != 0 && errno != ENOTTY && errno != ENXIO) return fail(127, "%s: %s", "terminal", strerror(errno));
    sigaction(SIGTTIN, &ttin, NULL);
    sigaction(SIGTTOU, &ttou, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    _exit(launch(&s));
  }
  // Here too, so a signal forwarded before the child's own setpgid reaches its group.
  setpgid(child, child);

  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig > 0 && sig != SIGCHLD && kill(-child, sig) != 0 && errno == ESRCH) kill(child, sig);
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != child) continue;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
  }
}
