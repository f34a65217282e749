#!/usr/bin/env bash
# The container engine for Convoy on a Debian 12 machine where nothing can be pulled: rootful
# podman (runc) with its Docker-compatible API on a unix socket, so Testcontainers and
# docker-compose work unchanged, plus the local images built from artifacts this machine already has.
#
#   scripts/engine.sh up                 install podman/runc/docker-compose/debootstrap if missing,
#                                        configure, start the API service, print the env to use
#   scripts/engine.sh images [--rebuild] build (or keep) every local image, print their names
#   scripts/engine.sh down               stop the API service (images and containers stay)
#   scripts/engine.sh status             say whether the API answers and which images exist
#   scripts/engine.sh env                print the exports only
#
# Needs root (apt-get, /etc/containers, /run/podman). Build caches live in .cache/engine
# (git-ignored); the service's pid and log in .stack/engine. See docs/containers.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/scripts/engine"
CACHE="${CONVOY_ENGINE_CACHE:-$ROOT/.cache/engine}"
STATE="${CONVOY_ENGINE_DIR:-$ROOT/.stack/engine}"
STACK_CACHE="${CONVOY_STACK_CACHE:-$ROOT/.cache/stack}"
SOCK="${CONVOY_ENGINE_SOCKET:-/run/podman/podman.sock}"
CONF=/etc/containers/containers.conf
CONF_MARK="# written by convoy scripts/engine.sh"

KAFKA_VERSION=4.1.1
APICURIO_VERSION=3.0.9
BASE_IMAGE=localhost/debian:bookworm
NODE_IMAGE=localhost/convoy-node:24
JRE_IMAGE=localhost/convoy-jre:17
KAFKA_IMAGE="localhost/convoy-kafka:$KAFKA_VERSION"
KAFKA_UPSTREAM="docker.io/apache/kafka:$KAFKA_VERSION"
REGISTRY_IMAGE="localhost/convoy-registry:$APICURIO_VERSION"
REGISTRY_UPSTREAM="docker.io/apicurio/apicurio-registry:$APICURIO_VERSION"
CONVOY_IMAGE=localhost/convoy:dev

