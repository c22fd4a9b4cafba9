/*
 * mount(2) and umount2(2) for the node's worker threads, as a Node-API addon: a task's writable
 * layer (tmpfs) and overlay are mounted, and unmounted, without forking a process (a spawn of
 * busybox's mount applet through the spawn helper costs ~10 ms of CPU, three times a task).
 * Built by scripts/build-native.sh; src/os/mount.ts falls back to busybox when it is not built.
 * Arguments come from the node (paths it made, options it chose), never from a job.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <node_api.h>

/* Throws an Error like node's own system errors: message, code (EBUSY), errno and syscall. */
static void throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  const char *name = strerrorname_np(err);
  char msg[4352];
  snprintf(msg, sizeof msg, "%s %s: %s", syscall, path, strerror(err));
  napi_value text, error, code, num, sys;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, NULL, text, &error);
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_int32(env, -err, &num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "code", code);
  napi_set_named_property(env, error, "errno", num);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
}

/* A JS string argument as a malloc'ed C string (NULL and a TypeError when it is not a string). */
static char *string_arg(napi_env env, napi_value v, const char *what) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  char *s = malloc(len + 1);
  if (s == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) { /* an embedded NUL would cut the path short */
    free(s);
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  return s;
}

/* The call's `n` arguments into argv; false (and a TypeError naming `usage`) for another count. */
static bool args_of(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *usage) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == n) return true;
  napi_throw_type_error(env, NULL, usage);
  return false;
}

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
