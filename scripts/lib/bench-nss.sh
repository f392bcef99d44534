#!/usr/bin/env bash
# scripts/bench nss [--quick]: user and group lookups through glibc's NSS
# dispatch, lsashm beside the caches an administrator would pick instead
# (files, nscd, unscd, sssd, libnss-cache) and the floor module, all on the
# same generated data (bench/nss/).
#
# The peers are Debian 12's own packages, unpacked (apt-get download +
# dpkg -x) into build-bench-nss/peers, never installed: their maintainer
# scripts would add sss to this machine's nsswitch.conf and PAM stack and
# start system-wide daemons, and nscd and unscd conflict. Their libraries
# are installed as usual. The run happens in a private mount namespace
# (bench-nss-run.sh) whose /etc, /usr, /var and /run are overlays, so the
# generated passwd, the peers' files and their sockets never reach the
# machine's real configuration. Needs root (mount namespaces, overlays).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/deps.sh

if [ "$(id -u)" -ne 0 ]; then
        echo "scripts/bench nss: needs root (a private mount namespace with overlays over /etc and /usr)" >&2
        exit 1
fi

# What sssd-common, sssd-proxy and libnss-sss link against; nscd, unscd and
# libnss-cache need only libc.
PEER_LIBRARIES=(libc-ares2 libdhash1 libini-config5 libldb2 libnl-3-200 libnl-route-3-200 libpopt0
        libref-array1 libsss-certmap0 libsss-idmap0 libsss-nss-idmap0 libtalloc2 libtdb1 libtevent0)
need_packages "${BUILD_PACKAGES[@]}" strace util-linux "${PEER_LIBRARIES[@]}"

dir=build-bench-nss
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DLSASHM_BUILD_TESTS=OFF -DLSASHM_BUILD_BENCH=OFF \
        -DLSASHM_BUILD_EXAMPLES=OFF >&2
cmake --build "$dir" -j"$(nproc)" >&2

# The peers' packages, unpacked once per version.
peers="$PWD/$dir/peers"
mkdir -p "$peers/debs"
unpack() { # unpack DEST PACKAGE...
        local dest="$1" p deb
        shift
        for p in "$@"; do
                deb=$(ls "$peers/debs/${p}"_*.deb 2>/dev/null | head -n1 || true)
                if [ -z "$deb" ]; then
                        (cd "$peers/debs" && apt-get download -q "$p" >/dev/null 2>&1) ||
                                { apt-get update -qq && (cd "$peers/debs" && apt-get download -q "$p" >/dev/null 2>&1); } ||
                                { echo "scripts/bench nss: cannot download $p" >&2; unpack_failed=1; continue; }
                        deb=$(ls "$peers/debs/${p}"_*.deb | head -n1)
                fi
                dpkg -x "$deb" "$dest"
        done
        # Debian 12 merges /lib into /usr/lib: keep one tree to lay over /usr.
        if [ -d "$dest/lib" ]; then
                mkdir -p "$dest/usr/lib"
                cp -a "$dest/lib/." "$dest/usr/lib/"
                rm -rf "$dest/lib"
        fi
}
stamp="$peers/unpacked-$(dpkg --print-architecture)"
unpack_failed=0
if [ ! -e "$stamp" ]; then
        rm -rf "$peers/root" "$peers/unscd"
        mkdir -p "$peers/root" "$peers/unscd"
        unpack "$peers/root" nscd sssd-common sssd-proxy libnss-sss libnss-cache
        # unscd's binary has nscd's name and path: its own tree.
        unpack "$peers/unscd" unscd
        # A peer that could not be had is reported as not run, and tried
        # again next time.
        [ "$unpack_failed" = 0 ] && touch "$stamp"
fi

# bash reads a script as it runs it: run a copy, so that editing the tree
# meanwhile cannot change a run halfway.
cp scripts/lib/bench-nss-run.sh "$dir/bench-nss-run.sh"
exec unshare --mount --propagation private bash "$dir/bench-nss-run.sh" "$PWD" "$PWD/$dir" "$peers" "$@"
