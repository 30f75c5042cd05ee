#!/usr/bin/env bash
# Installs the Debian packages the real-cluster test bed needs (containerd, runc, the CNI
# plugins, iptables, buildah, debootstrap) when any is missing. Idempotent and quiet when
# everything is there. Needs root (the cluster suite itself runs as root).
set -euo pipefail
log() { printf '[opendepot host] %s\n' "$*" >&2; }

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have containerd || need+=(containerd)
have runc || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
have iptables || need+=(iptables)
have buildah || need+=(buildah)
have debootstrap || need+=(debootstrap)
have conntrack || need+=(conntrack)
have ip || need+=(iproute2)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  log "missing Debian packages ${need[*]}, and not root to install them"
  exit 1
fi
log "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# One lock for concurrent callers; apt's own lock would fail the second one.
exec 9>/tmp/.opendepot-apt.lock
flock 9
apt-get update -qq >&2 || true
apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
