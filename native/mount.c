/*
 * mount(2) and umount2(2) for the node's worker threads, as a Node-API addon: a task's writable
 * layer (tmpfs) and overlay are mounted, and unmounted, without forking a process (a spawn of
 * busybox's mount applet through the spawn helper costs ~10 ms of CPU, three times a task). And
 * removeTree, the removal of a task's directory in one call that never leaves its filesystem.
 * Built by scripts/build-native.sh; src/sandbox/mount-table.ts falls back to busybox when it is not built.
 * Arguments come from the node (paths it made, options it chose), never from a job.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include "napi-helpers.h"

/* A flags argument; false (and a TypeError) when it is not a number. */
static bool flags_of(napi_env env, napi_value v, uint32_t *flags, const char *what) {
  if (napi_get_value_uint32(env, v, flags) == napi_ok) return true;
  napi_throw_type_error(env, NULL, what);
  return false;
}

/* mount(source, target, fstype, flags, data) */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args_of(env, info, 5, argv, "mount(source, target, fstype, flags, data)")) return NULL;
  char *source = NULL, *target = NULL, *fstype = NULL, *data = NULL;
  uint32_t flags = 0;
  if ((source = string_arg(env, argv[0], "mount: source must be a string")) &&
      (target = string_arg(env, argv[1], "mount: target must be a string")) &&
      (fstype = string_arg(env, argv[2], "mount: fstype must be a string")) &&
      (data = string_arg(env, argv[4], "mount: data must be a string")) &&
      flags_of(env, argv[3], &flags, "mount: flags must be a number") &&
      mount(source, target, fstype, flags, data) != 0) {
    throw_errno(env, errno, "mount", target);
  }
  free(source);
  free(target);
  free(fstype);
  free(data);
  return NULL;
}

/* umount(target, flags) */
static napi_value js_umount(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args_of(env, info, 2, argv, "umount(target, flags)")) return NULL;
  uint32_t flags = 0;
  char *target = string_arg(env, argv[0], "umount: target must be a string");
  if (target != NULL && flags_of(env, argv[1], &flags, "umount: flags must be a number") && umount2(target, (int)flags) != 0) {
    throw_errno(env, errno, "umount", target);
  }
  free(target);
  return NULL;
}

/* The id of the mount `path` (relative to `dirfd`, `flags` as statx's) is on; 0 or an errno. */
static int mount_id(int dirfd, const char *path, int flags, uint64_t *id) {
  struct statx stx;
  if (statx(dirfd, path, flags | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) != 0) return errno;
  if (!(stx.stx_mask & STATX_MNT_ID)) return ENOTSUP;
  *id = stx.stx_mnt_id;
  return 0;
}

/* Deepest directory removeTree descends into (a task dir is a few levels deep). */
#define MAX_DEPTH 64

/*
 * Removes directory `name` of `parent` and everything in it, never following a symlink (entries are
 * opened with O_NOFOLLOW relative to their parent's descriptor, symlinks unlinked) and never leaving
 * mount `mnt`: a directory of another mount (something still mounted inside, a bind mount of the
 * same filesystem included) stops the removal with EXDEV before anything under it is touched. 0 or
 * an errno; a missing entry is not an error.
 */
static int remove_dir_at(int parent, const char *name, uint64_t mnt, int depth) {
  if (depth > MAX_DEPTH) return ELOOP;
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : errno;
  uint64_t here = 0;
  int err = mount_id(fd, "", AT_EMPTY_PATH, &here);
  if (err == 0 && here != mnt) err = EXDEV;
  if (err != 0) {
    close(fd);
    return err;
  }
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    err = errno;
    close(fd);
    return err;
  }
  /* Entries removed while listing may make readdir skip some: list again until rmdir succeeds. */
  for (int pass = 0; pass < 8; pass++) {
    for (;;) {
      errno = 0;
      struct dirent *e = readdir(d);
      if (e == NULL) {
        err = errno;
        break;
      }
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      bool dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat es;
        if (fstatat(dirfd(d), e->d_name, &es, AT_SYMLINK_NOFOLLOW) != 0) {
          if (errno == ENOENT) continue;
          err = errno;
          break;
        }
        dir = S_ISDIR(es.st_mode);
      }
      if (dir) err = remove_dir_at(dirfd(d), e->d_name, mnt, depth + 1);
      else if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT) err = errno;
      if (err != 0) break;
    }
    if (err != 0) break;
    if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT) break;
    if (errno != ENOTEMPTY || pass == 7) {
      err = errno;
      break;
    }
    rewinddir(d);
  }
  closedir(d);
  return err;
}

/* removeTree(path): path and everything under it, on path's own filesystem only (EXDEV otherwise); nothing when it is missing. */
static napi_value js_remove_tree(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args_of(env, info, 1, argv, "removeTree(path)")) return NULL;
  char *target = string_arg(env, argv[0], "removeTree: path must be a string");
  if (target == NULL) return NULL;
  char *slash = strrchr(target, '/');
  if (slash == NULL || slash[1] == '\0') {
    throw_errno(env, EINVAL, "removeTree", target);
    free(target);
    return NULL;
  }
  *slash = '\0';
  int parent = open(slash == target ? "/" : target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  *slash = '/';
  int err = parent < 0 ? errno : 0;
  struct stat st;
  uint64_t mnt = 0;
  if (err == 0 && fstatat(parent, slash + 1, &st, AT_SYMLINK_NOFOLLOW) != 0) err = errno == ENOENT ? -1 : errno;
  if (err == 0 && S_ISDIR(st.st_mode)) {
    /* The tree's own mount is its parent's: a mount on the directory itself is refused too. */
    err = mount_id(parent, "", AT_EMPTY_PATH, &mnt);
    if (err == 0) err = remove_dir_at(parent, slash + 1, mnt, 0);
  } else if (err == 0 && unlinkat(parent, slash + 1, 0) != 0 && errno != ENOENT) {
    err = errno;
  }
  if (parent >= 0) close(parent);
  if (err > 0) throw_errno(env, err, "removeTree", target);
  free(target);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "mount", NAPI_AUTO_LENGTH, js_mount, NULL, &fn);
  napi_set_named_property(env, exports, "mount", fn);
  napi_create_function(env, "umount", NAPI_AUTO_LENGTH, js_umount, NULL, &fn);
  napi_set_named_property(env, exports, "umount", fn);
  napi_create_function(env, "removeTree", NAPI_AUTO_LENGTH, js_remove_tree, NULL, &fn);
  napi_set_named_property(env, exports, "removeTree", fn);
  return exports;
}
