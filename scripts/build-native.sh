#!/usr/bin/env bash
# Builds the node's Node-API addons into native/build/: stasis_mount.node (native/mount.c: mount(2)
# and umount2(2) for the worker threads), stasis_sealed.node (native/sealed-copy.c: the sealed
# copy of runc that conmon runs) and stasis_spawn.node (native/spawn.c: posix_spawn with pipes).
# Part of `npm run build`. Optional: without a C compiler or node's headers it says so, and the
# node mounts with busybox's applets, runs runc from its own path and spawns with child_process.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p native/build # (also when nothing is built: the image copies the directory)
inc=$(node -p "require('node:path').resolve(process.execPath, '../../include/node')")
if ! command -v cc >/dev/null || [ ! -f "$inc/node_api.h" ]; then
  echo "build-native: no C compiler or no node_api.h under $inc: no addons (busybox mounts, runc as it is)" >&2
  exit 0
fi
for pair in mount:stasis_mount sealed-copy:stasis_sealed spawn:stasis_spawn; do
  src=native/${pair%%:*}.c
  out=native/build/${pair##*:}.node
  [ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt native/napi-helpers.h ] && continue
  cc -O2 -Wall -Wextra -Werror -shared -fPIC -pthread -I"$inc" -o "$out.tmp" "$src"
  mv "$out.tmp" "$out"
done
