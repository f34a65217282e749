#!/usr/bin/env bash
# The local stack: a real Apache Kafka 4.x broker (KRaft, combined broker+controller) and a real
# Confluent-compatible schema registry (Apicurio Registry 3.x, API under /apis/ccompat/v7), both as
# plain Java processes on 127.0.0.1, from Maven Central artifacts. No Docker needed.
#
#   scripts/stack.sh up [--fresh]   download (cached), start, wait until really ready, print env
#   scripts/stack.sh down [--purge] stop both (--purge also deletes their data)
#   scripts/stack.sh status         say what runs
#   scripts/stack.sh env            print the exports that point Convoy at this stack
#
# Downloads are cached in .cache/stack (git-ignored); state, data and logs live in .stack/.
#
# Besides the plaintext listener the broker has four secure ones, for testing secure connections
# (docs/security.md): SASL_PLAINTEXT on CONVOY_KAFKA_SASL_PORT (9094), SSL on CONVOY_KAFKA_SSL_PORT
# (9095), SASL_SSL on CONVOY_KAFKA_SASL_SSL_PORT (9096) and SSL requiring a client certificate on
# CONVOY_KAFKA_MTLS_PORT (9097). SASL offers PLAIN, SCRAM-SHA-256 and
# SCRAM-SHA-512 for one test user. TLS uses a self-signed CA made at `up` in .stack/tls/ (ca.pem,
# plus a client certificate client.pem/client-key.pem for mutual TLS). `env` prints them as
# CONVOY_TEST_* variables.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/scripts/stack"
CACHE="${CONVOY_STACK_CACHE:-$ROOT/.cache/stack}"
STATE="${CONVOY_STACK_DIR:-$ROOT/.stack}"
KAFKA_PORT="${CONVOY_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${CONVOY_CONTROLLER_PORT:-9093}"
REGISTRY_PORT="${CONVOY_REGISTRY_PORT:-8081}"
SASL_PORT="${CONVOY_KAFKA_SASL_PORT:-9094}"
SSL_PORT="${CONVOY_KAFKA_SSL_PORT:-9095}"
SASL_SSL_PORT="${CONVOY_KAFKA_SASL_SSL_PORT:-9096}"
MTLS_PORT="${CONVOY_KAFKA_MTLS_PORT:-9097}"
# A throwaway credential for the local stack only; never used anywhere real.
SASL_USER="${CONVOY_KAFKA_SASL_USER:-convoy-test}"
SASL_PASSWORD="${CONVOY_KAFKA_SASL_PASSWORD:-convoy-local-only-3f9a1c}"
TLS_DIR="$STATE/tls"
# 3.0.x is the newest line whose classes run on Java 17 (3.1+ needs Java 21).
APICURIO_VERSION="${CONVOY_APICURIO_VERSION:-3.0.9}"
READY_TIMEOUT_S="${CONVOY_STACK_READY_TIMEOUT_S:-120}"
KAFKA_HEAP="${CONVOY_KAFKA_HEAP:--Xms256m -Xmx1g}"
REGISTRY_HEAP="${CONVOY_REGISTRY_HEAP:--Xms128m -Xmx512m}"

BROKERS="127.0.0.1:$KAFKA_PORT"
REGISTRY_URL="http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"

