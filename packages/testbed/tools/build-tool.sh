#!/usr/bin/env bash
# Builds one real test component from the Go module proxy into the tools cache.
# Usage: build-tool.sh <etcd|kube-apiserver|kubectl|kubelet|kube-controller-manager|kube-scheduler|kube-proxy|coredns|tofu|terraform|helm|dex|minio|fake-gcs-server|trivy>
# Prints the binary's path on stdout; progress goes to stderr. Idempotent: a cached binary is reused.
# Each tool gets its own wrapper module: sharing one would let minimal version selection raise
# kube-apiserver's pinned dependencies and break its build.
set -euo pipefail

TOOLS_DIR="${OPENDEPOT_TOOLS_DIR:-$HOME/.cache/opendepot/tools}"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"
mkdir -p "$TOOLS_DIR/bin" "$TOOLS_DIR/src" "$TOOLS_DIR/logs"

K8S_VERSION=v1.33.13
ETCD_VERSION=v3.5.33
TOFU_VERSION=v1.12.6
TERRAFORM_VERSION=v1.5.7
HELM_VERSION=v3.21.4
# The v2.45.1 commit (11d2eeb52b42) as a pseudo-version: the module path has no /v2, and the
# proxy answers 403 (not 404) when `go get` resolves a bare commit, which stops it.
DEX_MODULE_VERSION=v0.0.0-20260303133905-11d2eeb52b42
DEX_VERSION=v2.45.1
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c # RELEASE.2025-10-15 (9e49d5e7a648) is refused by the module proxy here (403); this is the newest served commit
FAKE_GCS_VERSION=v1.55.1
TRIVY_VERSION=v0.74.0
COREDNS_VERSION=v1.14.7

tool="${1:?usage: build-tool.sh <tool>}"
log() { printf '[opendepot tools] %s\n' "$*" >&2; }

# shellcheck source=lib/run-logged.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/run-logged.sh"

wrapper() { # wrapper <name> <go.mod contents>
  local dir="$TOOLS_DIR/src/$1"
  rm -rf "$dir"; mkdir -p "$dir"
  printf '%s\n' "$2" >"$dir/go.mod"
  printf 'package tools\n' >"$dir/tools.go"
  echo "$dir"
}

