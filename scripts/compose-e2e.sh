#!/usr/bin/env bash
# The compose fleet end to end on a container engine: up (docker-compose.yml + the local override),
# a bounded demo run, `convoy verify` inside the compose network, Prometheus' view of the targets,
# then `down -v` whatever happened. Prints each phase's duration and the verdict; exit 0 = pass.
#
#   eval "$(bash scripts/engine.sh up)" && bash scripts/engine.sh images   # once
#   bash scripts/compose-e2e.sh
#
# E2E_EVENTS (5000), E2E_RATE events/s (500), E2E_PROJECT (convoy-e2e), E2E_TIMEOUT_S (900);
# E2E_FILES ("docker-compose.yml docker-compose.local.yml"; set to "docker-compose.yml" on an
# engine that pulls). Host ports as in the compose file (CONVOY_COMPOSE_*_PORT to move them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DOCKER_HOST="${DOCKER_HOST:-unix:///run/podman/podman.sock}"
EVENTS="${E2E_EVENTS:-5000}"
RATE="${E2E_RATE:-500}"
PROJECT="${E2E_PROJECT:-convoy-e2e}"
TIMEOUT_S="${E2E_TIMEOUT_S:-900}"
PROM_PORT="${CONVOY_COMPOSE_PROMETHEUS_PORT:-9090}"
read -r -a FILES <<< "${E2E_FILES:-docker-compose.yml docker-compose.local.yml}"
compose_args=(-p "$PROJECT")
for f in "${FILES[@]}"; do compose_args+=(-f "$f"); done

log() { printf 'compose-e2e: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
dc() { docker-compose "${compose_args[@]}" "$@"; }

T_START=$(date +%s)
T_PHASE=$T_START
phase() {
  local now; now=$(date +%s)
  log "$1: $((now - T_PHASE)) s"
  T_PHASE=$now
}

command -v docker-compose >/dev/null || die "docker-compose is not installed"
docker-compose version --short >/dev/null 2>&1 || die "docker-compose does not run"
curl -fsS -m 5 --unix-socket "${DOCKER_HOST#unix://}" http://d/_ping >/dev/null 2>&1 \
  || die "no engine answers on $DOCKER_HOST: eval \"\$(bash scripts/engine.sh up)\""
engine="$(curl -fsS -m 5 --unix-socket "${DOCKER_HOST#unix://}" http://d/version 2>/dev/null || true)"

if [[ " ${FILES[*]} " == *" docker-compose.local.yml "* ]]; then
  for image in localhost/convoy:dev docker.io/apache/kafka:4.1.1 docker.io/apicurio/apicurio-registry:3.0.9; do
    docker image inspect "$image" >/dev/null 2>&1 || die "image $image is missing: bash scripts/engine.sh images"
  done
  docker image inspect localhost/convoy-prometheus:dev >/dev/null 2>&1 || dc build prometheus >&2
  phase "images ready"
fi

PUMP_PID=""
cleanup() {
  local rc=$?
  [ -n "$PUMP_PID" ] && kill "$PUMP_PID" 2>/dev/null || true
  if [ "$rc" != 0 ]; then
    log "failed (exit $rc); last log lines of every service:"
    dc logs --no-color --tail=15 >&2 2>/dev/null || true
  fi
  T_PHASE=$(date +%s)
  dc down -v --remove-orphans >/dev/null 2>&1 || log "down failed: run 'docker-compose -p $PROJECT ${FILES[*]/#/-f } down -v' by hand"
  phase "down -v"
  log "total: $(( $(date +%s) - T_START )) s"
  exit "$rc"
}
trap cleanup EXIT

# Podman without systemd never runs HEALTHCHECKs by itself (docs/containers.md), so `depends_on:
# condition: service_healthy` would wait forever. Run each not-yet-healthy container's check here,
# as Docker's daemon would; a container is left alone once healthy.
if [[ "$engine" == *Podman* ]]; then
  (
    declare -A healthy=()
    while sleep 4; do
      for id in $(podman ps -q --filter "label=com.docker.compose.project=$PROJECT" 2>/dev/null); do
        [ -n "${healthy[$id]:-}" ] && continue
        if podman healthcheck run "$id" >/dev/null 2>&1; then healthy[$id]=1; fi
      done
    done
  ) &
  PUMP_PID=$!
fi

log "up: ${FILES[*]}, DEMO_COUNT=$EVENTS DEMO_RATE=$RATE"
DEMO_COUNT="$EVENTS" DEMO_RATE="$RATE" timeout "$TIMEOUT_S" docker-compose "${compose_args[@]}" up -d >&2 \
  || die "up failed or timed out"
phase "up -d (every service started, dependencies healthy)"

producer="$(dc ps -q demo-producer)"
[ -n "$producer" ] || die "no demo-producer container"
deadline=$(( $(date +%s) + TIMEOUT_S ))
while :; do
  state="$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$producer")"
  case "$state" in
    "exited 0") break ;;
    exited*) die "demo-producer failed: $state" ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || die "demo-producer still running after ${TIMEOUT_S}s"
  sleep 3
