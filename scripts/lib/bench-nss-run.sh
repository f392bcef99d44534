#!/usr/bin/env bash
# The body of scripts/bench nss, run by bench-nss.sh inside a private mount
# namespace: never run it on its own, it mounts over /etc, /usr, /var and /run.
#   bench-nss-run.sh SOURCE BUILD PEERS [--quick] [--peers floor,lsashm,...]
#
# Each peer in turn: the generated passwd/group written over the overlay's
# /etc, nsswitch.conf naming the peer, its daemon started in the foreground
# with its own configuration (and, in a nested namespace, an nsswitch.conf
# of plain files, so that no daemon resolves names through itself), then
# bench-nss run, then bench-nss syscalls under strace, then the daemon
# stopped. The report puts every peer's figures side by side.
set -euo pipefail
src="$1" build="$2" peers="$3"
shift 3
bench="$build/bench/nss/bench-nss"
quick=()
only="floor,lsashm,files,nscd,unscd,sssd,libnss-cache"
while [ $# -gt 0 ]; do
        case "$1" in
        --quick) quick=(--quick); shift ;;
        --peers) only="$2"; shift 2 ;;
        *) echo "usage: scripts/bench nss [--quick] [--peers floor,lsashm,files,nscd,unscd,sssd,libnss-cache]" >&2
           exit 2 ;;
        esac
done

work="$(mktemp -d /tmp/lsashm-bench-nss.XXXXXX)"
mount -t tmpfs -o mode=0755 tmpfs "$work"
mkdir -p "$work/results" "$work/logs"
daemon_pid=""

stop_daemon() {
        [ -n "$daemon_pid" ] || return 0
        kill -TERM "$daemon_pid" 2>/dev/null || true
        for _ in $(seq 50); do
                kill -0 "$daemon_pid" 2>/dev/null || break
                sleep 0.1
        done
        kill -KILL "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
        daemon_pid=""
}
cleanup() {
        stop_daemon
        cd /
        umount -l /run /var /etc /usr 2>/dev/null || true
        umount -l "$work" 2>/dev/null || true
        rmdir "$work" 2>/dev/null || true
}
trap cleanup EXIT

# The overlays: the peers' unpacked files appear at the paths they were
# built for, and everything written under /etc, /var and /run stays in
# this namespace's tmpfs.
for d in usr etc var run; do
        mkdir -p "$work/$d.up" "$work/$d.wk"
done
mount -t overlay overlay -o "lowerdir=$peers/root/usr:/usr,upperdir=$work/usr.up,workdir=$work/usr.wk" /usr
for d in etc var run; do
        mount -t overlay overlay -o "lowerdir=/$d,upperdir=$work/$d.up,workdir=$work/$d.wk" "/$d"
done

printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$work/nsswitch.files"

set_nsswitch() {
        printf 'passwd: %s\ngroup: %s\nshadow: files\nhosts: files\n' "$1" "$1" >/etc/nsswitch.conf
}

