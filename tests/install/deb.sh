#!/usr/bin/env bash
# The Debian package: build it with cpack from a build for the prefix /usr,
# check what it holds (files, conffile, ldconfig trigger, maintainer
# scripts), install it on this machine with dpkg, start the installed
# lsashmd by socket activation as systemd would (systemd-socket-activate:
# CI containers run no systemd as PID 1) with the installed configuration
# plus a drop-in naming the installed example package, run the installed
# example client and `lsashm status` against it, verify the installed units,
# then remove and purge the package. Exit 77 (skipped) when not root, when
# dpkg or cpack is missing, or when an lsashm package is installed already
# (not ours to replace).
set -euo pipefail
src=$1
skip() { echo "skipped: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to install a package"
for tool in dpkg dpkg-deb cpack systemd-socket-activate; do
        command -v "$tool" >/dev/null || skip "no $tool"
done
if [[ $(dpkg-query -W -f '${Status}' lsashm 2>/dev/null || true) == *installed* ]]; then
        skip "an lsashm package is installed already"
fi

work=$(mktemp -d)
dropin=/etc/lsashm/lsashmd.conf.d/90-deb-test.conf
pid=
installed=
# dpkg waits for nobody: retry while another dpkg or apt holds its lock.
dpkg_locked() {
        local i
        for i in $(seq 1 60); do
                if dpkg "$@" >"$work/dpkg.log" 2>&1; then
                        return 0
                fi
                grep -q "lock" "$work/dpkg.log" || { cat "$work/dpkg.log"; return 1; }
                sleep 2
        done
        cat "$work/dpkg.log"
        return 1
}
cleanup() {
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
        rm -f "$dropin"
        rmdir "$(dirname "$dropin")" 2>/dev/null || true
        [ -n "$installed" ] && dpkg_locked --purge lsashm || true
        rm -rf "$work"
}
trap cleanup EXIT

# ---- build ----
cmake -S "$src" -B "$work/build" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=Release \
        -DLSASHM_BUILD_TESTS=OFF ${CC:+-DCMAKE_C_COMPILER="$CC"} >/dev/null
cmake --build "$work/build" -j2 >/dev/null
(cd "$work/build" && cpack -G DEB >/dev/null 2>&1) || { echo "cpack -G DEB failed"; exit 1; }
deb=$(find "$work/build" -maxdepth 1 -name 'lsashm_*.deb' -print -quit)
[ -n "$deb" ] || { echo "no .deb built"; exit 1; }
echo "built $(basename "$deb")"

# ---- what it holds ----
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents"
libdir=$(awk -F/ '/\/liblsashm\.so\.0$/ { sub("/liblsashm.so.0$", ""); print; exit }' "$work/contents")
[ -n "$libdir" ] || { echo "no liblsashm.so.0 in the package"; exit 1; }
for f in "$libdir/liblsashm.so.0" "$libdir/liblsashm.so" "$libdir/pkgconfig/lsashm.pc" \
        /usr/include/lsashm/ntsecpkg.h /usr/include/lsashm/ntsecapi.h /usr/sbin/lsashmd /usr/bin/lsashm \
        /usr/lib/systemd/system/lsashmd.service /usr/lib/systemd/system/lsashmd.socket /etc/lsashm/lsashmd.conf \
        /usr/share/man/man8/lsashmd.8 /usr/share/man/man5/lsashmd.conf.5 /usr/share/man/man1/lsashm.1 \
        /usr/share/man/man3/lsashm_section_create.3 /usr/share/man/man3/LsaConnectUntrusted.3 \
        "$libdir/lsashm/packages/lsashm-records.so" /usr/bin/lsashm-example-records-client; do
        grep -qx "$f" "$work/contents" || { echo "not in the package: $f"; exit 1; }
done
grep -v -e '^/usr/' -e '^/etc/lsashm/' -e '^/$' -e '^/etc/$' "$work/contents" &&
        { echo "files outside /usr and /etc/lsashm"; exit 1; }
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/lsashm/lsashmd.conf "$work/control/conffiles" || { echo "lsashmd.conf is not a conffile"; exit 1; }
grep -qx "activate-noawait ldconfig" "$work/control/triggers" || { echo "no ldconfig trigger"; exit 1; }
grep -q "^ExecStart=/usr/sbin/lsashmd --config /etc/lsashm/lsashmd.conf$" \
        <(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/lsashmd.service) ||
        { echo "the packaged unit does not start /usr/sbin/lsashmd with /etc/lsashm/lsashmd.conf"; exit 1; }

# ---- install ----
dpkg_locked -i "$deb" || { echo "dpkg -i failed"; exit 1; }
installed=1
# (grep -q would end the pipe early: ldconfig's SIGPIPE fails it under pipefail)
cache=$(ldconfig -p)
[[ $cache == *"liblsashm.so.0 "* ]] || { echo "liblsashm.so.0 not in the linker cache after install"; exit 1; }
if command -v systemd-analyze >/dev/null; then
        systemd-analyze verify --man=no /usr/lib/systemd/system/lsashmd.socket \
                /usr/lib/systemd/system/lsashmd.service || { echo "systemd-analyze verify refused the installed units"; exit 1; }
fi
mkdir -p "$(dirname "$dropin")"
printf 'package %s\nrequire-packages yes\n' "$libdir/lsashm/packages/lsashm-records.so" >"$dropin"

# ---- serve: socket activation, the installed configuration ----
sock=$work/lsashm.sock
systemd-socket-activate --seqpacket -l "$sock" /usr/sbin/lsashmd --config /etc/lsashm/lsashmd.conf \
        2>"$work/lsashmd.err" &
pid=$!
for _ in $(seq 1 100); do
        [ -S "$sock" ] && break
        sleep 0.1
done
[ -S "$sock" ] || { cat "$work/lsashmd.err"; echo "systemd-socket-activate did not listen"; exit 1; }
out=$(LSASHM_SOCKET=$sock timeout 60 /usr/bin/lsashm-example-records-client 2>&1) ||
        { echo "$out"; cat "$work/lsashmd.err"; echo "the installed example client failed"; exit 1; }
tail -1 <<<"$out"
[[ $out == *"records-client: ok"* ]] || { echo "$out"; exit 1; }
status=$(timeout 60 /usr/bin/lsashm --socket "$sock" status)
head -3 <<<"$status"
[[ $status == *"Configuration: /etc/lsashm/lsashmd.conf"* && $status == *LsashmRecords* ]] ||
        { echo "$status"; echo "lsashm status does not show the installed configuration and package"; exit 1; }
kill -TERM "$pid"
wait "$pid" || true
pid=
grep -q "configuration: read /etc/lsashm/lsashmd.conf, and 1 file of /etc/lsashm/lsashmd.conf.d" "$work/lsashmd.err" ||
        { cat "$work/lsashmd.err"; echo "the installed lsashmd did not read the installed configuration"; exit 1; }
rm -f "$dropin"

# ---- remove keeps the conffile, purge removes it ----
dpkg_locked -r lsashm || { echo "dpkg -r failed"; exit 1; }
[ ! -e /usr/sbin/lsashmd ] || { echo "dpkg -r left /usr/sbin/lsashmd"; exit 1; }
[ -e /etc/lsashm/lsashmd.conf ] || { echo "dpkg -r removed the conffile"; exit 1; }
dpkg_locked --purge lsashm || { echo "dpkg --purge failed"; exit 1; }
installed=
[ ! -e /etc/lsashm/lsashmd.conf ] || { echo "dpkg --purge left the conffile"; exit 1; }
echo "the .deb installs, serves, removes and purges"
