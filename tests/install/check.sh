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
        share/man/man5/lsashmd.conf.5 share/man/man3/lsashm_section_create.3 share/man/man3/lsashm_view_ptr.3 \
        share/man/man3/LsaCallAuthenticationPackage.3 share/man/man3/LsaFreeSharedMemory.3 \
        lib/systemd/system/lsashmd.service lib/systemd/system/lsashmd.socket \
        etc/lsashm/lsashmd.conf; do
        [ -e "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
# The PAM module in the prefix's LIBDIR/security (when built), with its man page.
if [ -e "$build/src/pam/pam_lsashm.so" ]; then
        [ -n "$(find "$prefix" -path '*/security/pam_lsashm.so' -print -quit)" ] ||
                { echo "not installed: LIBDIR/security/pam_lsashm.so"; exit 1; }
        [ -e "$prefix/share/man/man8/pam_lsashm.8" ] || { echo "not installed: pam_lsashm.8"; exit 1; }
fi
grep -q "^ExecStart=$prefix/sbin/lsashmd" "$prefix/lib/systemd/system/lsashmd.service" ||
        grep -q "^ExecStart=.*/sbin/lsashmd" "$prefix/lib/systemd/system/lsashmd.service" ||
        { echo "lsashmd.service does not start lsashmd"; exit 1; }
pc=$(find "$prefix" -name lsashm.pc -print -quit)
export PKG_CONFIG_PATH=$(dirname "$pc")
libdir=$(pkg-config --variable=libdir lsashm)
[ "$(realpath "$libdir")" = "$(realpath "$(dirname "$(dirname "$pc")")")" ] || { echo "pkg-config libdir $libdir is not the install"; exit 1; }
# The user and group cache: the NSS module in the libdir, where glibc looks,
# exporting its entry points and nothing else; the package with the others.
[ -e "$libdir/libnss_lsashm.so.2" ] || { echo "not installed: libnss_lsashm.so.2 in $libdir"; exit 1; }
[ -e "$libdir/lsashm/packages/lsashm-nsscache.so" ] || { echo "not installed: lsashm-nsscache.so"; exit 1; }
[ -e "$prefix/etc/lsashm/nsscache.conf" ] || { echo "not installed: etc/lsashm/nsscache.conf"; exit 1; }
if command -v nm >/dev/null; then
        other=$(nm -D --defined-only "$libdir/libnss_lsashm.so.2" | awk '$2 ~ /^[TDBRVW]$/ && $3 !~ /^_nss_lsashm_/')
        [ -z "$other" ] || { echo "libnss_lsashm.so.2 exports more than _nss_lsashm_*: $other"; exit 1; }
        nm -D --defined-only "$libdir/libnss_lsashm.so.2" | grep -q ' _nss_lsashm_getpwnam_r$' ||
                { echo "libnss_lsashm.so.2 does not export _nss_lsashm_getpwnam_r"; exit 1; }
fi
cc=${CC:-cc}
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror "$src/consumer.c" -o "$prefix/consumer-shared" $(pkg-config --cflags --libs lsashm)
LD_LIBRARY_PATH=$libdir "$prefix/consumer-shared"
# shellcheck disable=SC2046
$cc -std=c11 -Wall -Werror "$src/consumer.c" -o "$prefix/consumer-static" $(pkg-config --cflags lsashm) \
        "$libdir/liblsashm.a" $(pkg-config --libs-only-other --static lsashm) -pthread
"$prefix/consumer-static"
# The installed units: they verify, and the service runs lsashmd with no
# privilege, exposure 2.0 or less by systemd's own measure. systemd-analyze
# looks for ExecStart= as written (the configured prefix, not this scratch
# one): check copies that start the lsashmd installed here.
units="$prefix/lib/systemd/system"
if ! command -v systemd-analyze >/dev/null; then
        echo "install check: no systemd-analyze: units not verified"
elif ! [[ $(systemd-analyze security --help 2>/dev/null) == *--offline* ]]; then
        echo "install check: systemd-analyze has no --offline: units not scored"
else
        check_units=$prefix/units-check
        mkdir -p "$check_units"
        sed "s|^ExecStart=.*|ExecStart=$prefix/sbin/lsashmd|" "$units/lsashmd.service" >"$check_units/lsashmd.service"
        cp "$units/lsashmd.socket" "$check_units/"
        systemd-analyze verify --man=no "$check_units/lsashmd.socket" "$check_units/lsashmd.service" ||
                { echo "systemd-analyze verify refused the units"; exit 1; }
        report=$(systemd-analyze security --offline=yes "$check_units/lsashmd.service" 2>&1) || true
        score=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for lsashmd.service: \([0-9.]*\).*/\1/p')
        [ -n "$score" ] || { printf '%s\n' "$report"; echo "no exposure level for lsashmd.service"; exit 1; }
        echo "lsashmd.service exposure: $score (at most 2.0)"
        awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' ||
                { printf '%s\n' "$report" | grep '✗'; echo "lsashmd.service is exposed above 2.0"; exit 1; }
fi
# A name of a family opens its family's page (.so links).
if command -v man >/dev/null; then
        page=$(MANWIDTH=80 man -M "$prefix/share/man" 3 lsashm_view_ptr 2>/dev/null || true)
        [[ $page == *lsashm_client_connect* ]] ||
                { echo "man 3 lsashm_view_ptr does not show the lsashm_client_connect(3) page"; exit 1; }
fi
