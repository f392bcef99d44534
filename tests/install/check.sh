#!/usr/bin/env bash
# Install the build into a scratch prefix, then build and run a consumer with
# nothing but pkg-config, both against the shared and the static library.
set -euo pipefail
build=$1 src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name lsashm.pc -print -quit)
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir lsashm)
[ "$(realpath "$libdir")" = "$(realpath "$(dirname "$(dirname "$pc")")")" ] || { echo "pkg-config libdir $libdir is not the install"; exit 1; }
cc=${CC:-cc}
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror "$src/consumer.c" -o "$prefix/consumer-shared" $(pkg-config --cflags --libs lsashm)
LD_LIBRARY_PATH=$libdir "$prefix/consumer-shared"
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror "$src/consumer.c" -o "$prefix/consumer-static" $(pkg-config --cflags lsashm) \
        "$libdir/liblsashm.a" $(pkg-config --libs-only-other --static lsashm) -pthread
"$prefix/consumer-static"
