#!/usr/bin/env bash
# Installs the system packages podtrace builds and tests with.
#   Debian/Ubuntu: apt;  Amazon Linux 2023 / Fedora / RHEL-likes: dnf (as on EKS nodes).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then echo "install-deps.sh: run as root (sudo)" >&2; exit 1; fi

if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # build: clang/llvm (BPF), libbpf, libelf, zlib, cmake, g++; tools: bpftool, bpftrace (bench);
  # tests: containerd + runc + busybox-static (real CRI), containernetworking-plugins (CNI for test
  # pods with their own network namespace), librdkafka-dev (Kafka mock cluster), kcat;
  # util-linux (nsenter, setpriv) is essential on Debian and used by `podtrace exec`;
  # image (scripts/build-image.sh): buildah, and debootstrap for a local base without a registry.
  apt-get install -y -qq --no-install-recommends \
    clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool cmake make g++ pkg-config \
    ca-certificates iproute2 procps \
    containerd runc busybox-static containernetworking-plugins util-linux librdkafka-dev kcat bpftrace \
    openssl buildah debootstrap >/dev/null
elif command -v dnf >/dev/null 2>&1; then
  dnf install -y clang llvm libbpf-devel elfutils-libelf-devel zlib-devel bpftool cmake make gcc-c++ \
    pkgconf-pkg-config procps-ng containerd runc containernetworking-plugins util-linux librdkafka-devel openssl buildah
else
  echo "install-deps.sh: neither apt-get nor dnf found; install clang, llvm, libbpf, libelf, zlib, bpftool, cmake by hand" >&2
  exit 1
fi
