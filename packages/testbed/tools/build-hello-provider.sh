#!/usr/bin/env bash
# Builds the quickstart's example provider (packages/testbed/go/terraform-provider-hello, a real
# terraform-plugin-framework provider) for one version and platform into the tools cache.
# Usage: build-hello-provider.sh <version> <os>_<arch>
# Prints the executable's path (terraform-provider-hello_v<version>) on stdout; progress goes to
# stderr. Cached under a hash of the Go sources (and the Go version), the version and the
# platform: a cached executable is reused.
set -euo pipefail

TOOLS_DIR="${OPENDEPOT_TOOLS_DIR:-$HOME/.cache/opendepot/tools}"
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../go/terraform-provider-hello" && pwd)"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"

version="${1:?usage: build-hello-provider.sh <version> <os>_<arch>}"
platform="${2:?usage: build-hello-provider.sh <version> <os>_<arch>}"
case "$platform" in *_*) ;; *) echo "not a platform (<os>_<arch>): $platform" >&2; exit 2 ;; esac
log() { printf '[opendepot tools] %s\n' "$*" >&2; }

# shellcheck source=lib/run-logged.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/run-logged.sh"
# shellcheck source=lib/cached-go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cached-go-build.sh"

# One compound command, parsed whole before it runs (see build-tool.sh).
{
  srchash=$(go_source_hash "$SRC")
  out="$TOOLS_DIR/bin/terraform-provider-hello-$srchash/$version/$platform/terraform-provider-hello_v$version"
  # One build of a platform at a time, even when several processes ask for it at once.
  reuse_or_lock "$out" "$out"
  started=$SECONDS
  log "terraform-provider-hello $version $platform: building (first time only; cached in $TOOLS_DIR)"
  run_logged "terraform-provider-hello" "$TOOLS_DIR/logs" env -C "$SRC" GOOS="${platform%_*}" GOARCH="${platform#*_}" \
    go build -ldflags "-s -w -X main.version=$version" -o "$out.tmp" .
  mv "$out.tmp" "$out"
  log "terraform-provider-hello $version $platform: built in $((SECONDS - started))s"
  echo "$out"
  exit 0
}
