#!/usr/bin/env bash
# lsashmd reads the configuration of its own install prefix: configure a
# build for a scratch prefix, install it there, and start the installed
# lsashmd with no --config. It must say it read PREFIX/etc/lsashm/lsashmd.conf
# and listen where that file says; the installed unit passes the same file.
set -euo pipefail
src=$1
prefix=$(mktemp -d)
pid=
cleanup() {
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
        rm -rf "$prefix"
}
trap cleanup EXIT
cmake -S "$src" -B "$prefix/build" -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_BUILD_TYPE=Release \
        -DLSASHM_BUILD_TESTS=OFF -DLSASHM_BUILD_EXAMPLES=OFF ${CC:+-DCMAKE_C_COMPILER="$CC"} >/dev/null
cmake --build "$prefix/build" -j2 >/dev/null
cmake --install "$prefix/build" >/dev/null
conf=$prefix/etc/lsashm/lsashmd.conf
[ -f "$conf" ] || { echo "not installed: $conf"; exit 1; }
[ -f "$prefix/share/man/man5/lsashmd.conf.5" ] || { echo "not installed: lsashmd.conf(5)"; exit 1; }
grep -q "^ExecStart=$prefix/sbin/lsashmd --config $conf\$" "$prefix/lib/systemd/system/lsashmd.service" ||
        { echo "lsashmd.service does not pass $conf"; grep ExecStart "$prefix/lib/systemd/system/lsashmd.service"; exit 1; }
sock=$prefix/from-the-file.sock
echo "socket $sock" >>"$conf"
"$prefix/sbin/lsashmd" 2>"$prefix/lsashmd.err" &
pid=$!
for _ in $(seq 1 300); do
        [ -S "$sock" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
done
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" || true
pid=
cat "$prefix/lsashmd.err"
grep -q "^lsashmd: configuration: read $conf\$" "$prefix/lsashmd.err" || { echo "lsashmd did not read $conf"; exit 1; }
grep -q "^lsashmd: listening on $sock\$" "$prefix/lsashmd.err" || { echo "lsashmd did not take its socket from $conf"; exit 1; }
echo "installed lsashmd read $conf"