done
phase "demo producer sent $EVENTS events"

set +e
verdict="$(VERIFY_TIMEOUT=180s dc --profile verify run --rm --no-deps verify 2>&1)"
verify_rc=$?
set -e
printf '%s\n' "$verdict"
phase "convoy verify (pipeline settled)"

# Prometheus scraped every service of the fleet (the demo producer has exited by now), and the
# event-time branch consumed what the merger released.
query() {
  curl -fsS -m 5 "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" \
    | sed -n 's/.*"value":\[[^,]*,"\([0-9.e+-]*\)".*/\1/p'
}
# A target's `up` is only as fresh as its last scrape (every 5 s); give every one a few rounds.
prom_deadline=$(( $(date +%s) + 60 ))
while :; do
  down="$(query 'count(up{job!="demo-producer"} == 0) or vector(0)')"
  up="$(query 'count(up{job!="demo-producer"} == 1)')"
  if [ "$down" = 0 ] && [ -n "$up" ]; then break; fi
  if [ "$(date +%s)" -ge "$prom_deadline" ]; then
    curl -fsS -m 5 "http://127.0.0.1:$PROM_PORT/api/v1/targets?state=active" \
      | grep -o '"scrapeUrl":"[^"]*"\|"health":"[^"]*"\|"lastError":"[^"]*"' | paste - - - >&2 || true
    break
  fi
  sleep 5
done
log "prometheus: ${up:-?} targets up, ${down:-?} down (demo-producer excluded); merger released $(query 'sum(convoy_merger_events_out_total)')," \
  "reorder-buffer released $(query 'sum(convoy_reorder_buffer_events_out_total)'), aggregator read $(query 'sum(convoy_aggregator_events_in_total{kind="data"})')"
phase "prometheus query"
if [ "$down" != 0 ] || [ -z "$up" ]; then
  log "VERDICT: FAIL (prometheus: ${down:-?} targets down)"
  exit 1
fi

# The event-time branch end to end: final window results need the watermark (now − 30 s) to pass a
# window's end plus its 5 s allowed lateness, so they come about 45 s after the events.
deadline=$(( $(date +%s) + 180 ))
finals=""
while :; do
  finals="$(query 'sum(convoy_aggregator_results_total{kind="final"})')"
  [ -n "$finals" ] && [ "${finals%%.*}" -gt 0 ] && break
  [ "$(date +%s)" -lt "$deadline" ] || { log "VERDICT: FAIL (no final window result from the aggregator within 180 s)"; exit 1; }
  sleep 5
done
log "aggregator: $finals final window results, late events $(query 'sum(convoy_aggregator_late_events_total) or vector(0)')"
phase "event-time branch (first final windows)"

if [ "$verify_rc" = 0 ]; then log "VERDICT: PASS ($EVENTS events)"; else log "VERDICT: FAIL (convoy verify exit $verify_rc)"; fi
exit "$verify_rc"
