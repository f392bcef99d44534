#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pam_lsashm.so through a real PAM stack: pamtester (Debian's) with service
# files in a scratch directory (pam_wrapper: PAM_WRAPPER_SERVICE_DIR), an
# lsashmd serving the sample package lsashm-passwd.so, whose database the
# lsashm-passwd command makes. Right password, wrong password, unknown user,
# locked out, disabled and expired accounts, a password to change
# (account: PAM_NEW_AUTHTOK_REQD), a token whose uid is not the user's,
# open and close session (LogonTerminated seen by the package), and lsashmd
# down with [authinfo_unavail=ignore] falling through to pam_permit or
# pam_deny.
#
# Usage: check-pam.sh LSASHMD PACKAGE.so COMMAND PAM_MODULE.so STATS_CLIENT
# Exit 77 (skipped) when not root or pamtester / pam_wrapper is missing.
set -uo pipefail
lsashmd=$(realpath "$1") package=$(realpath "$2") command=$(realpath "$3") module=$(realpath "$4")
stats=$(realpath "$5")

[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root (lsashmd, logon processes)"; exit 77; }
command -v pamtester >/dev/null || { echo "skipped: pamtester is not installed"; exit 77; }
wrapper=$(ls /usr/lib/*/libpam_wrapper.so /usr/lib/libpam_wrapper.so 2>/dev/null | head -n1)
[ -n "$wrapper" ] || { echo "skipped: libpam-wrapper is not installed"; exit 77; }

dir=$(mktemp -d /tmp/lsashm-pam-XXXXXX)
pid=
cleanup() {
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        rm -rf "$dir"
}
trap cleanup EXIT

failures=0
fail() {
        echo "FAIL: $*"
        failures=$((failures + 1))
}

# Users the system has (the module checks the token's uid against the passwd
# entry), and one it has not.
uid_of() { getent passwd "$1" | cut -d: -f3; }
gid_of() { getent passwd "$1" | cut -d: -f4; }
for u in daemon bin sys games man; do
        [ -n "$(uid_of $u)" ] || { echo "skipped: no user $u in this system's passwd"; exit 77; }
done

export LSASHM_PASSWD_DB=$dir/passwd.db LSASHM_PASSWD_COST=min LSASHM_PASSWD_LOCKOUT=3
add() { # USER UID GID PASSWORD [--flags F]
        local user=$1 uid=$2 gid=$3 pw=$4
        shift 4
        printf '%s\n' "$pw" | "$command" add "$user" "$uid" "$gid" "$@" || { echo "lsashm-passwd add $user failed"; exit 1; }
}
add daemon "$(uid_of daemon)" "$(gid_of daemon)" daemon-pw
add bin "$(uid_of bin)" "$(gid_of bin)" bin-pw
add sys "$(uid_of sys)" "$(gid_of sys)" sys-pw --flags disabled
add games "$(uid_of games)" "$(gid_of games)" games-pw --flags must-change
add man 4242 4242 man-pw # not man's uid: the module must refuse

: >"$dir/lsashmd.conf"
export LSASHM_SOCKET=$dir/lsashm.sock
start_lsashmd() {
        "$lsashmd" --config "$dir/lsashmd.conf" --socket "$LSASHM_SOCKET" --package "$package" \
                2>>"$dir/lsashmd.log" &
        pid=$!
        for _ in $(seq 100); do
                [ -S "$LSASHM_SOCKET" ] && "$stats" >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        echo "lsashmd did not start:"
        cat "$dir/lsashmd.log"
        exit 1
}
start_lsashmd

# The services, under pam_wrapper.
mkdir "$dir/services"
cat >"$dir/services/lsashm-test" <<EOF
auth     required $module package=LsashmPasswd
account  required $module package=LsashmPasswd
session  required $module package=LsashmPasswd
EOF
# The PAM environment while the session is open, as a session program sees it.
cat >"$dir/logon-id.sh" <<EOF
#!/bin/sh
echo "\$LSASHM_LOGON_ID" >"$dir/logon-id"
EOF
chmod +x "$dir/logon-id.sh"
cat >"$dir/services/lsashm-session-env" <<EOF
auth     required $module package=LsashmPasswd
session  required $module package=LsashmPasswd
session  required pam_exec.so type=open_session $dir/logon-id.sh
EOF
cat >"$dir/services/lsashm-fallback-permit" <<EOF
auth     [success=done authinfo_unavail=ignore default=die] $module package=LsashmPasswd
auth     required pam_permit.so
EOF
cat >"$dir/services/lsashm-fallback-deny" <<EOF
auth     [success=done authinfo_unavail=ignore default=die] $module package=LsashmPasswd
auth     required pam_deny.so
EOF
cat >"$dir/services/lsashm-unknown-package" <<EOF
auth     required $module package=NoSuchPackage
EOF

pt() { # SERVICE USER PASSWORD OPERATION... : prints pamtester's output, returns its status
        local service=$1 user=$2 pw=$3
        shift 3
        printf '%s\n' "$pw" | LD_PRELOAD=$wrapper PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$dir/services \
                pamtester -v "$service" "$user" "$@" 2>&1
}
expect_ok() { # DESCRIPTION pamtester-args...
        local what=$1
        shift
        out=$(pt "$@") || fail "$what: $out"
}
expect_fail() { # DESCRIPTION WANTED-MESSAGE pamtester-args...
        local what=$1 want=$2
        shift 2
        if out=$(pt "$@"); then
                fail "$what: succeeded: $out"
        elif ! grep -qi -- "$want" <<<"$out"; then
                fail "$what: not \"$want\": $out"
        fi
}

expect_ok "right password" lsashm-test daemon daemon-pw authenticate
expect_fail "wrong password" "Authentication failure" lsashm-test daemon wrong authenticate
expect_fail "unknown user" "User not known" lsashm-test nosuchuser123 x authenticate
expect_fail "disabled account" "Permission denied" lsashm-test sys sys-pw authenticate
expect_fail "uid not the user's" "Authentication failure" lsashm-test man man-pw authenticate
# A password to change: auth passes, account asks for a new one.
expect_ok "must change: auth" lsashm-test games games-pw authenticate
expect_fail "must change: account" "new one required" lsashm-test games games-pw authenticate acct_mgmt
# Locked out after 3 failures, even with the right password.
for _ in 1 2 3; do pt lsashm-test bin wrong authenticate >/dev/null; done
expect_fail "locked out" "Permission denied" lsashm-test bin bin-pw authenticate
printf '' | "$command" unlock bin
expect_ok "unlocked" lsashm-test bin bin-pw authenticate acct_mgmt

# Open and close a session: the package sees its logon session end.
terminated_reaches() { # N: LogonTerminated seen N times, within 5 s
        for _ in $(seq 50); do
                [ "$("$stats" terminated)" -ge "$1" ] && return 0
                sleep 0.1
        done
        return 1
}
live_sessions=$("$stats" live) || fail "stats"
[ "$live_sessions" -eq 0 ] || fail "$live_sessions logon sessions outlived their PAM handles"
before=$("$stats" terminated) || fail "stats"
expect_ok "session" lsashm-test daemon daemon-pw authenticate acct_mgmt open_session close_session
terminated_reaches $((before + 1)) || fail "LogonTerminated: $before before the session, $("$stats" terminated) after"
# pam_end without close_session ends it too (the module's cleanup).
expect_ok "session, no close" lsashm-test daemon daemon-pw authenticate open_session
terminated_reaches $((before + 2)) || fail "pam_end did not end the logon session"
[ "$("$stats" live)" -eq 0 ] || fail "a logon session outlived its PAM handle"
# LSASHM_LOGON_ID in the PAM environment while the session is open.
expect_ok "session environment" lsashm-session-env daemon daemon-pw authenticate open_session close_session
grep -Eq '^0x[0-9A-F]+:0x[0-9A-F]+$' "$dir/logon-id" 2>/dev/null ||
        fail "LSASHM_LOGON_ID in the session: \"$(cat "$dir/logon-id" 2>/dev/null)\""

expect_fail "package not loaded" "Authentication service cannot retrieve authentication info" \
        lsashm-unknown-package daemon daemon-pw authenticate

# lsashmd down: [authinfo_unavail=ignore] falls through.
kill "$pid"
wait "$pid" 2>/dev/null
pid=
expect_fail "daemon down, no fallback" "Authentication service cannot retrieve authentication info" \
        lsashm-test daemon daemon-pw authenticate
expect_ok "daemon down, falls to pam_permit" lsashm-fallback-permit daemon daemon-pw authenticate
expect_fail "daemon down, falls to pam_deny" "Authentication failure" lsashm-fallback-deny daemon daemon-pw authenticate
# And the same rule with lsashmd up: the package decides, not pam_permit.
start_lsashmd
expect_fail "daemon up, wrong password, no fallthrough" "Authentication failure" \
        lsashm-fallback-permit daemon wrong authenticate
expect_ok "daemon up, right password" lsashm-fallback-deny daemon daemon-pw authenticate

if [ "$failures" -ne 0 ]; then
        echo "$failures failures; lsashmd's log:"
        cat "$dir/lsashmd.log"
        exit 1
fi
echo "pam_lsashm: all checks passed"
