/*
 * posix_spawn(3) with pipes, and a reaper, for the spawn helper (and a worker thread without one):
 * a Node `child_process.spawn` forks the whole Node process (page tables, copy-on-write of its heap,
 * then the child's own teardown at exec), 5-8 ms of wall time before conmon even runs on this VM;
 * glibc's posix_spawn shares the parent's memory until the exec (CLONE_VM|CLONE_VFORK), ~0.6 ms.
 * Built by scripts/build-native.sh; src/os/native-spawn.ts falls back to child_process without it.
 * Arguments come from the node (conmon's and runc's argv it built), never from a job.
 *
 *   spawn(file, argv, env, cwd, stdio, setsid) -> { pid, fds }
 *     stdio: one letter per child fd from 0: 'n' /dev/null, 'r' a pipe the child reads (the parent
 *     gets the write end), 'w' a pipe the child writes (the parent gets the read end). Every other fd
 *     is closed in the child; signals are unblocked and at their defaults (glibc's own two too). fds[i] is the parent's end
 *     (O_CLOEXEC), -1 for 'n'. Throws an errno-shaped Error when the program cannot be executed.
 *   wait(pid) -> fd reaps pid on a thread of its own (waitpid blocks) and writes how it ended to the
 *     returned socket (O_CLOEXEC): three native int32, exit code, signal number (-1 for none) and
 *     waitpid's errno (0), then closes it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "napi-helpers.h"

#define MAX_FDS 8

/* A JS array of strings as a NULL-terminated, malloc'ed C array (NULL and a TypeError otherwise). */
static char **string_array(napi_env env, napi_value v, const char *what) {
  bool is_array = false;
  uint32_t n = 0;
  if (napi_is_array(env, v, &is_array) != napi_ok || !is_array || napi_get_array_length(env, v, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  char **out = calloc(n + 1, sizeof *out);
  if (out == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    napi_get_element(env, v, i, &item);
    if ((out[i] = string_arg(env, item, what)) == NULL) {
      for (uint32_t j = 0; j < i; j++) free(out[j]);
      free(out);
      return NULL;
    }
  }
  return out;
}

static void free_array(char **a) {
  if (a == NULL) return;
  for (char **p = a; *p; p++) free(*p);
  free(a);
}

/* The child's end of a pipe moved to an fd at or above `low`, so that no dup2 onto 0..low-1 overwrites it. */
static int above(int fd, int low) {
  if (fd >= low) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, low);
  int err = errno;
  close(fd);
  errno = err;
  return moved;
}

/* Makes the pipes and file actions of `stdio`; false with errno set. parent[i]/child[i] are -1 when unused. */
static bool plan_stdio(const char *stdio, int n, int *parent, int *child, posix_spawn_file_actions_t *fa) {
  for (int i = 0; i < n; i++) {
    if (stdio[i] == 'n') {
      if (posix_spawn_file_actions_addopen(fa, i, "/dev/null", O_RDWR, 0) != 0) return false;
      continue;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return false;
    bool reads = stdio[i] == 'r';
    parent[i] = reads ? p[1] : p[0];
    child[i] = above(reads ? p[0] : p[1], n);
    if (child[i] < 0) return false;
    /* dup2 onto another number clears O_CLOEXEC on the copy; the original closes at exec. */
    if ((errno = posix_spawn_file_actions_adddup2(fa, child[i], i)) != 0) return false;
  }
  return (errno = posix_spawn_file_actions_addclosefrom_np(fa, n)) == 0;
}

/* Adds `sig` to `set` bit by bit, where sigaddset refuses it (glibc's internal signals). */
static void add_raw_signal(sigset_t *set, int sig) {
  unsigned long *words = (unsigned long *)set;
  const int bits = 8 * (int)sizeof(unsigned long);
  words[(sig - 1) / bits] |= 1UL << ((sig - 1) % bits);
}

/* spawn(file, argv, env, cwd, stdio, setsid) */
static napi_value js_spawn(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!args_of(env, info, 6, argv, "spawn(file, argv, env, cwd, stdio, setsid)")) return NULL;
  char *file = NULL, *cwd = NULL, *stdio = NULL, **args = NULL, **envp = NULL;
  napi_valuetype cwd_type;
  bool setsid = false;
  napi_value result = NULL;
  int parent[MAX_FDS], child[MAX_FDS], n = 0;
  for (int i = 0; i < MAX_FDS; i++) parent[i] = child[i] = -1;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);

  if (!(file = string_arg(env, argv[0], "spawn: file must be a string"))) goto out;
  if (!(args = string_array(env, argv[1], "spawn: argv must be an array of strings"))) goto out;
  if (!(envp = string_array(env, argv[2], "spawn: env must be an array of strings"))) goto out;
  napi_typeof(env, argv[3], &cwd_type);
  if (cwd_type != napi_null && !(cwd = string_arg(env, argv[3], "spawn: cwd must be a string or null"))) goto out;
  if (!(stdio = string_arg(env, argv[4], "spawn: stdio must be a string"))) goto out;
  n = (int)strlen(stdio);
  if (n < 1 || n > MAX_FDS || strspn(stdio, "nrw") != (size_t)n) {
    napi_throw_type_error(env, NULL, "spawn: stdio must be 1-8 of the letters n, r, w");
    goto out;
  }
  if (napi_get_value_bool(env, argv[5], &setsid) != napi_ok) {
    napi_throw_type_error(env, NULL, "spawn: setsid must be a boolean");
    goto out;
  }

  if (!plan_stdio(stdio, n, parent, child, &fa) || (cwd && (errno = posix_spawn_file_actions_addchdir_np(&fa, cwd)) != 0)) {
    throw_errno(env, errno, "spawn", file);
    goto out;
  }
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  /* glibc's own signals (32, 33) are left out of sigfillset, and its spawn child then sets them to
   * SIG_IGN, which an exec keeps: conmon, runc and the job would inherit them ignored. */
  for (int sig = __SIGRTMIN; sig < SIGRTMIN; sig++) add_raw_signal(&all, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (setsid ? POSIX_SPAWN_SETSID : 0));

  pid_t pid;
  int err = strchr(file, '/') ? posix_spawn(&pid, file, &fa, &attr, args, envp) : posix_spawnp(&pid, file, &fa, &attr, args, envp);
  if (err != 0) {
    throw_errno(env, err, "spawn", file);
    goto out;
  }
  napi_value fds, num;
  napi_create_object(env, &result);
  napi_create_int32(env, pid, &num);
  napi_set_named_property(env, result, "pid", num);
  napi_create_array_with_length(env, n, &fds);
  for (int i = 0; i < n; i++) {
    napi_create_int32(env, parent[i], &num);
    napi_set_element(env, fds, i, num);
    parent[i] = -1; /* the caller owns it now */
  }
  napi_set_named_property(env, result, "fds", fds);

out:
  for (int i = 0; i < MAX_FDS; i++) {
    if (child[i] >= 0) close(child[i]);
    if (parent[i] >= 0) close(parent[i]);
  }
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  free(file);
  free(cwd);
  free(stdio);
  free_array(args);
  free_array(envp);
  return result;
}