log() { printf 'stack: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

need() { command -v "$1" >/dev/null || die "needs '$1' on PATH ($2)"; }

fetch_kafka() {
  if [ -f "$CACHE/kafka/.complete" ]; then return; fi
  need mvn "Maven resolves Kafka's jars from Maven Central"
  log "resolving Apache Kafka jars from Maven Central into $CACHE/kafka"
  rm -rf "$CACHE/kafka"
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$CACHE/kafka/libs" >&2 \
    || die "Maven could not resolve Kafka's jars (see above)"
  touch "$CACHE/kafka/.complete"
}

fetch_registry() {
  if [ -f "$CACHE/apicurio-$APICURIO_VERSION/.complete" ]; then return; fi
  need mvn "Maven resolves Apicurio Registry from Maven Central"
  log "resolving Apicurio Registry $APICURIO_VERSION from Maven Central into $CACHE/apicurio-$APICURIO_VERSION"
  local dir="$CACHE/apicurio-$APICURIO_VERSION"
  rm -rf "$dir" && mkdir -p "$dir"
  mvn -q -B dependency:copy -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
    -DoutputDirectory="$dir" >&2 || die "Maven could not resolve Apicurio Registry (see above)"
  tar -xzf "$dir"/apicurio-registry-app-*.tar.gz -C "$dir"
  rm -f "$dir"/apicurio-registry-app-*.tar.gz
  touch "$dir/.complete"
}

# pid_alive, detach, stop_detached
# shellcheck source=lib/detach.sh
source "$ROOT/scripts/lib/detach.sh"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

tail_logs() {
  for f in "$STATE/kafka/server.log" "$STATE/kafka/stdout.log" "$STATE/registry/stdout.log"; do
    [ -f "$f" ] || continue
    log "---- last lines of $f ----"
    tail -n 40 "$f" >&2 || true
  done
}

# A self-signed CA, a broker certificate for 127.0.0.1/localhost (as a PKCS12 keystore) and a
# client certificate for mutual TLS, made once per state dir. Keys are unencrypted PEM: local only.
make_tls() {
  [ -f "$TLS_DIR/.complete" ] && return
  need openssl "makes the local stack's TLS certificates"
  log "making a self-signed CA and certificates in $TLS_DIR"
  rm -rf "$TLS_DIR" && mkdir -p "$TLS_DIR"
  (
    cd "$TLS_DIR"
    exec 2>"$TLS_DIR/openssl.log"
    openssl rand -hex 16 > store-password
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Convoy local stack CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout ca-key.pem -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker-key.pem -out broker.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > broker.ext
    openssl x509 -req -days 825 -in broker.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
      -extfile broker.ext -out broker.pem
    openssl pkcs12 -export -name broker -in broker.pem -inkey broker-key.pem -certfile ca.pem \
      -passout "pass:$(cat store-password)" -out broker.p12
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$SASL_USER" -keyout client-key.pem -out client.csr
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    openssl x509 -req -days 825 -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
      -extfile client.ext -out client.pem
  ) || { cat "$TLS_DIR/openssl.log" >&2; die "making TLS certificates failed"; }
  touch "$TLS_DIR/.complete"
}

# True when the running (or last started) broker was given the secure listeners by this script.
has_secure_listeners() { [ -f "$STATE/kafka/secure-listeners" ]; }

secure_ports_open() {
  has_secure_listeners || return 0
  port_open "$SASL_PORT" && port_open "$SSL_PORT" && port_open "$SASL_SSL_PORT" && port_open "$MTLS_PORT"
}

# SCRAM credentials are metadata records. Storage formatted by this script gets them at format time;
# a data dir formatted before (or with another password) gets them through the admin API once the
# broker is up. The stamp says which user/password the cluster holds.
scram_stamp() { printf '%s %s\n' "$SASL_USER" "$SASL_PASSWORD"; }

ensure_scram_credentials() {
  local stamp="$STATE/kafka/scram.stamp"
  has_secure_listeners || return 0
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(scram_stamp)" ]; then return; fi
  log "adding SCRAM credentials for $SASL_USER through the admin API"
  local mechanism
  : > "$STATE/kafka/scram.log"
  # One mechanism per request: the admin API refuses two changes to one user in a request.
  for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
    java -cp "$CACHE/kafka/libs/*" -Dlog4j2.configurationFile="$HERE/log4j2.properties" -Dkafka.logs.dir="$STATE/kafka" \
      kafka.admin.ConfigCommand --bootstrap-server "$BROKERS" --alter --entity-type users --entity-name "$SASL_USER" \
      --add-config "$mechanism=[password=$SASL_PASSWORD]" \
      >> "$STATE/kafka/scram.log" 2>&1 || { cat "$STATE/kafka/scram.log" >&2; die "adding SCRAM credentials failed"; }
  done
  scram_stamp > "$stamp"
}

start_kafka() {
  if pid_alive "$STATE/kafka/pid"; then
    log "kafka already running (pid $(cat "$STATE/kafka/pid"))"
    has_secure_listeners || log "it was started by an older stack.sh, without the secure listeners: 'down' and 'up' to get them"
    return
  fi
  rm -f "$STATE/kafka/secure-listeners"
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process: set CONVOY_KAFKA_PORT"
  port_open "$SASL_PORT" && die "port $SASL_PORT is taken by another process: set CONVOY_KAFKA_SASL_PORT"
  port_open "$SSL_PORT" && die "port $SSL_PORT is taken by another process: set CONVOY_KAFKA_SSL_PORT"
  port_open "$SASL_SSL_PORT" && die "port $SASL_SSL_PORT is taken by another process: set CONVOY_KAFKA_SASL_SSL_PORT"
  port_open "$MTLS_PORT" && die "port $MTLS_PORT is taken by another process: set CONVOY_KAFKA_MTLS_PORT"
  mkdir -p "$STATE/kafka"
  make_tls
  sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$CONTROLLER_PORT#g" \
      -e "s#@SASL_PORT@#$SASL_PORT#g" -e "s#@SSL_PORT@#$SSL_PORT#g" -e "s#@SASL_SSL_PORT@#$SASL_SSL_PORT#g" \
      -e "s#@MTLS_PORT@#$MTLS_PORT#g" \
      -e "s#@SASL_USER@#$SASL_USER#g" -e "s#@SASL_PASSWORD@#$SASL_PASSWORD#g" \
      -e "s#@TLS_DIR@#$TLS_DIR#g" -e "s#@TLS_STORE_PASSWORD@#$(cat "$TLS_DIR/store-password")#g" \
      -e "s#@DATA_DIR@#$STATE/kafka/data#g" "$HERE/server.properties.template" > "$STATE/kafka/server.properties"
  local cp="$CACHE/kafka/libs/*"
  local jvm=(-Dlog4j2.configurationFile="$HERE/log4j2.properties" -Dkafka.logs.dir="$STATE/kafka")
  if [ ! -f "$STATE/kafka/data/meta.properties" ]; then
    log "formatting KRaft storage"
    rm -f "$STATE/kafka/scram.stamp"
    java -cp "$cp" "${jvm[@]}" kafka.tools.StorageTool format --standalone \
      -t "${CONVOY_KAFKA_CLUSTER_ID:-convoy-local-cluster-01}" -c "$STATE/kafka/server.properties" \
      --add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASSWORD]" \
      --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SASL_PASSWORD]" \
      > "$STATE/kafka/format.log" 2>&1 || { cat "$STATE/kafka/format.log" >&2; die "formatting Kafka storage failed"; }
    scram_stamp > "$STATE/kafka/scram.stamp"
  fi
  log "starting kafka on $BROKERS (SASL_PLAINTEXT :$SASL_PORT, SSL :$SSL_PORT, SASL_SSL :$SASL_SSL_PORT, MTLS :$MTLS_PORT)"
  touch "$STATE/kafka/secure-listeners"
  # shellcheck disable=SC2086
  detach "$STATE/kafka" java $KAFKA_HEAP -XX:+UseG1GC -Djava.awt.headless=true "${jvm[@]}" -cp "$cp" \
    kafka.Kafka "$STATE/kafka/server.properties"
}

