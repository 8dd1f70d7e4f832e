#!/usr/bin/env bash
# Headless Chromium for the board's browser tests, from Debian's package.
#   scripts/services/chromium.sh path   install if absent, print the browser's path
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root to run: $*"; exit 1
    fi
}

case "${1:-path}" in
    path)
        if ! command -v chromium >/dev/null; then
            log "Chromium not found; installing Debian's chromium package"
            as_root apt-get update -q >&2
            DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q chromium >&2
        fi
        command -v chromium
        ;;
    *)
        echo "usage: $0 path" >&2
        exit 2
        ;;
esac
