#!/usr/bin/env bash
# Apache Kafka for development and tests: one KRaft node (broker and controller) on 127.0.0.1.
#   scripts/services/kafka.sh start     fetch the jars (once, cached), format, start, wait
#   scripts/services/kafka.sh stop      controlled shutdown (SIGTERM, then SIGKILL after 30 s)
#   scripts/services/kafka.sh kill      SIGKILL, as a crash would
#   scripts/services/kafka.sh status
#   scripts/services/kafka.sh bootstrap print host:port
#   scripts/services/kafka.sh tool CLASS [ARGS]   run one of Apache Kafka's own Java tools
#       (kafka-tools of the broker's release), e.g. org.apache.kafka.tools.ConsoleProducer
# Settings: DVCHUB_KAFKA_PORT (59092), DVCHUB_KAFKA_DATA (/tmp/dvchub-kafka-$PORT),
# DVCHUB_KAFKA_CACHE (~/.cache/dvc-hub/kafka): where the jars are kept between runs,
# DVCHUB_KAFKA_START_SECONDS (180): how long 'start' waits for the broker to be ready (a broker
# that was killed recovers its logs first, which takes longer the more it holds).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PORT="${DVCHUB_KAFKA_PORT:-59092}"
CONTROLLER_PORT=$((PORT + 1))
DATA="${DVCHUB_KAFKA_DATA:-/tmp/dvchub-kafka-$PORT}"
CACHE="${DVCHUB_KAFKA_CACHE:-$HOME/.cache/dvc-hub/kafka}"
POM="$HERE/kafka/pom.xml"
LIBS="$CACHE/$(sha256sum "$POM" | cut -c1-16)/libs"
PIDFILE="$DATA/kafka.pid"
START_SECONDS="${DVCHUB_KAFKA_START_SECONDS:-180}"

log() { echo "kafka.sh: $*" >&2; }

fetch() {
    if [ ! -f "$LIBS/.complete" ]; then
        log "fetching the broker's jars with Maven into $LIBS"
        mkdir -p "$LIBS"
        mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$LIBS" >&2
        touch "$LIBS/.complete"
    fi
}

JAVA=(java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$HERE/kafka/log4j2.yaml" -Dkafka.logs.dir="$DATA"
    -cp "$LIBS/*")

# Running: the pid file names a live process that is this broker (a stale pid file left by a
# machine that stopped may name an unrelated process by now).
running() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid=$(cat "$PIDFILE")
    kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $DATA/server.properties"
}

answers() {
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

configure() {
    mkdir -p "$DATA"
    cat >"$DATA/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA/logs
num.partitions=6
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
PROPS
}

start() {
    fetch
    if running; then
        log "already running on 127.0.0.1:$PORT"
        return
    fi
    if answers; then
        log "127.0.0.1:$PORT is taken by another process; stop it or set DVCHUB_KAFKA_PORT"
        exit 1
    fi
    configure
    if [ ! -f "$DATA/logs/meta.properties" ]; then
        log "formatting storage in $DATA/logs"
        local cluster
        cluster=$("${JAVA[@]}" kafka.tools.StorageTool random-uuid)
        "${JAVA[@]}" kafka.tools.StorageTool format -t "$cluster" -c "$DATA/server.properties" >/dev/null
    fi
    log "starting on 127.0.0.1:$PORT"
    nohup "${JAVA[@]}" kafka.Kafka "$DATA/server.properties" >"$DATA/stdout.log" 2>&1 &
    local pid=$!
    echo "$pid" >"$PIDFILE"
    local deadline=$((SECONDS + START_SECONDS))
    while [ "$SECONDS" -lt "$deadline" ]; do
        # Alive, not 'running': the child may not have become the JVM yet.
        if ! kill -0 "$pid" 2>/dev/null; then
            log "the broker exited; see $DATA/broker.log and $DATA/stdout.log"
            tail -n 20 "$DATA/stdout.log" >&2 || true
            exit 1
        fi
        if answers && grep -q "Kafka Server started" "$DATA/broker.log" 2>/dev/null; then
            log "ready: 127.0.0.1:$PORT"
            return
        fi
        sleep 0.5
    done
    log "the broker did not become ready within $START_SECONDS s; see $DATA/broker.log"
    exit 1
}

stop() {
    if ! running; then
        log "not running"
        return
    fi
    local pid
    pid=$(cat "$PIDFILE")
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || { log "stopped"; rm -f "$PIDFILE"; return; }
        sleep 0.5
    done
    log "no controlled shutdown within 30 s; killing"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
}

crash() {
    if running; then
        kill -KILL "$(cat "$PIDFILE")"
        while running; do sleep 0.1; done
        rm -f "$PIDFILE"
        log "killed"
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    kill) crash ;;
    status) if running; then echo "running on 127.0.0.1:$PORT"; else echo "stopped"; exit 3; fi ;;
    bootstrap) echo "127.0.0.1:$PORT" ;;
    fetch) fetch ;;
    tool)
        shift
        fetch
        exec java -Xmx256m -Djava.awt.headless=true \
            -Dlog4j2.configurationFile="$HERE/kafka/log4j2.yaml" -Dkafka.logs.dir="${TMPDIR:-/tmp}" \
            -cp "$LIBS/*" "$@"
        ;;
    *) echo "usage: $0 start|stop|kill|status|bootstrap|fetch|tool CLASS [ARGS]" >&2; exit 2 ;;
esac
