#!/usr/bin/env bash
# Builds the vulnerability-scan fixtures into the tools cache, from the Go module proxy:
#   build-scan-fixture.sh db
#     a Trivy cache directory whose db/ holds a small vulnerability database with a few real Go
#     advisories (packages/testbed/go/trivy-fixture-db, written with Trivy's own DB library)
#   build-scan-fixture.sh provider <golang.org/x/text version> <provider version> <os>_<arch> [padding MiB]
#     terraform-provider-vulnerable (packages/testbed/go/terraform-provider-vulnerable), a real Go
#     executable whose embedded module info names that golang.org/x/text version; with a padding,
#     it also embeds that many MiB of random bytes (go:embed, padded.go), as big as real providers
# Prints the path on stdout; progress goes to stderr. Cached under a hash of the Go sources (and
# the Go version) and the arguments: a cached result is reused.
set -euo pipefail

TOOLS_DIR="${OPENDEPOT_TOOLS_DIR:-$HOME/.cache/opendepot/tools}"
GO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../go" && pwd)"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"
usage="usage: build-scan-fixture.sh db | provider <x/text version> <version> <os>_<arch> [padding MiB]"
log() { printf '[opendepot tools] %s\n' "$*" >&2; }

# shellcheck source=lib/run-logged.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/run-logged.sh"
# shellcheck source=lib/cached-go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cached-go-build.sh"

# One compound command, parsed whole before it runs (see build-tool.sh).
{
  what="${1:?$usage}"
  case "$what" in
  db) src="$GO_DIR/trivy-fixture-db" ;;
  provider)
    src="$GO_DIR/terraform-provider-vulnerable"
    text="${2:?$usage}" version="${3:?$usage}" platform="${4:?$usage}"
    case "$platform" in *_*) ;; *) echo "not a platform (<os>_<arch>): $platform" >&2; exit 2 ;; esac
    padding="${5:-0}"
    case "$padding" in '' | *[!0-9]*) echo "not a padding in MiB: $padding" >&2; exit 2 ;; esac
    # Padded builds live beside the plain ones, one directory per size.
    variant="$platform"
    if [ "$padding" -gt 0 ]; then variant="$platform-padded-${padding}mib"; fi
    ;;
  *) echo "$usage" >&2; exit 2 ;;
  esac
  srchash=$(go_source_hash "$src")
  if [ "$what" = db ]; then
    out="$TOOLS_DIR/bin/trivy-fixture-db-$srchash/cache"
    ready="$out/db/metadata.json"
  else
    out="$TOOLS_DIR/bin/terraform-provider-vulnerable-$srchash/text-$text/$version/$variant/terraform-provider-vulnerable_v$version"
    ready="$out"
  fi
  reuse_or_lock "$out" "$ready"
  started=$SECONDS
  log "$(basename "$src") $*: building (first time only; cached in $TOOLS_DIR)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -r "$src/." "$work/"
  if [ "$what" = db ]; then
    run_logged "trivy-fixture-db" "$TOOLS_DIR/logs" sh -c "cd '$work' && go build -o '$work/trivy-fixture-db' . && rm -rf '$out.tmp' && '$work/trivy-fixture-db' '$out.tmp'"
  else
    tags=""
    if [ "$padding" -gt 0 ]; then
      # Random, so it does not compress: the zip is as big as the executable.
      head -c "$((padding * 1024 * 1024))" /dev/urandom >"$work/padding.bin"
      tags="-tags padded"
    fi
    # The go.sum lists the versions tests use; another one is looked up on the module proxy.
    run_logged "terraform-provider-vulnerable" "$TOOLS_DIR/logs" env -C "$work" GOOS="${platform%_*}" GOARCH="${platform#*_}" \
      sh -c "go mod edit -require=golang.org/x/text@$text && go build -mod=mod $tags -ldflags '-s -w -X main.version=$version' -o '$out.tmp' ."
  fi
  rm -rf "$out" && mv "$out.tmp" "$out"
  log "$(basename "$src") $*: built in $((SECONDS - started))s"
  echo "$out"
  exit 0
}
