#!/usr/bin/env bash
# Builds the Kafka mock cluster used by the Kafka sink tests: build/kafka-mock/kafka-mock.
# Needs a C compiler and librdkafka-dev (Debian) / librdkafka-devel (dnf).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/build/kafka-mock"
mkdir -p "$out"
flags="$(pkg-config --cflags --libs rdkafka 2>/dev/null || echo -lrdkafka)"
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Wall -Wextra -Werror \
  -o "$out/kafka-mock" "$root/tools/kafka-mock/kafka-mock.c" $flags
echo "$out/kafka-mock"