start_registry() {
  if pid_alive "$STATE/registry/pid"; then log "registry already running (pid $(cat "$STATE/registry/pid"))"; return; fi
  port_open "$REGISTRY_PORT" && die "port $REGISTRY_PORT is taken by another process: set CONVOY_REGISTRY_PORT"
  mkdir -p "$STATE/registry"
  local jar
  # Quarkus ships either a fast-jar (quarkus-run.jar) or a legacy runner jar, depending on the release.
  jar="$(ls "$CACHE/apicurio-$APICURIO_VERSION"/quarkus-run.jar "$CACHE/apicurio-$APICURIO_VERSION"/*-runner.jar 2>/dev/null | head -n 1 || true)"
  [ -n "$jar" ] || die "no runnable jar in $CACHE/apicurio-$APICURIO_VERSION"
  log "starting Apicurio Registry $APICURIO_VERSION on http://127.0.0.1:$REGISTRY_PORT"
  # In-memory storage: schemas live as long as the process, which is what tests and demos want.
  # shellcheck disable=SC2086
  detach "$STATE/registry" java $REGISTRY_HEAP -Dquarkus.http.host=127.0.0.1 \
    -Dquarkus.http.port="$REGISTRY_PORT" -Dquarkus.log.level=WARN -jar "$jar"
}

