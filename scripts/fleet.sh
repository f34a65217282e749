#!/usr/bin/env bash
# Brings the sequential convoy up on this machine with no container engine: installs Node 24 +
# pnpm + dependencies when missing, starts the local Kafka + registry stack unless KAFKA_BROKERS is
# set, then runs splitter, workers and merger as processes with a demo producer (scripts/fleet.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bootstrap.sh
source scripts/bootstrap.sh
pnpm install --frozen-lockfile --reporter=silent
if [ -z "${KAFKA_BROKERS:-}" ]; then
  stack_env="$(bash scripts/stack.sh up)"
  eval "$stack_env"
fi
exec node scripts/fleet.ts