log() { printf 'engine: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# ---- engine ---------------------------------------------------------------------------------------

ensure_packages() {
  local missing=()
  # With its recommends (buildah, catatonit, fuse-overlayfs…); netavark + aardvark-dns: networks.
  command -v podman >/dev/null || missing+=(podman netavark aardvark-dns)
  command -v runc >/dev/null || missing+=(runc)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v curl >/dev/null || missing+=(curl)
  [ "${#missing[@]}" -eq 0 ] && return
  [ "$(id -u)" = 0 ] || die "needs root to install: ${missing[*]}"
  log "installing ${missing[*]} (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# crun fails here ("cgroups in hybrid mode not supported"), and containers may not raise their
# rlimits above the host's hard limits ("setrlimit: Operation not permitted").
write_conf() {
  if [ -f "$CONF" ] && ! grep -qF "$CONF_MARK" "$CONF"; then
    grep -q 'runtime *= *"runc"' "$CONF" || log "warning: $CONF exists and is not ours; it should set [engine] runtime = \"runc\""
    return
  fi
  mkdir -p "$(dirname "$CONF")"
  local want
  want="$(printf '%s\n[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n\n[engine]\nruntime = "runc"\n' "$CONF_MARK")"
  [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$want" ] && return
  printf '%s\n' "$want" > "$CONF"
  log "wrote $CONF"
}

api_answers() { [ -S "$SOCK" ] && [ "$(curl -fsS -m 3 --unix-socket "$SOCK" http://d/_ping 2>/dev/null)" = OK ]; }

# pid_alive, detach, stop_detached
# shellcheck source=lib/detach.sh
source "$ROOT/scripts/lib/detach.sh"

start_service() {
  if api_answers; then log "API already answers on $SOCK"; return; fi
  mkdir -p "$STATE" "$(dirname "$SOCK")"
  rm -f "$SOCK"
  log "starting podman system service on unix://$SOCK"
  detach "$STATE" podman system service --time=0 "unix://$SOCK"
  for _ in $(seq 1 100); do
    api_answers && { log "API answers: $(podman version --format '{{.Server.Version}}' 2>/dev/null || echo '?') on $SOCK"; return; }
    pid_alive "$STATE/pid" || { tail -n 20 "$STATE/stdout.log" >&2; die "podman system service exited"; }
    sleep 0.2
  done
  die "no answer from $SOCK after 20 s (log: $STATE/stdout.log)"
}

stop_service() {
  pid_alive "$STATE/pid" || log "API service not running (from here)"
  stop_detached "$STATE" "podman system service" 20 0.25
}

print_env() {
  echo "export DOCKER_HOST=unix://$SOCK"
  # Ryuk (the reaper container) cannot be pulled; the global teardown stops what it started.
  echo "export TESTCONTAINERS_RYUK_DISABLED=true"
  echo "export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1"
}

# ---- images ---------------------------------------------------------------------------------------

image_exists() { podman image exists "$1"; }
image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
# A rebuild leaves the previous image untagged: remove it (unless a container still uses it).
drop_replaced() { [ -n "$1" ] && [ "$1" != "$(image_id "$2")" ] && podman rmi "$1" >/dev/null 2>&1 || true; }

debian_mirror() {
  local src=/etc/apt/sources.list.d/debian.sources url=""
  [ -f "$src" ] && url="$(awk '/^URIs:/ {print $2; exit}' "$src")"
  [ -z "$url" ] && [ -f /etc/apt/sources.list ] && url="$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list)"
  echo "${CONVOY_DEBIAN_MIRROR:-${url:-http://deb.debian.org/debian}}"
}

# Seconds since $1 (an epoch), for the timing lines.
since() { echo "$(( $(date +%s) - $1 ))s"; }

build_base() {
  local tar="$CACHE/debian-bookworm-minbase.tar"
  if [ ! -f "$tar" ]; then
    local t0; t0=$(date +%s)
    local dir="$CACHE/rootfs-bookworm" mirror; mirror="$(debian_mirror)"
    log "debootstrap --variant=minbase bookworm from $mirror"
    rm -rf "$dir"
    debootstrap --variant=minbase bookworm "$dir" "$mirror" > "$CACHE/debootstrap.log" 2>&1 \
      || { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed"; }
    # apt inside the images uses the same mirror, over http (https fails inside containers here).
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' "$mirror" "$mirror" \
      "${CONVOY_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}" > "$dir/etc/apt/sources.list"
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$dir"
    log "debootstrap done in $(since "$t0")"
  fi
  local t0; t0=$(date +%s)
  local old; old="$(image_id "$BASE_IMAGE")"
  podman import --quiet --change 'CMD ["/bin/bash"]' "$tar" "$BASE_IMAGE" >/dev/null
  drop_replaced "$old" "$BASE_IMAGE"
  log "imported $BASE_IMAGE in $(since "$t0")"
}

# build NAME CONTEXT_DIR [extra tags…]: podman build with the Containerfile in CONTEXT_DIR.
build() {
  local name="$1" ctx="$2"; shift 2
  local t0; t0=$(date +%s)
  log "building $name"
  local old; old="$(image_id "$name")"
  podman build --quiet --layers --format docker -t "$name" "$ctx" >/dev/null
  for tag in "$@"; do podman tag "$name" "$tag"; done
  drop_replaced "$old" "$name"
  log "built $name in $(since "$t0")${*:+ (also tagged $*)}"
}

# A fresh build context: the checked-in files of scripts/engine/NAME, then whatever the caller adds.
context() {
  local dir="$CACHE/ctx/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  cp -a "$HERE/$1/." "$dir/"
  echo "$dir"
}

build_node() {
  local node; node="$(command -v node)" || die "no node on PATH (source scripts/bootstrap.sh)"
  [ "$("$node" -p 'process.versions.node.split(".")[0]')" = 24 ] || die "$node is not Node 24"
  local ctx; ctx="$(context node)"
  cp "$node" "$ctx/node"
  build "$NODE_IMAGE" "$ctx"
}

build_kafka() {
  [ -d "$STACK_CACHE/kafka/libs" ] || die "no Kafka jars in $STACK_CACHE/kafka/libs: run 'bash scripts/stack.sh up' once (it caches them)"
  ls "$STACK_CACHE/kafka/libs/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null 2>&1 || die "$STACK_CACHE/kafka/libs is not Kafka $KAFKA_VERSION"
  local ctx; ctx="$(context kafka)"
  cp -al "$STACK_CACHE/kafka/libs" "$ctx/libs" 2>/dev/null || cp -a "$STACK_CACHE/kafka/libs" "$ctx/libs"
  fetch_kafka_tools
  # The tools' own log4j is older than the broker's: keep one copy, the broker's.
  local jar
  for jar in "$CACHE/kafka-tools/libs"/*.jar; do
    case "$(basename "$jar")" in log4j-*) continue ;; esac
    [ -e "$ctx/libs/$(basename "$jar")" ] || cp "$jar" "$ctx/libs/"
  done
  rm -f "$ctx/pom.xml"
  build "$KAFKA_IMAGE" "$ctx" "$KAFKA_UPSTREAM"
}

# kafka-topics.sh & co. need kafka-tools, which the broker's jar set (scripts/stack/pom.xml) lacks.
fetch_kafka_tools() {
  [ -f "$CACHE/kafka-tools/.complete" ] && return
  command -v mvn >/dev/null || die "needs 'mvn' once to resolve kafka-tools $KAFKA_VERSION from Maven Central"
  local t0; t0=$(date +%s)
  rm -rf "$CACHE/kafka-tools" && mkdir -p "$CACHE"
  mvn -q -B -Dstyle.color=never -f "$HERE/kafka/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$CACHE/kafka-tools/libs" > "$CACHE/kafka-tools.log" 2>&1 \
    || { tail -n 30 "$CACHE/kafka-tools.log" >&2; die "Maven could not resolve kafka-tools (see above)"; }
  touch "$CACHE/kafka-tools/.complete"
  log "resolved kafka-tools $KAFKA_VERSION in $(since "$t0")"
}

build_registry() {
  local app="$STACK_CACHE/apicurio-$APICURIO_VERSION"
  [ -f "$app/apicurio-registry-app-$APICURIO_VERSION-runner.jar" ] \
    || die "no Apicurio $APICURIO_VERSION app in $app: run 'bash scripts/stack.sh up' once (it caches it)"
  local ctx; ctx="$(context registry)"
  mkdir -p "$ctx/app"
  cp -al "$app/." "$ctx/app/" 2>/dev/null || cp -a "$app/." "$ctx/app/"
  rm -f "$ctx/app/.complete"
  build "$REGISTRY_IMAGE" "$ctx" "$REGISTRY_UPSTREAM"
}

# The host-prepared context for Dockerfile.prebuilt: the workspace's sources (no tests) and a
# production node_modules installed from the lockfile out of the local pnpm store.
prepare_app_context() {
  local ctx="$CACHE/ctx/app"
  local t0; t0=$(date +%s)
  rm -rf "$ctx" && mkdir -p "$ctx"
  # The files ./Dockerfile's context keeps (see ./.dockerignore): root manifests and every
  # workspace package but test/, without node_modules and tests.
  local parts=(package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc patches) pattern dir
  while read -r pattern; do
    for dir in $ROOT/$pattern; do
      [ -f "$dir/package.json" ] && [ "$dir" != "$ROOT/test" ] && parts+=("${dir#"$ROOT"/}")
    done
  done < <(awk '/^packages:/ {on=1; next} /^[^ ]/ {on=0} on && /^ *- / {sub(/^ *- */, ""); gsub(/["\047]/, ""); if ($0 !~ /^!/) print}' "$ROOT/pnpm-workspace.yaml")
  tar -C "$ROOT" --exclude=node_modules --exclude='*.test.ts' --exclude='*.log' -cf - "${parts[@]}" | tar -C "$ctx" -xf -
  cp "$ROOT/Dockerfile.prebuilt" "$ctx/"
  printf 'Dockerfile.prebuilt\n' > "$ctx/.containerignore" && cp "$ctx/.containerignore" "$ctx/.dockerignore"
  (cd "$ctx" && pnpm install --prod --frozen-lockfile --offline --config.confirmModulesPurge=false >"$CACHE/app-install.log" 2>&1 \
    || pnpm install --prod --frozen-lockfile --config.confirmModulesPurge=false >>"$CACHE/app-install.log" 2>&1) \
    || { tail -n 30 "$CACHE/app-install.log" >&2; die "pnpm install --prod failed in $ctx"; }
  log "prepared $ctx ($(du -sh "$ctx" | cut -f1), node_modules $(du -sh "$ctx/node_modules" | cut -f1)) in $(since "$t0")"
  echo "$ctx"
}

build_convoy() {
  command -v pnpm >/dev/null || die "no pnpm on PATH (source scripts/bootstrap.sh)"
  local ctx; ctx="$(prepare_app_context)"
  local t0 old; t0=$(date +%s); old="$(image_id "$CONVOY_IMAGE")"
  podman build --quiet --layers --format docker -f "$ctx/Dockerfile.prebuilt" --build-arg "NODE_IMAGE=$NODE_IMAGE" \
    -t "$CONVOY_IMAGE" "$ctx" >/dev/null
  drop_replaced "$old" "$CONVOY_IMAGE"
  log "built $CONVOY_IMAGE in $(since "$t0")"
}

# maybe_build IMAGE FUNCTION: run FUNCTION unless IMAGE exists (and --rebuild was not given).
maybe_build() {
  if [ "$REBUILD" != 1 ] && image_exists "$1"; then log "have $1"; return; fi
  "$2"
}

images() {
  mkdir -p "$CACHE"
  command -v podman >/dev/null || die "no podman: run 'bash scripts/engine.sh up' first"
  # shellcheck source=bootstrap.sh
  source "$ROOT/scripts/bootstrap.sh" 2>/dev/null
  local t0; t0=$(date +%s)
  maybe_build "$BASE_IMAGE" build_base
  maybe_build "$NODE_IMAGE" build_node
  maybe_build "$JRE_IMAGE" build_jre
  maybe_build "$KAFKA_IMAGE" build_kafka
  image_exists "$KAFKA_UPSTREAM" || podman tag "$KAFKA_IMAGE" "$KAFKA_UPSTREAM"
  maybe_build "$REGISTRY_IMAGE" build_registry
  image_exists "$REGISTRY_UPSTREAM" || podman tag "$REGISTRY_IMAGE" "$REGISTRY_UPSTREAM"
  # The app image changes with every source edit: always rebuilt (cached layers make it quick).
  build_convoy
  log "images ready in $(since "$t0")"
  podman images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' \
    --filter reference='localhost/*' --filter reference='docker.io/apache/*' --filter reference='docker.io/apicurio/*'
}

build_jre() { build "$JRE_IMAGE" "$(context jre)"; }

cmd="${1:-status}"; shift || true
REBUILD=0
[ "${1:-}" = "--rebuild" ] && REBUILD=1
case "$cmd" in
  up)
    ensure_packages
    write_conf
    start_service
    print_env
    ;;
  down) stop_service ;;
  status)
    if api_answers; then echo "engine: API answers on unix://$SOCK"; else echo "engine: API not answering on unix://$SOCK"; fi
    for i in "$BASE_IMAGE" "$NODE_IMAGE" "$JRE_IMAGE" "$KAFKA_IMAGE" "$KAFKA_UPSTREAM" "$REGISTRY_IMAGE" "$REGISTRY_UPSTREAM" "$CONVOY_IMAGE"; do
      if command -v podman >/dev/null && image_exists "$i"; then echo "image $i: present"; else echo "image $i: missing"; fi
    done
    ;;
  images) images ;;
  env) print_env ;;
  *) die "usage: scripts/engine.sh up | images [--rebuild] | down | status | env" ;;
esac
