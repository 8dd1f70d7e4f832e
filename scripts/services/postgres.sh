#!/usr/bin/env bash
# PostgreSQL for development and tests, on 127.0.0.1, from Debian's package.
#   scripts/services/postgres.sh start   install if absent, init, start, create the database
#   scripts/services/postgres.sh stop
#   scripts/services/postgres.sh status
#   scripts/services/postgres.sh url     print the connection URL
# Settings: DVCHUB_PG_PORT (54329), DVCHUB_PG_DATA (/tmp/dvchub-postgres-$PORT).
set -euo pipefail

PORT="${DVCHUB_PG_PORT:-54329}"
DATA="${DVCHUB_PG_DATA:-/tmp/dvchub-postgres-$PORT}"
DB=dvchub
ROLE=dvchub
PASSWORD=dvchub
URL="postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"

log() { echo "postgres.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root to run: $*"; exit 1
    fi
}

bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$dir" ] || [ ! -x "$dir/pg_ctl" ]; then
        log "PostgreSQL server not found; installing Debian's postgresql package"
        as_root apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q postgresql >&2
        dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    echo "$dir"
}

# Run a server program as the database owner: 'postgres' when we are root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
    local bin
    bin=$(bindir)
    if [ ! -s "$DATA/PG_VERSION" ]; then
        log "initialising $DATA"
        mkdir -p "$DATA"
        [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DATA"
        chmod 700 "$DATA"
        as_owner "$bin/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        log "already running on 127.0.0.1:$PORT"
    else
        log "starting on 127.0.0.1:$PORT"
        as_owner "$bin/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start \
            -o "-p $PORT -c listen_addresses=127.0.0.1 -k $DATA -c max_connections=200" >/dev/null
    fi
    local psql=("$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qAt)
    for _ in $(seq 1 60); do
        "${psql[@]}" -c "select 1" >/dev/null 2>&1 && break
        sleep 0.5
    done
    if [ "$("${psql[@]}" -c "select 1 from pg_roles where rolname='$ROLE'")" != 1 ]; then
        "${psql[@]}" -c "create role $ROLE login password '$PASSWORD' createdb"
    fi
    if [ "$("${psql[@]}" -c "select 1 from pg_database where datname='$DB'")" != 1 ]; then
        "${psql[@]}" -c "create database $DB owner $ROLE"
    fi
    log "ready: $URL"
}

stop() {
    local bin
    bin=$(bindir)
    if [ -s "$DATA/PG_VERSION" ]; then
        as_owner "$bin/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    log "stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) as_owner "$(bindir)/pg_ctl" -D "$DATA" status ;;
    url) echo "$URL" ;;
    *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
