#!/usr/bin/env bash
# Install the build into a scratch prefix, then build and run a consumer with
# nothing but pkg-config, both against the shared and the static library.
set -euo pipefail
build=$1 src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
# The host, the command, their man pages, the units and the example
# configuration, all under the prefix (nothing outside it).
for f in sbin/lsashmd bin/lsashm share/man/man8/lsashmd.8 share/man/man1/lsashm.1 \
        lib/systemd/system/lsashmd.service lib/systemd/system/lsashmd.socket etc/lsashm/lsashmd.conf; do
        [ -e "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
grep -q "^ExecStart=$prefix/sbin/lsashmd" "$prefix/lib/systemd/system/lsashmd.service" ||
        grep -q "^ExecStart=.*/sbin/lsashmd" "$prefix/lib/systemd/system/lsashmd.service" ||
        { echo "lsashmd.service does not start lsashmd"; exit 1; }
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
