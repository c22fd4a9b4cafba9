/*
 * A sealed in-memory copy of an executable (runc), as a Node-API addon. runc 1.1 protects itself
 * from a container rewriting its binary (CVE-2019-5736) by re-executing, at every container start
 * and exec, from a copy nobody can write (a sealed memfd, or in Debian's build a read-only bind
 * mount of itself), unless it already runs from a sealed memfd (its is_self_cloned: seals exactly
 * F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE). The node makes that copy once per process
 * and has conmon run runc from it: same protection, one exec (and its mounts) less per container.
 * Built by scripts/build-native.sh; src/runc/sealed-binary.ts runs the binary as it is without it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include "napi-helpers.h"

/* Linux 6.3+: an executable memfd must say so where vm.memfd_noexec=1 (older kernels refuse the flag). */
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/* The seals runc 1.1's is_self_cloned wants to see, no more and no fewer. */
#define RUNC_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
/* Copies kept by one process: one per version of the binary it has seen (an upgrade adds one). */
#define MAX_COPIES 16

/* One copy, by the identity of the file it was made from. Never closed: a conmon may exec it. */
struct copy {
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  int fd;
};

/* Shared by every worker thread of the process (an addon is loaded once per process). */
static struct copy copies[MAX_COPIES];
static int ncopies = 0;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static bool same_file(const struct copy *c, const struct stat *st) {
  return c->dev == st->st_dev && c->ino == st->st_ino && c->size == st->st_size &&
         c->mtime.tv_sec == st->st_mtim.tv_sec && c->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Copies `size` bytes of `src` into `dst`; 0, or an errno. */
static int copy_all(int src, int dst, off_t size) {
  off_t done = 0;
  while (done < size) {
    ssize_t n = sendfile(dst, src, &done, (size_t)(size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO; /* the file shrank under us */
  }
  return 0;
}

/* A sealed memfd holding the file open as `src` (described by `st`); -1 and errno on failure. */
static int make_copy(int src, const struct stat *st, const char *name) {
  int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1; /* vm.memfd_noexec=2 refuses MFD_EXEC (EACCES): conmon gets runc's own path */
  int err = copy_all(src, fd, st->st_size);
  if (err == 0 && fchmod(fd, 0555) != 0) err = errno;
  if (err == 0 && fcntl(fd, F_ADD_SEALS, RUNC_SEALS) != 0) err = errno;
  if (err != 0) {
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

/* The copy of the file open as `src`, made on the first call for this version of it; -1 and errno. */
static int copy_of(int src, const char *name) {
  struct stat st;
  if (fstat(src, &st) != 0) return -1;
  if (!S_ISREG(st.st_mode)) {
    errno = EINVAL;
    return -1;
  }
  pthread_mutex_lock(&lock);
  int fd = -1;
  for (int i = 0; i < ncopies && fd < 0; i++) {
    if (same_file(&copies[i], &st)) fd = copies[i].fd;
  }
  if (fd < 0 && ncopies == MAX_COPIES) errno = EMFILE;
  else if (fd < 0 && (fd = make_copy(src, &st, name)) >= 0) {
    copies[ncopies++] = (struct copy){ st.st_dev, st.st_ino, st.st_size, st.st_mtim, fd };
  }
  int saved = errno;
  pthread_mutex_unlock(&lock);
  errno = saved;
  return fd;
}

/* sealedCopy(path): the fd of a sealed memfd copy of the executable at `path` (kept open). */
static napi_value js_sealed_copy(napi_env env, napi_callback_info info) {
  napi_value argv[1], out = NULL;
  if (!args_of(env, info, 1, argv, "sealedCopy(path)")) return NULL;
  char *file = string_arg(env, argv[0], "sealedCopy: path must be a string");
  if (file == NULL) return NULL;
  int src = open(file, O_RDONLY | O_CLOEXEC);
  int fd = src < 0 ? -1 : copy_of(src, "runc");
  int err = errno;
  if (src >= 0) close(src);
  if (fd < 0) throw_errno(env, err, src < 0 ? "open" : "sealedCopy", file);
  else napi_create_int32(env, fd, &out);
  free(file);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "sealedCopy", NAPI_AUTO_LENGTH, js_sealed_copy, NULL, &fn);
  napi_set_named_property(env, exports, "sealedCopy", fn);
  return exports;
}
