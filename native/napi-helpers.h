/*
 * What the node's Node-API addons (mount.c, sealed-copy.c) share: errors shaped like node's own
 * system errors, string arguments and the argument count. Header-only: each addon is one file.
 */
#ifndef STASIS_NAPI_HELPERS_H
#define STASIS_NAPI_HELPERS_H
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#endif
