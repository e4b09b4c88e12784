#!/bin/sh
# Builds build/Release/oci_native.node (fd passing, SEQPACKET, TIOCSWINSZ for
# TTY exec and attach; see oci_native.c for why) with node-gyp, the one bundled
# with npm, against the Node headers in $npm_config_nodedir (set by setup.sh).
# Quick when up to date. Without a compiler only TTY exec and attach are lost.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/build/Release/oci_native.node"
if [ -f "$OUT" ] && [ "$OUT" -nt "$HERE/oci_native.c" ] && [ "$OUT" -nt "$HERE/binding.gyp" ]; then exit 0; fi
if ! command -v cc >/dev/null 2>&1; then
  echo "oci: no C compiler; TTY exec and attach will be unavailable" >&2
  exit 0
fi
GYP=""
for d in "$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" \
  "$(npm root -g 2>/dev/null)/npm/node_modules/node-gyp/bin/node-gyp.js"; do
  if [ -f "$d" ]; then GYP=$d; break; fi
done
if [ -z "$GYP" ]; then echo "oci: node-gyp not found (it comes with npm)" >&2; exit 1; fi
cd "$HERE"
node "$GYP" rebuild --silent >/dev/null 2>&1 || echo "oci: building the native addon failed; TTY exec and attach will be unavailable" >&2
