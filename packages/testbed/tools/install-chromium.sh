#!/usr/bin/env bash
# Installs Debian's chromium (the real browser of the browse UI's browser tests) when it is
# missing, and prints its path. Idempotent and quiet when it is there. Needs root to install.
# Kept apart from install-host-packages.sh so the cluster suite never pulls a browser in.
set -euo pipefail
log() { printf '[opendepot host] %s\n' "$*" >&2; }

found() { command -v chromium 2>/dev/null || true; }
path="$(found)"
if [ -z "$path" ]; then
  if [ "$(id -u)" != 0 ]; then
    log "Debian's chromium is missing, and not root to install it (apt-get install chromium)"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # The same lock as install-host-packages.sh: apt's own lock would fail a concurrent caller.
  exec 9>/tmp/.opendepot-apt.lock
  flock 9
  path="$(found)"
  if [ -z "$path" ]; then
    log "installing Debian's chromium"
    apt-get update -qq >&2 || true
    # Fonts so screenshots show text; --no-install-recommends keeps the rest of the desktop out.
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
    path="$(found)"
  fi
fi
[ -n "$path" ] || { log "chromium is still missing after apt-get install"; exit 1; }
printf '%s\n' "$path"
