#!/usr/bin/env bash
# `pnpm start`: the whole fleet of docker-compose.yml on this machine with no container engine:
# installs Node 24 + pnpm + dependencies when missing, starts the local Kafka + registry stack unless
# KAFKA_BROKERS is set, then runs every Convoy container of the compose file as a process, with the
# environment compose gives it (topic-init first, then the services and the demo producer;
# scripts/fleet.ts, docs/deploy-compose.md).
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
