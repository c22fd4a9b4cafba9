#!/usr/bin/env bash
# Builds the node's Node-API addons into native/build/: stasis_mount.node (native/mount.c: mount(2)
# and umount2(2) for the worker threads), stasis_sealed.node (native/sealed-copy.c: the sealed
# copy of runc that conmon runs) and stasis_spawn.node (native/spawn.c: posix_spawn with pipes);
# and three programs: stasis-seccomp (native/seccomp-load.c, static: loads a compiled seccomp filter
# in a container), stasis-seccomp-dump (native/seccomp-dump.c: reads a process' filter) and
# stasis-start (native/start.c, static: every task's pid 1 instead of tini and busybox sh).
# Part of `npm run build`. Optional: without a C compiler or node's headers it says so, and the
# node mounts with busybox's applets, runs runc from its own path, spawns with child_process and
# lets runc compile the seccomp profile at every container start, and tasks start through tini and
# busybox sh.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p native/build # (also when nothing is built: the image copies the directory)
# The seccomp programs need no node headers; the loader needs a static libc (libc6-dev).
build_program() { # name source [cc flags...]
  local out=native/build/$1 src=$2; shift 2
  [ -f "$out" ] && [ "$out" -nt "$src" ] && return 0
  if cc -O2 -Wall -Wextra -Werror "$@" -o "$out.tmp" "$src" 2>/tmp/build-native.$$.err; then mv "$out.tmp" "$out"
  else echo "build-native: $out not built: $(tail -1 /tmp/build-native.$$.err)" >&2; rm -f "$out.tmp"; fi
  rm -f /tmp/build-native.$$.err
}
if command -v cc >/dev/null; then
  build_program stasis-seccomp native/seccomp-load.c -static
  build_program stasis-start native/start.c -static
  build_program stasis-seccomp-dump native/seccomp-dump.c
fi
inc=$(node -p "require('node:path').resolve(process.execPath, '../../include/node')")
if ! command -v cc >/dev/null || [ ! -f "$inc/node_api.h" ]; then
  echo "build-native: no C compiler or no node_api.h under $inc: no addons (busybox mounts, runc as it is)" >&2
  exit 0
fi
for pair in mount:stasis_mount sealed-copy:stasis_sealed spawn:stasis_spawn; do
  src=native/${pair%%:*}.c
  out=native/build/${pair##*:}.node
  [ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt native/napi-helpers.h ] && continue
  # -z nodelete: a worker thread's end unloads the addons it loaded, and the spawn addon's reaper
  # threads (blocked in waitpid) would then return into unmapped code and bring the process down.
  cc -O2 -Wall -Wextra -Werror -shared -fPIC -pthread -Wl,-z,nodelete -I"$inc" -o "$out.tmp" "$src"
  mv "$out.tmp" "$out"
done
