#!/bin/sh
# SPDX-License-Identifier: MIT
# The Windows-style package and client (this directory) through a real
# lsashmd, and lsashmd --check on them and on an unfinished port.
# Usage: run.sh LSASHMD PACKAGE.so CLIENT BROKEN.so INIT-FAILS.so LIBLSASHM.so.0
set -u
lsashmd=$1 package=$2 client=$3 broken=$4 init_fails=$5 liblsashm=$6
dir=$(mktemp -d /tmp/lsashm-winstyle-XXXXXX) || exit 1
pid=
cleanup() {
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        rm -rf "$dir"
}
trap cleanup EXIT
fail() {
        echo "windows-port: $*" >&2
        for f in "$dir"/*.out "$dir"/*.err; do
                [ -s "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
        done
        exit 1
}

# --check: the good package loads; the unfinished one names both missing
# functions and exits 1.
"$lsashmd" --check "$package" >"$dir/check.out" 2>"$dir/check.err" || fail "--check on the good package failed"
grep -q ": ok$" "$dir/check.out" || fail "--check did not say ok"
grep -q "from lsashmd: AllocateLocallyUniqueId" "$dir/check.out" || fail "--check did not list AllocateLocallyUniqueId"
grep -q "loaded package WinStyle" "$dir/check.out" || fail "--check did not load WinStyle"
grep -q "package WinStyle: .*capabilities 0x00002010, version 1, RPC id 0xFFFF.*entry points: CallPackageUntrusted Initialize Shutdown GetInfo QueryContextAttributes$" \
        "$dir/check.out" || fail "--check did not show GetInfo's answer and the entry points"
"$lsashmd" --check "$broken" >"$dir/broken.out" 2>"$dir/broken.err"
[ $? -eq 1 ] || fail "--check on the broken package did not exit 1"
grep -q "unresolved: GetComputerNameW" "$dir/broken.out" || fail "--check missed GetComputerNameW"
grep -q "unresolved: RtlAnsiStringToUnicodeString" "$dir/broken.out" || fail "--check missed RtlAnsiStringToUnicodeString"
grep -q "2 unresolved symbol(s)" "$dir/broken.out" || fail "--check did not count 2 unresolved symbols"

# A package whose SpInitialize fails: the step and its status are named.
"$lsashmd" --check "$init_fails" >"$dir/init.out" 2>"$dir/init.err"
[ $? -eq 1 ] || fail "--check on a failing SpInitialize did not exit 1"
grep -q "SpInitialize returned 0xC0000001" "$dir/init.out" || fail "--check did not name the failing step"

# Not packages at all, truncated ones, and one whose section headers point
# past its end: a clear "does not load" (exit 1), never a crash.
check_refused() { # FILE WHAT
        "$lsashmd" --check "$1" >"$dir/bad.out" 2>"$dir/bad.err"
        st=$?
        [ $st -eq 1 ] || fail "--check on $2 exited $st, not 1"
        grep -q "does not load$" "$dir/bad.out" || fail "--check on $2 did not say it does not load"
}
check_refused "$0" "a shell script"
check_refused "$dir/missing.so" "a missing file"
for n in 16 64 200 1000 4000; do
        head -c $n "$package" >"$dir/trunc.so"
        check_refused "$dir/trunc.so" "the package cut to $n bytes"
done
cp "$package" "$dir/badsh.so"
# e_shoff (8 bytes at offset 40 of an ELF64 header) far past the end.
printf '\377\377\377\177\000\000\000\000' | dd of="$dir/badsh.so" bs=1 seek=40 conv=notrunc 2>/dev/null
check_refused "$dir/badsh.so" "section headers past the end"
grep -q "section headers past the end of the file" "$dir/bad.out" || fail "--check did not say why"

# The package served by lsashmd, the client as root and as nobody.
: >"$dir/empty.conf"
chmod 755 "$dir"
cp "$client" "$dir/client" && chmod 755 "$dir/client"
# The client's library beside it: nobody may not be able to reach the build
# tree its run path names (a checkout under a private directory).
cp "$liblsashm" "$dir/" && chmod 644 "$dir/$(basename "$liblsashm")"
export LD_LIBRARY_PATH="$dir"
"$lsashmd" --config "$dir/empty.conf" --socket "$dir/s.sock" --package "$package" 2>"$dir/lsashmd.err" &
pid=$!
i=0
while [ ! -S "$dir/s.sock" ]; do
        i=$((i + 1))
        [ $i -gt 200 ] && fail "lsashmd did not listen within 20 s"
        kill -0 "$pid" 2>/dev/null || fail "lsashmd exited"
        sleep 0.1
done
LSASHM_SOCKET=$dir/s.sock timeout 30 "$dir/client" >"$dir/root.out" 2>"$dir/root.err" || fail "client (root) failed"
grep -q "winstyle-client: ok" "$dir/root.out" || fail "client (root) did not say ok"
grep -q "logon id 00000000:000003e7" "$dir/root.out" || fail "root's LogonId is not SYSTEM_LUID"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        LSASHM_SOCKET=$dir/s.sock timeout 30 setpriv --reuid=65534 --regid=65534 --clear-groups \
                "$dir/client" >"$dir/nobody.out" 2>"$dir/nobody.err" || fail "client (nobody) failed"
        grep -q "winstyle-client: ok" "$dir/nobody.out" || fail "client (nobody) did not say ok"
fi
kill -TERM "$pid"
wait "$pid"
status=$?
pid=
[ $status -eq 0 ] || fail "lsashmd exited $status after SIGTERM"
echo "windows-port: ok"
