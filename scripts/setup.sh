#!/usr/bin/env bash
# One-step set-up on a fresh machine (root): system packages, a supported Node.js, npm packages,
# and the build (BPF objects, native addon, TypeScript).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# Tracepoints attach through tracefs; bpffs is where BPF objects can be pinned. The agent mounts
# nothing itself: this set-up does, once, when they are missing.
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing || echo "setup.sh: could not mount tracefs" >&2
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || echo "setup.sh: could not mount bpffs" >&2
./scripts/setup-node.sh
hash -r
# Node's own headers for the addon: the ones shipped with the Node that runs the build.
NODE_INCLUDE="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
export npm_config_nodedir="$NODE_INCLUDE"
# Exactly the locked dependency tree (fails if package-lock.json and package.json disagree).
npm ci --no-audit --no-fund
npm run build