/* One reap: the pid, and the socket its outcome is written to. */
struct reap {
  pid_t pid;
  int fd;
};

/*
 * Reaps the child, then writes { code, signal, errno } (three native int32, -1 for none) to the
 * socket and closes it. No call into Node from this thread: a worker thread that ended meanwhile
 * has closed its end, and the send just fails (a threadsafe function of an ended thread's env is
 * freed memory by then, and calling it brought the whole process down).
 */
static void *reaper(void *arg) {
  struct reap *r = arg;
  int status = 0;
  int32_t out[3] = {-1, -1, 0};
  while (waitpid(r->pid, &status, 0) < 0) {
    if (errno != EINTR) {
      out[2] = errno;
      break;
    }
  }
  if (out[2] == 0 && WIFEXITED(status)) out[0] = WEXITSTATUS(status);
  if (out[2] == 0 && WIFSIGNALED(status)) out[1] = WTERMSIG(status);
  ssize_t sent;
  do sent = send(r->fd, out, sizeof out, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  close(r->fd);
  free(r);
  return NULL;
}

/* wait(pid) -> fd: reaps pid on a thread of its own (waitpid blocks); its outcome arrives on fd. */
static napi_value js_wait(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args_of(env, info, 1, argv, "wait(pid)")) return NULL;
  int32_t pid = 0;
  if (napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "wait: pid must be a positive number");
    return NULL;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    throw_errno(env, errno, "socketpair", "reaper");
    return NULL;
  }
  struct reap *r = calloc(1, sizeof *r);
  if (r == NULL) {
    close(sv[0]);
    close(sv[1]);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  r->pid = pid;
  r->fd = sv[1];
  pthread_t t;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&a, 64 * 1024);
  int err = pthread_create(&t, &a, reaper, r);
  pthread_attr_destroy(&a);
  if (err != 0) {
    close(sv[0]);
    close(sv[1]);
    free(r);
    throw_errno(env, err, "pthread_create", "reaper");
    return NULL;
  }
  napi_value fd;
  napi_create_int32(env, sv[0], &fd);
  return fd;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, js_spawn, NULL, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  napi_create_function(env, "wait", NAPI_AUTO_LENGTH, js_wait, NULL, &fn);
  napi_set_named_property(env, exports, "wait", fn);
  return exports;
}
