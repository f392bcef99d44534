#!/bin/sh
# SPDX-License-Identifier: MIT
# src/host's layers (see src/host/host-base.h) hold: every file belongs to
# one layer, includes no src/host header of a layer above its own, and
# names nothing (function, table member, hook, variable, limit) that a
# header of a layer above declares. (A struct's insides need its header:
# the compiler refuses them without it, so naming its tag, for a pointer,
# is no breach.) Usage: layering-host.sh [source dir]; exit 1
# with one line per breach.
set -u
cd "${1:-.}/src/host" || exit 2

# Each file's layer. A new file must be placed here.
layer_of() {
        case "$1" in
        host.h | host-base.h | base.c | protect.c | log.c | workers.c | submit-buffer.c | luid.c | elf-file.c) echo 1 ;;
        host-packages.h | packages.c | lsa-heap.c | logon-sessions.c | token-info.c | crash-context.c | package-config.c | package-threads.c) echo 2 ;;
        host-sections.h | sections.c) echo 3 ;;
        host-calls.h | calls.c | logon.c | failure-reason.c) echo 4 ;;
        host-internal.h | host.c | report.c | reload.c | table.c) echo 5 ;;
        *) echo "" ;;
        esac
}

bad=0
breach() {
        echo "layering-host: $*"
        bad=1
}

# What a header declares: functions, table members, hooks, variables and
# limits.
declared() {
        sed -n -e 's/^[A-Za-z_][A-Za-z0-9_ ]*[ *]\(host_[A-Za-z0-9_]*\)(.*/\1/p' \
                -e 's/^LSA_[A-Z_]* \(host_[A-Za-z0-9_]*\);.*/\1/p' \
                -e 's/^extern .*[ *]\(host_[A-Za-z0-9_]*\)[;)[].*/\1/p' \
                -e 's/^#define \(HOST_[A-Z0-9_]*\) .*/\1/p' "$1" | sort -u
}

# Each layer header's names, once.
names=$(mktemp -d) || exit 2
trap 'rm -rf "$names"' EXIT
for h in host-*.h; do
        declared "$h" >"$names/$h"
done

for f in *.c *.h; do
        mine=$(layer_of "$f")
        if [ -z "$mine" ]; then
                breach "$f: in no layer (add it to tests/layering-host.sh and to host-base.h's list)"
                continue
        fi
        case "$f" in
        host-*.h)
                grep -q "src/host layer $mine of 5" "$f" ||
                        breach "$f: its first comment does not say \"src/host layer $mine of 5\""
                ;;
        esac
        for inc in $(sed -n 's|^#include "host/\([^"]*\)".*|\1|p' "$f"); do
                theirs=$(layer_of "$inc")
                if [ -z "$theirs" ] || [ "$theirs" -gt "$mine" ]; then
                        breach "$f (layer $mine) includes host/$inc (layer ${theirs:-none})"
                fi
        done
        for h in host-*.h; do
                theirs=$(layer_of "$h")
                [ -n "$theirs" ] && [ "$theirs" -gt "$mine" ] || continue
                [ -s "$names/$h" ] || continue
                if grep -nwF -f "$names/$h" "$f" |
                        sed "s|^|layering-host: $f:|; s|\$| (layer $mine names a name of $h: $theirs)|" |
                        grep .; then
                        bad=1
                fi
        done
done
exit $bad
