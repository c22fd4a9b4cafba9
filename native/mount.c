/*
 * mount(2) and umount2(2) for the node's worker threads, as a Node-API addon: a task's writable
 * layer (tmpfs) and overlay are mounted, and unmounted, without forking a process (a spawn of
 * busybox's mount applet through the spawn helper costs ~10 ms of CPU, three times a task).
 * Built by scripts/build-native.sh; src/sandbox/mount-table.ts falls back to busybox when it is not built.
 * Arguments come from the node (paths it made, options it chose), never from a job.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/mount.h>
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

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "mount", NAPI_AUTO_LENGTH, js_mount, NULL, &fn);
  napi_set_named_property(env, exports, "mount", fn);
  napi_create_function(env, "umount", NAPI_AUTO_LENGTH, js_umount, NULL, &fn);
  napi_set_named_property(env, exports, "umount", fn);
  return exports;
}
