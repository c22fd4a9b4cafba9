#!/usr/bin/env bash
# Builds native/mount.c (mount(2) and umount2(2) for the worker threads, a Node-API addon) into
# native/build/stasis_mount.node. Part of `npm run build`. Optional: without a C compiler or node's
# headers it says so and the node mounts with busybox's applets instead (src/os/mount.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
src=native/mount.c
out=native/build/stasis_mount.node
mkdir -p native/build # (also when nothing is built: the image copies the directory)
[ -f "$out" ] && [ "$out" -nt "$src" ] && exit 0
inc=$(node -p "require('node:path').resolve(process.execPath, '../../include/node')")
if ! command -v cc >/dev/null || [ ! -f "$inc/node_api.h" ]; then
  echo "build-native: no C compiler or no node_api.h under $inc: mounts go through busybox" >&2
  exit 0
fi
cc -O2 -Wall -Wextra -Werror -shared -fPIC -I"$inc" -o "$out.tmp" "$src"
mv "$out.tmp" "$out"