# Builds one command of k8s.io/kubernetes (kube-apiserver, kubectl at its version, and the node
# components of the real-cluster test bed) in a wrapper module whose replace block maps the staging modules to
# their published versions, with the version stamped as the release build does.
build_kubernetes() {
  local cmd="$1" stg="v0.${K8S_VERSION#v1.}" minor gomod content
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  content="module local/$cmd

$(grep -m1 '^go ' "$gomod")
$(grep '^godebug' "$gomod" || true)

replace (
$(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#	\1 => \1 '"$stg"'#p' "$gomod")
)"
  dir=$(wrapper "$cmd" "$content")
  cd "$dir"
  local ld="-s -w" d p
  d=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=$d"
  done
  run_logged "$tool" "$TOOLS_DIR/logs" sh -c "go get k8s.io/kubernetes/cmd/$cmd@$K8S_VERSION && go build -p 2 -ldflags '$ld' -o '$out.tmp' k8s.io/kubernetes/cmd/$cmd"
}

build() {
  case "$tool" in
  etcd)
    dir=$(wrapper etcd "module local/etcd

go 1.25.0")
    cd "$dir"
    run_logged "$tool" "$TOOLS_DIR/logs" sh -c "go get go.etcd.io/etcd/server/v3@$ETCD_VERSION && go build -ldflags '-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION' -o '$out.tmp' go.etcd.io/etcd/server/v3"
    ;;
  kube-apiserver|kubectl|kubelet|kube-controller-manager|kube-scheduler|kube-proxy)
    build_kubernetes "$tool"
    ;;
  tofu)
    dir=$(wrapper tofu "module local/tofu

go 1.26.6

godebug tlsmlkem=0

replace github.com/hashicorp/hcl/v2 => github.com/opentofu/hcl/v2 v2.20.2-0.20251021132045-587d123c2828")
    cd "$dir"
    run_logged "$tool" "$TOOLS_DIR/logs" sh -c "go get github.com/opentofu/opentofu/cmd/tofu@$TOFU_VERSION && go build -ldflags '-s -w -X github.com/opentofu/opentofu/version.dev=no' -o '$out.tmp' github.com/opentofu/opentofu/cmd/tofu"
    ;;
  terraform)
    dir=$(wrapper terraform "module local/terraform

go 1.18")
    cd "$dir"
    # Terraform 1.5.7 predates Go's linkname checks; -checklinkname=0 keeps its old x/sys linking.
    run_logged "$tool" "$TOOLS_DIR/logs" sh -c "go get github.com/hashicorp/terraform@$TERRAFORM_VERSION && go build -ldflags '-s -w -checklinkname=0' -o '$out.tmp' github.com/hashicorp/terraform"
    ;;
  helm)
    dir=$(wrapper helm "module local/helm

go 1.26.0")
    cd "$dir"
    local hl="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=33 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=33"
    run_logged "$tool" "$TOOLS_DIR/logs" sh -c "go get helm.sh/helm/v3/cmd/helm@$HELM_VERSION && go build -ldflags '$hl' -o '$out.tmp' helm.sh/helm/v3/cmd/helm"
    ;;
  dex)
    dir=$(wrapper dex "module local/dex

go 1.25.0")
    cd "$dir"
    run_logged "$tool" "$TOOLS_DIR/logs" sh -c "go get github.com/dexidp/dex/cmd/dex@$DEX_MODULE_VERSION && go build -ldflags '-s -w -X main.version=$DEX_VERSION' -o '$out.tmp' github.com/dexidp/dex/cmd/dex"
    ;;
  minio)
    dir=$(wrapper minio "module local/minio

go 1.24.0")
    cd "$dir"
    run_logged "$tool" "$TOOLS_DIR/logs" sh -c "go get github.com/minio/minio@$MINIO_VERSION && go build -tags kqueue -ldflags '-s -w' -o '$out.tmp' github.com/minio/minio"
    ;;
  fake-gcs-server)
    dir=$(wrapper fake-gcs-server "module local/fakegcs

go 1.25.8")
    cd "$dir"
    run_logged "$tool" "$TOOLS_DIR/logs" sh -c "go get github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION && go build -ldflags '-s -w' -o '$out.tmp' github.com/fsouza/fake-gcs-server"
    ;;
  coredns)
    dir=$(wrapper coredns "module local/coredns

go 1.26.0")
    cd "$dir"
    run_logged "$tool" "$TOOLS_DIR/logs" sh -c "go get github.com/coredns/coredns@$COREDNS_VERSION && go build -ldflags '-s -w' -o '$out.tmp' github.com/coredns/coredns"
    ;;
  trivy)
    dir=$(wrapper trivy "module local/trivy

go 1.26.3")
    cd "$dir"
    run_logged "$tool" "$TOOLS_DIR/logs" sh -c "go get github.com/aquasecurity/trivy/cmd/trivy@$TRIVY_VERSION && GOEXPERIMENT=jsonv2 go build -ldflags '-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=${TRIVY_VERSION#v}' -o '$out.tmp' github.com/aquasecurity/trivy/cmd/trivy"
    ;;
  *) echo "unknown tool: $tool" >&2; exit 2 ;;
  esac
  mv "$out.tmp" "$out"
  log "$tool: built $out in $((SECONDS - started))s"
  echo "$out"
}

out_path() {
  case "$tool" in
  etcd) echo "$TOOLS_DIR/bin/etcd-$ETCD_VERSION" ;;
  kube-apiserver|kubectl|kubelet|kube-controller-manager|kube-scheduler|kube-proxy) echo "$TOOLS_DIR/bin/$tool-$K8S_VERSION" ;;
  tofu) echo "$TOOLS_DIR/bin/tofu-$TOFU_VERSION" ;;
  terraform) echo "$TOOLS_DIR/bin/terraform-$TERRAFORM_VERSION" ;;
  helm) echo "$TOOLS_DIR/bin/helm-$HELM_VERSION" ;;
  dex) echo "$TOOLS_DIR/bin/dex-$DEX_VERSION" ;;
  minio) echo "$TOOLS_DIR/bin/minio-2026-02-12" ;;
  fake-gcs-server) echo "$TOOLS_DIR/bin/fake-gcs-server-$FAKE_GCS_VERSION" ;;
  trivy) echo "$TOOLS_DIR/bin/trivy-$TRIVY_VERSION" ;;
  coredns) echo "$TOOLS_DIR/bin/coredns-$COREDNS_VERSION" ;;
  *) echo "unknown tool: $tool" >&2; exit 2 ;;
  esac
}
# The main part is one compound command, parsed whole before it runs: editing this file while a
# long build runs must not make bash read the rest from a shifted offset.
{
  out=$(out_path)
  if [ -x "$out" ]; then echo "$out"; exit 0; fi
  # One build of a tool at a time, even when several test processes ask for it at once.
  exec 9>"$TOOLS_DIR/.lock-$tool"
  flock 9
  if [ -x "$out" ]; then echo "$out"; exit 0; fi
  started=$SECONDS
  log "$tool: building (first time only; cached in $TOOLS_DIR)"
  build
  exit 0
}
