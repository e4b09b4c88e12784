/*
 * mount(2) and umount2(2) for Node, which has neither. Spawning mount(8)
 * costs 5-10 ms per call and prepareRootfs is on the hot path of `run`; the
 * syscall itself takes about 0.4 ms. Plain N-API (no node-addon-api), built
 * by build.sh with the C compiler alone: N-API symbols resolve at load time.
 *
 *   mount(source: string, target: string, fstype: string, flags: number, data: string): void
 *   umount(target: string, flags: number): void
 * Errors are thrown as Error with `code` set to the errno name (EBUSY, ...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#define MAX_ARG 16384

static void throw_errno(napi_env env, const char *what, const char *target, int err) {
  char msg[4600];
  snprintf(msg, sizeof msg, "%s %s: %s", what, target, strerror(err));
  const char *name = strerrorname_np(err);
  napi_throw_error(env, name ? name : "EUNKNOWN", msg);
}

static int get_string(napi_env env, napi_value v, char *buf, size_t len) {
  size_t got = 0;
  if (napi_get_value_string_utf8(env, v, buf, len, &got) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a string argument");
    return -1;
  }
  if (got >= len - 1) {
    napi_throw_range_error(env, NULL, "string argument too long");
    return -1;
  }
  return 0;
}

static char source[4096], target[4096], fstype[64], data[MAX_ARG];

static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "mount(source, target, fstype, flags, data)");
    return NULL;
  }
  int64_t flags = 0;
  if (get_string(env, argv[0], source, sizeof source) || get_string(env, argv[1], target, sizeof target) ||
      get_string(env, argv[2], fstype, sizeof fstype) || get_string(env, argv[4], data, sizeof data))
    return NULL;
  napi_get_value_int64(env, argv[3], &flags);
  if (mount(source, target, fstype, (unsigned long)flags, data) != 0) throw_errno(env, "mount", target, errno);
  return NULL;
}

static napi_value js_umount(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "umount(target, flags)");
    return NULL;
  }
  int64_t flags = 0;
  if (get_string(env, argv[0], target, sizeof target)) return NULL;
  napi_get_value_int64(env, argv[1], &flags);
  if (umount2(target, (int)flags) != 0) throw_errno(env, "umount", target, errno);
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
