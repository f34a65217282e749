#!/usr/bin/env bash
# The one command that runs every test on a fresh machine:
#   installs Node 24 + pnpm when missing, installs dependencies, starts the local Kafka + registry
#   stack unless KAFKA_BROKERS points at one, runs `pnpm typecheck` and `pnpm test`, and stops the
#   stack again if it started it, whatever the outcome.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=bootstrap.sh
source scripts/bootstrap.sh
pnpm install --frozen-lockfile --reporter=append-only

started_stack=""
stop_stack() { [ -z "$started_stack" ] || bash scripts/stack.sh down; }
trap stop_stack EXIT

if [ -z "${KAFKA_BROKERS:-}" ]; then
  started_stack=1
  # Assigned first: `eval "$(…)"` alone would hide a failed start from `set -e`.
  stack_env="$(bash scripts/stack.sh up)"
  eval "$stack_env"
fi

pnpm typecheck
pnpm test "$@"
