# shellcheck shell=bash
# Sourced by the scripts in scripts/: install the Debian packages a command
# needs, or say the one line that would, when we are not root.

# need_packages PKG...: make sure every PKG is installed.
need_packages() {
        local missing=() p
        for p in "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        if [ "$(id -u)" -ne 0 ]; then
                echo "lsashm: missing packages; run as root:" >&2
                echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
                exit 1
        fi
        echo "lsashm: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The packages every build needs.
# libsodium (LsaProtectMemory) and libsystemd (socket activation, sd_notify)
# are for the package host only; liblsashm itself needs nothing beyond libc.
BUILD_PACKAGES=(cmake make gcc libc6-dev pkg-config libsodium-dev libsystemd-dev libpam0g-dev)
