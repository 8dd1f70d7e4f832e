#!/usr/bin/env bash
# Check an AsyncAPI document with the AsyncAPI Initiative's own parser (Node.js).
#   scripts/services/asyncapi.sh check FILE   install the parser once (npm ci, cached), parse
# Settings: DVCHUB_ASYNCAPI_CACHE (~/.cache/dvc-hub/asyncapi): where the parser is kept.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)/asyncapi"
CACHE="${DVCHUB_ASYNCAPI_CACHE:-$HOME/.cache/dvc-hub/asyncapi}"
DIR="$CACHE/$(sha256sum "$HERE/package-lock.json" | cut -c1-16)"

log() { echo "asyncapi.sh: $*" >&2; }

install() {
    if [ ! -f "$DIR/.complete" ]; then
        log "installing @asyncapi/parser with npm into $DIR"
        mkdir -p "$DIR"
        cp "$HERE/package.json" "$HERE/package-lock.json" "$HERE/check.mjs" "$DIR/"
        (cd "$DIR" && npm ci --silent --no-audit --no-fund >&2)
        touch "$DIR/.complete"
    fi
    cp "$HERE/check.mjs" "$DIR/check.mjs"
}

case "${1:-}" in
    check)
        [ $# -eq 2 ] || { echo "usage: $0 check FILE" >&2; exit 2; }
        install
        exec node "$DIR/check.mjs" "$(realpath "$2")"
        ;;
    *) echo "usage: $0 check FILE" >&2; exit 2 ;;
esac
