#!/bin/sh
# SPDX-License-Identifier: MIT
# The table's reader goes into the NSS module, which every program loads: it
# may call nothing but a few libc string functions (no allocation, no
# system call, no lock), and exports nothing (hidden visibility; the module's
# version script exports only _nss_lsashm_*). Checks the reader's objects in
# the static archive. Usage: nsscache-reader-libc-only.sh ARCHIVE; exit 1
# with one line per breach.
set -u
archive=$1
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" && ar x "$archive" || exit 2
status=0
for obj in nsscache-read.c.o nsscache-hash.c.o; do
        [ -f "$obj" ] || { echo "$obj: not in $archive"; exit 2; }
        readelf -sW "$obj" | awk -v obj="$obj" '
                $5 == "GLOBAL" || $5 == "WEAK" {
                        name = $8
                        if ($7 == "UND") {
                                if (name ~ /^(strlen|strcmp|memcmp|memcpy|memchr|memset)$/) next
                                # defined by the linker, in position-independent code
                                if (name == "_GLOBAL_OFFSET_TABLE_") next
                                # sanitizer builds instrument every access
                                if (name ~ /^__(asan|ubsan|tsan|sanitizer)_/) next
                                print obj ": calls " name
                                bad = 1
                        } else if ($6 != "HIDDEN") {
                                print obj ": exports " name " (" $6 ")"
                                bad = 1
                        }
                }
                END { exit bad }' || status=1
done
exit $status