probe_kafka() {
  [ -d "$ROOT/test/node_modules/kafkajs" ] || return 2
  node "$ROOT/test/harness/probe-kafka.ts" "$BROKERS" 2>>"$STATE/kafka/probe.log"
}

wait_ready() {
  local deadline=$(( $(date +%s) + READY_TIMEOUT_S )) kafka_ok="" registry_ok=""
  while :; do
    pid_alive "$STATE/kafka/pid" || { tail_logs; die "kafka exited during start-up"; }
    pid_alive "$STATE/registry/pid" || { tail_logs; die "the registry exited during start-up"; }
    if [ -z "$kafka_ok" ] && port_open "$KAFKA_PORT" && secure_ports_open; then
      local out rc=0
      out="$(probe_kafka)" || rc=$?
      if [ "$rc" = 0 ]; then kafka_ok="$out"; log "kafka ready: $out"
      elif [ "$rc" = 2 ]; then kafka_ok="port open (metadata probe skipped: run 'pnpm install' to enable it)"; log "kafka: $kafka_ok"
      fi
    fi
    if [ -z "$registry_ok" ] && curl -fsS -m 3 "$REGISTRY_URL/subjects" >/dev/null 2>&1; then
      registry_ok=1; log "registry ready: GET $REGISTRY_URL/subjects answered"
    fi
    [ -n "$kafka_ok" ] && [ -n "$registry_ok" ] && return 0
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail_logs
      die "not ready after ${READY_TIMEOUT_S}s (kafka: ${kafka_ok:-no}, registry: ${registry_ok:-no})"
    fi
    sleep 1
  done
}

stop_one() { stop_detached "$STATE/$1" "$1" 30 0.5; }

print_env() {
  echo "export KAFKA_BROKERS=$BROKERS"
  echo "export SCHEMA_REGISTRY_URL=$REGISTRY_URL"
  # Only once a broker was started with the secure listeners (a stack started by an older
  # stack.sh has none until it is restarted); test/integration/security-*.test.ts read these.
  if has_secure_listeners && [ -f "$TLS_DIR/.complete" ]; then
    echo "export CONVOY_TEST_KAFKA_SASL_BROKERS=127.0.0.1:$SASL_PORT"
    echo "export CONVOY_TEST_KAFKA_SSL_BROKERS=127.0.0.1:$SSL_PORT"
    echo "export CONVOY_TEST_KAFKA_SASL_SSL_BROKERS=127.0.0.1:$SASL_SSL_PORT"
    echo "export CONVOY_TEST_KAFKA_MTLS_BROKERS=127.0.0.1:$MTLS_PORT"
    echo "export CONVOY_TEST_SASL_USERNAME=$SASL_USER"
    echo "export CONVOY_TEST_SASL_PASSWORD=$SASL_PASSWORD"
    echo "export CONVOY_TEST_TLS_CA_FILE=$TLS_DIR/ca.pem"
    echo "export CONVOY_TEST_TLS_CERT_FILE=$TLS_DIR/client.pem"
    echo "export CONVOY_TEST_TLS_KEY_FILE=$TLS_DIR/client-key.pem"
  fi
}

cmd="${1:-status}"; shift || true
# The metadata probe is TypeScript run by Node 24.
# shellcheck source=bootstrap.sh
source "$ROOT/scripts/bootstrap.sh" 2>/dev/null
case "$cmd" in
  up)
    need java "Java 17+ runs Kafka and the registry"
    need curl "probes the registry"
    if [ "${1:-}" = "--fresh" ]; then "$0" down --purge; fi
    fetch_kafka
    fetch_registry
    start_kafka
    start_registry
    wait_ready
    ensure_scram_credentials
    print_env
    ;;
  down)
    stop_one registry
    stop_one kafka
    if [ "${1:-}" = "--purge" ]; then rm -rf "$STATE"; log "purged $STATE"; fi
    ;;
  status)
    for s in kafka registry; do
      if pid_alive "$STATE/$s/pid"; then echo "$s: running (pid $(cat "$STATE/$s/pid"))"; else echo "$s: stopped"; fi
    done
    ;;
  env) print_env ;;
  *) die "usage: scripts/stack.sh up [--fresh] | down [--purge] | status | env" ;;
esac
