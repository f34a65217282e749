#!/usr/bin/env bash
# The one command that runs every test on a fresh machine:
#   installs Node 24 + pnpm when missing, installs dependencies, starts the local Kafka + registry
#   stack unless KAFKA_BROKERS points at one, then runs, in order:
#     pnpm typecheck · pnpm test (unit + integration) · pnpm test:deploy (compose, Grafana, k8s,
#     static) · pnpm test:faults (fault suite + hostile corpus) · the container stage: podman
#     engine, local images, the Testcontainers path, and the compose fleet end to end
#   and stops everything it started, whatever the outcome.
#
#   bash scripts/test.sh                 everything (what CI runs)
#   bash scripts/test.sh <test files>    only `pnpm test <files>` (with typecheck)
#   CONVOY_SKIP_FAULTS=1                 skip the fault suite
#   CONVOY_SKIP_CONTAINERS=1             skip the container stage (it needs root and apt-get)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=bootstrap.sh
source scripts/bootstrap.sh
pnpm install --frozen-lockfile --reporter=append-only

started_stack=""
started_engine=""
cleanup() {
  [ -z "$started_engine" ] || bash scripts/engine.sh down || true
  [ -z "$started_stack" ] || bash scripts/stack.sh down
}
trap cleanup EXIT

if [ -z "${KAFKA_BROKERS:-}" ]; then
  started_stack=1
  # Assigned first: `eval "$(…)"` alone would hide a failed start from `set -e`.
  stack_env="$(bash scripts/stack.sh up)"
  eval "$stack_env"
fi

stage() { printf '\n==== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

stage typecheck
pnpm typecheck
stage "unit + integration"
pnpm test "$@"
[ $# -eq 0 ] || exit 0

if [ "${CONVOY_SKIP_CONTAINERS:-}" != 1 ]; then
  # Early, so the static deploy checks find docker-compose; images and the runs come last.
  stage "container engine"
  started_engine=1
  engine_env="$(bash scripts/engine.sh up)"
  eval "$engine_env"
fi

stage "deploy manifests (static)"
pnpm test:deploy

if [ "${CONVOY_SKIP_FAULTS:-}" != 1 ]; then
  stage "fault suite"
  pnpm test:faults
fi

if [ "${CONVOY_SKIP_CONTAINERS:-}" != 1 ]; then
  stage "images"
  bash scripts/engine.sh images
  stage "Testcontainers path"
  pnpm test:containers
  stage "compose fleet end to end"
  bash scripts/compose-e2e.sh
fi
stage done
