#!/bin/sh
# SPDX-License-Identifier: MIT
# Every public header compiles alone: as C11 with -pedantic and the
# project's warnings, and (when a C++ compiler is given) as C++17 with
# -Wall -Wextra, so that a port in either language can include it first.
# <lsashm/windows.h> is also compiled in use (cxx-use.cpp).
# Usage: check.sh INCLUDE_DIR CC [CXX]
set -u
inc=$1 cc=$2 cxx=${3:-}
dir=$(mktemp -d /tmp/lsashm-headers-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
here=$(dirname "$0")
bad=0
for h in "$inc"/lsashm/*.h; do
        name=lsashm/$(basename "$h")
        printf '#include <%s>\n#include <%s>\nint lsashm_header_check(void);\nint lsashm_header_check(void) { return 0; }\n' \
                "$name" "$name" >"$dir/t.c"
        if ! "$cc" -std=c11 -pedantic -Wall -Wextra -Werror -Wcast-qual -Wundef -Wstrict-prototypes \
                -Wmissing-prototypes -I"$inc" -c "$dir/t.c" -o "$dir/t.o" 2>"$dir/err"; then
                echo "headers: $name does not compile alone as C11:" && cat "$dir/err"
                bad=1
        fi
        if [ -n "$cxx" ]; then
                cp "$dir/t.c" "$dir/t.cpp"
                if ! "$cxx" -std=c++17 -Wall -Wextra -Werror -I"$inc" -c "$dir/t.cpp" -o "$dir/t.o" 2>"$dir/err"; then
                        echo "headers: $name does not compile alone as C++17:" && cat "$dir/err"
                        bad=1
                fi
        fi
done
if [ -n "$cxx" ] && ! "$cxx" -std=c++17 -Wall -Wextra -Werror -I"$inc" -c "$here/cxx-use.cpp" -o "$dir/u.o" 2>"$dir/err"; then
        echo "headers: cxx-use.cpp does not compile:" && cat "$dir/err"
        bad=1
fi
[ $bad -eq 0 ] && echo "headers: ok"
exit $bad