# start_daemon NAME COMMAND...: in the foreground of a background job, with
# nsswitch.conf saying files (sssd and lsashmd must not ask themselves).
start_daemon() {
        local name="$1"
        shift
        unshare --mount --propagation private sh -c 'mount --bind "$0" /etc/nsswitch.conf && exec "$@"' \
                "$work/nsswitch.files" "$@" >"$work/logs/$name.log" 2>&1 &
        daemon_pid=$!
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds or the daemon died.
wait_for() {
        local limit="$1" _
        shift
        for _ in $(seq $((limit * 10))); do
                "$@" >/dev/null 2>&1 && return 0
                if [ -n "$daemon_pid" ] && ! kill -0 "$daemon_pid" 2>/dev/null; then
                        return 1
                fi
                sleep 0.1
        done
        return 1
}

skip() { # skip PEER REASON
        printf 'peer %s\nskip %s\n' "$1" "$2" >"$work/results/$1.txt"
        echo "bench-nss: $1: $2" >&2
}

# measure PEER SERVICE [ENV=VALUE...]: the lookup workloads, the system calls
# while every cache is warm, the same two with the service set by
# __nss_configure_lookup (SERVICE "-": none, nscd is no NSS service), then
# the workloads that change the sources. Extra arguments for bench-nss in
# peer_args.
peer_args=()
measure() {
        local peer="$1" service="$2"
        shift 2
        local result="$work/results/$peer.txt" count=10000 log="$work/logs/$peer.bench"
        echo "bench-nss: $peer ..." >&2
        if ! env "$@" "$bench" run --phase lookups --peer "$peer" --out "$result" "${quick[@]}" "${peer_args[@]}" \
                >>"$log" 2>&1; then
                echo "bench-nss: $peer: run failed:" >&2
                tail -n 5 "$log" >&2
                return
        fi
        # files reads the whole file for every lookup: 1,000 are plenty.
        [ "$peer" = files ] && count=1000
        trace_syscalls "" "$count" "$@"
        if [ "$service" != - ]; then
                env "$@" "$bench" run --phase configured --configure "$service" --peer "$peer" --out "$result" \
                        "${quick[@]}" "${peer_args[@]}" >>"$log" 2>&1 ||
                        echo "bench-nss: $peer: configured run failed" >&2
                trace_syscalls "$service" "$count" "$@"
        fi
        if ! env "$@" "$bench" run --phase changes --peer "$peer" --out "$result" "${quick[@]}" "${peer_args[@]}" \
                >>"$log" 2>&1; then
                echo "bench-nss: $peer: run failed:" >&2
                tail -n 5 "$log" >&2
        fi
}

# trace_syscalls SERVICE COUNT [ENV=VALUE...] (peer, result, log from measure)
trace_syscalls() {
        local service="$1" n="$2" trace="$work/logs/$peer.strace" prefix="" configure=()
        shift 2
        [ -n "$service" ] && prefix="cfg." configure=(--configure "$service")
        if env "$@" strace -f -qq -o "$trace" "$bench" syscalls --peer "$peer" --count "$n" "${configure[@]}" \
                "${peer_args[@]}" >>"$log" 2>&1; then
                count_syscalls "$n" "$trace" "$prefix" >>"$result"
        else
                echo "bench-nss: $peer: strace failed" >&2
        fi
        rm -f "$trace"
}

# count_syscalls LOOKUPS TRACE PREFIX: the calls between the two marker writes.
count_syscalls() {
        awk -v n="$1" -v prefix="$3" '
                /nssbench-begin/ { on = 1; next }
                /nssbench-end/ { on = 0 }
                on && !/^[0-9]* *(---|\+\+\+)/ {
                        line = $0
                        sub(/^[0-9]+ +/, "", line)
                        sub(/\(.*/, "", line)
                        calls++
                        by[line]++
                }
                END {
                        printf "%ssyscalls.per_lookup %.4g\n", prefix, calls / n
                        top = ""
                        for (k = 0; k < 4; k++) {
                                best = ""
                                for (s in by) if (best == "" || by[s] > by[best]) best = s
                                if (best == "") break
                                top = top (top == "" ? "" : ", ") best " " by[best]
                                delete by[best]
                        }
                        printf "%ssyscalls.top %s\n", prefix, top == "" ? "none" : top
                }' "$2"
}

fresh_data() {
        "$bench" gen --etc /etc
}

peer_floor() {
        set_nsswitch floor
        measure floor floor "LD_LIBRARY_PATH=$build/bench/nss"
}

peer_files() {
        set_nsswitch files
        # Each getgrouplist reads the whole group file: 100 users are plenty.
        peer_args=(--initgroups 100)
        measure files files
        peer_args=()
}

peer_nscd() {
        [ -x /usr/sbin/nscd ] || { skip nscd "not run: nscd could not be unpacked"; return; }
        mkdir -p /run/nscd
        set_nsswitch files
        start_daemon nscd /usr/sbin/nscd -F -f "$src/bench/nss/peers/nscd.conf"
        if ! wait_for 20 test -S /run/nscd/socket; then
                skip nscd "not run: nscd did not start ($(tail -n1 "$work/logs/nscd.log" 2>/dev/null))"
                stop_daemon
                return
        fi
        measure nscd -
        stop_daemon
        rm -f /run/nscd/socket
}

peer_unscd() {
        local unscd="$peers/unscd/usr/sbin/nscd"
        [ -x "$unscd" ] || { skip unscd "not run: unscd could not be unpacked"; return; }
        mkdir -p /run/nscd
        set_nsswitch files
        start_daemon unscd "$unscd" -d -f "$src/bench/nss/peers/unscd.conf"
        if ! wait_for 20 test -S /run/nscd/socket; then
                skip unscd "not run: unscd did not start ($(tail -n1 "$work/logs/unscd.log" 2>/dev/null))"
                stop_daemon
                return
        fi
        measure unscd -
        stop_daemon
        rm -f /run/nscd/socket
}

peer_sssd() {
        [ -x /usr/sbin/sssd ] || { skip sssd "not run: sssd could not be unpacked"; return; }
        mkdir -p /etc/sssd/conf.d /var/lib/sss/db /var/lib/sss/pipes/private /var/lib/sss/mc \
                /var/lib/sss/pubconf /var/lib/sss/gpo_cache /var/log/sssd
        install -m 0600 "$src/bench/nss/peers/sssd.conf" /etc/sssd/sssd.conf
        set_nsswitch sss
        start_daemon sssd /usr/sbin/sssd -i --logger=stderr -d 0
        if ! wait_for 60 getent passwd user09999; then
                skip sssd "not run: sssd did not answer within 60 s ($(tail -n1 "$work/logs/sssd.log" 2>/dev/null))"
                stop_daemon
                return
        fi
        # Its proxy back end fills the caches at several milliseconds a
        # user, and more for a user's groups: a working set of 1,000 users
        # (its memory cache indexes each entry by name and by uid, so names
        # alone warm it) and 100 for getgrouplist and the cold processes.
        peer_args=(--users 1000 --initgroups 100 --warm-by-name)
        measure sssd sss
        peer_args=()
        stop_daemon
}

peer_libnss_cache() {
        [ -e /usr/lib/x86_64-linux-gnu/libnss_cache.so.2 ] || [ -n "$(find /usr/lib -name 'libnss_cache.so.2' 2>/dev/null)" ] ||
                { skip libnss-cache "not run: libnss-cache could not be unpacked"; return; }
        set_nsswitch cache
        measure libnss-cache cache
}

peer_lsashm() {
        local module pkg lsashmd
        module="$(find "$build" -name 'libnss_lsashm.so.2' -print -quit)"
        pkg="$(find "$build" -name 'lsashm-nsscache.so' -print -quit)"
        lsashmd="$(find "$build" -type f -name lsashmd -perm -u+x -print -quit)"
        if [ -z "$module" ] || [ -z "$pkg" ] || [ -z "$lsashmd" ]; then
                skip lsashm "not built (libnss_lsashm.so.2 and lsashm-nsscache.so are not in this tree yet)"
                return
        fi
        printf 'passwd /etc/passwd\ngroup /etc/group\n' >"$work/nsscache.conf"
        : >"$work/lsashmd.conf"
        start_daemon lsashm env LSASHM_NSSCACHE_CONF="$work/nsscache.conf" \
                "$lsashmd" --config "$work/lsashmd.conf" --socket "$work/lsashm.sock" --package "$pkg"
        set_nsswitch lsashm
        if ! wait_for 30 env LSASHM_SOCKET="$work/lsashm.sock" LD_LIBRARY_PATH="$(dirname "$module")" \
                getent passwd user09999; then
                skip lsashm "not run: lsashmd did not answer ($(tail -n1 "$work/logs/lsashm.log" 2>/dev/null))"
                stop_daemon
                return
        fi
        measure lsashm lsashm "LSASHM_SOCKET=$work/lsashm.sock" "LD_LIBRARY_PATH=$(dirname "$module")"
        stop_daemon
}

deb_version() {
        local f
        f="$(ls "$peers/debs/$1"_*.deb 2>/dev/null | head -n1)"
        [ -n "$f" ] && dpkg-deb -f "$f" Version || echo "?"
}

echo "NSS lookups: $(date -u '+%F %H:%M UTC'), Linux $(uname -r), $(nproc) CPUs, load average" \
        "$(cut -d' ' -f1-3 /proc/loadavg); $(ldd --version | head -n1 | sed 's/.*) //;s/^/glibc /')"
echo "Peers: nscd $(deb_version nscd), unscd $(deb_version unscd), sssd $(deb_version sssd-common)" \
        "(proxy provider over files), libnss-cache $(deb_version libnss-cache)"
echo "Data: 10,000 users, 2,000 groups of 50 members on average (fixed seed), misses 10% of lookups"
echo

files=()
IFS=, read -r -a wanted <<<"$only"
for peer in "${wanted[@]}"; do
        fresh_data
        case "$peer" in
        floor) peer_floor ;;
        lsashm) peer_lsashm ;;
        files) peer_files ;;
        nscd) peer_nscd ;;
        unscd) peer_unscd ;;
        sssd) peer_sssd ;;
        libnss-cache) peer_libnss_cache ;;
        *) echo "bench-nss: unknown peer $peer" >&2; exit 2 ;;
        esac
        files+=("$work/results/$peer.txt")
done
echo >&2
# Kept outside the namespace for a later look (the tmpfs goes with it).
keep="$build/nss-results"
rm -rf "$keep"
mkdir -p "$keep"
cp -a "$work/results" "$work/logs" "$keep/"
"$bench" report "${files[@]}"
