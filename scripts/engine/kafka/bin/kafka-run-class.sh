#!/usr/bin/env bash
# Runs a Kafka main class with /opt/kafka/libs on the class path, honouring the usual variables:
# KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_LOG4J_OPTS, KAFKA_OPTS, KAFKA_JMX_OPTS (+ JMX_PORT).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: kafka-run-class.sh CLASS [args…]" >&2; exit 1; }
base="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
heap="${KAFKA_HEAP_OPTS:--Xmx256M}"
perf="${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}"
log4j="${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base/config/tools-log4j2.yaml}"
jmx=()
if [ -n "${JMX_PORT:-}" ]; then
  jmx=(${KAFKA_JMX_OPTS:--Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false} -Dcom.sun.management.jmxremote.port="$JMX_PORT")
fi
# shellcheck disable=SC2086
exec java $heap $perf "${jmx[@]}" $log4j ${KAFKA_OPTS:-} -cp "$base/libs/*" "$@"
