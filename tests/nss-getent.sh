#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end through real glibc programs: lsashmd serves generated sources
# with lsashm-nsscache.so, and getent and id, given libnss_lsashm.so.2 by
# LD_LIBRARY_PATH, must print byte for byte what the files module prints for
# the same sources. files reads /etc/passwd and /etc/group: the comparison
# runs in a private mount namespace (unshare -m, as root) with the test's
# files bind-mounted over them, and over /etc/nsswitch.conf for `id`.
# Then the daemon stops: lsashm answers UNAVAIL, and `lsashm files` falls
# through to files.
#
# Usage: nss-getent.sh LSASHMD PACKAGE MODULE_DIR [SANITIZERS]
# Exit 77 (skipped) when not root, without unshare, or in a sanitizer build
# (getent cannot load a module that needs the sanitizer's runtime).
set -eu
LSASHMD=$1 PACKAGE=$2 MODDIR=$3 SAN=${4:-}
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root for a private mount namespace"
[ -z "$SAN" ] || skip "sanitizer build ($SAN): getent cannot load the instrumented module"
command -v unshare >/dev/null || skip "no unshare"

dir=$(mktemp -d /tmp/lsashm-getent-XXXXXX)
pid=
cleanup() { [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || :; rm -rf "$dir"; }
trap cleanup EXIT

# 300 users, a duplicate name and a duplicate uid, a non-UTF-8 name, two
# lines files rejects too; 60 groups in no gid order (initgroups answers in
# file order, as files), members spread over them, a non-UTF-8 member, a
# duplicate group name, and a gid on two lines that list the same users
# (files, and so lsashm, gives that gid twice).
awk 'BEGIN {
        print "root:x:0:0:root:/root:/bin/bash"
        for (i = 0; i < 300; i++)
                printf "user%d:x:%d:%d:User %d,,,:/home/user%d:/bin/sh\n", i, 2000 + i, 100 + i % 3, i, i
        print "user5:x:9999:9999:Second user5:/x:/y"
        print "dupuid:x:2001:1:Duplicate uid:/d:/e"
        print "badid:x:1a:1:rejected by files too:/b:/c"
        print "x:y"
        printf "caf\303\251\377:x:3000:100:Not UTF-8:/home/cafe:/bin/sh\n"
}' > "$dir/passwd"
awk 'BEGIN {
        print "root:x:0:"
        for (g = 0; g < 60; g++) {
                line = sprintf("grp%d:x:%d:", g, 100 + (g * 37) % 60); sep = ""
                for (i = g; i < 300; i += 7) { line = line sep "user" i; sep = "," }
                if (g == 3) line = line ",caf\303\251\377"
                print line
        }
        print "grp1:x:500:user1"
        print "again:x:100:user0,user7,user14"
}' > "$dir/group"
printf 'passwd %s/passwd\ngroup %s/group\n' "$dir" "$dir" > "$dir/nsscache.conf"
: > "$dir/lsashmd.conf"
printf 'passwd: files\ngroup: files\n' > "$dir/nsswitch.files"
printf 'passwd: lsashm\ngroup: lsashm\n' > "$dir/nsswitch.lsashm"
printf 'passwd: lsashm files\ngroup: lsashm files\n' > "$dir/nsswitch.both"

export LSASHM_SOCKET="$dir/lsashm.sock" LD_LIBRARY_PATH="$MODDIR"
LSASHM_NSSCACHE_CONF="$dir/nsscache.conf" "$LSASHMD" --config "$dir/lsashmd.conf" --socket "$LSASHM_SOCKET" \
        --package "$PACKAGE" 2> "$dir/lsashmd.err" &
pid=$!
i=0
until getent -s passwd:lsashm passwd user0 > /dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 300 ] || { cat "$dir/lsashmd.err"; echo "FAIL: the cache never answered"; exit 1; }
        sleep 0.1
done

cat > "$dir/compare.sh" <<'EOS'
set -eu
dir=$1 phase=$2
mount --make-rprivate /
mount --bind "$dir/passwd" /etc/passwd
mount --bind "$dir/group" /etc/group
fails=0
same() { # what, then the files and lsashm commands' outputs compared byte for byte
        what=$1; shift
        "$@" files > "$dir/a" 2>&1 || :
        "$@" lsashm > "$dir/b" 2>&1 || :
        if cmp -s "$dir/a" "$dir/b" && [ -s "$dir/a" ]; then :; else
                echo "DIFFERS: $what"; diff "$dir/a" "$dir/b" | head -5; fails=$((fails + 1)); fi
}
pw() { getent -s "passwd:$2" passwd $1; }
gr() { getent -s "group:$2" group $1; }
ig() { getent -s "initgroups:$2" initgroups $1; }
idn() { mount --bind "$dir/nsswitch.$2" /etc/nsswitch.conf; id "$1"; umount /etc/nsswitch.conf; }
if [ "$phase" = up ]; then
        same "passwd enumeration" pw ""
        same "group enumeration" gr ""
        for n in root user0 user5 user299 dupuid 2001 9999 0 "$(printf 'caf\303\251\377')"; do
                same "passwd $n" pw "$n"
        done
        for n in root grp0 grp1 grp3 grp59 500 130 0; do same "group $n" gr "$n"; done
        for n in user0 user1 user5 user14 user299 dupuid "$(printf 'caf\303\251\377')"; do
                same "initgroups $n" ig "$n"
                same "id $n" idn "$n"
        done
        # Misses: both print nothing and exit 2.
        for what in "passwd nosuch" "group nosuch" "passwd 424242"; do
                set -- $what
                getent -s "$1:lsashm" "$1" "$2" > "$dir/b" && { echo "FOUND: $what"; fails=$((fails + 1)); } || :
                [ ! -s "$dir/b" ] || { echo "PRINTED: $what"; fails=$((fails + 1)); }
        done
else
        # UNAVAIL, not NOTFOUND: only [NOTFOUND=return] lets files answer.
        getent -s 'passwd:lsashm [UNAVAIL=return] files' passwd user0 > "$dir/b" && {
                echo "ANSWERED with lsashm down, UNAVAIL=return"; fails=$((fails + 1)); } || :
        getent -s 'passwd:lsashm [NOTFOUND=return] files' passwd user0 > "$dir/b" || {
                echo "NOT ANSWERED: lsashm [NOTFOUND=return] files"; fails=$((fails + 1)); }
        grep -q '^user0:x:2000:' "$dir/b" || { echo "WRONG fallback answer"; fails=$((fails + 1)); }
        getent -s passwd:files passwd user7 > "$dir/a"
        getent -s 'passwd:lsashm files' passwd user7 > "$dir/b" || :
        cmp -s "$dir/a" "$dir/b" || { echo "DIFFERS: 'lsashm files' with lsashm down"; fails=$((fails + 1)); }
        mount --bind "$dir/nsswitch.both" /etc/nsswitch.conf
        id user14 > "$dir/b" || { echo "id failed with lsashm down"; fails=$((fails + 1)); }
        umount /etc/nsswitch.conf
fi
echo "$phase: $fails differences"
[ $fails -eq 0 ]
EOS
unshare -m sh "$dir/compare.sh" "$dir" up
kill -TERM "$pid"
wait "$pid" || :
pid=
unshare -m sh "$dir/compare.sh" "$dir" down
echo "PASS"
