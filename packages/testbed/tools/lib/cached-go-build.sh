# Sourced by the test bed's build scripts of Go sources kept in packages/testbed/go.
# go_source_hash <dir>: a short hash of the Go sources (and the Go version) in <dir>, the cache key.
go_source_hash() {
  (cd "$1" && { go version; find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -c1-16)
}

# reuse_or_lock <out> <ready>: when <ready> exists the build is cached: prints <out> and exits.
# Otherwise takes the lock of <out>'s directory (fd 9), so one process builds while the others
# wait, and checks again once it holds it.
reuse_or_lock() {
  if [ -e "$2" ]; then echo "$1"; exit 0; fi
  mkdir -p "$(dirname "$1")" "$TOOLS_DIR/logs"
  exec 9>"$(dirname "$1")/.lock"
  flock 9
  if [ -e "$2" ]; then echo "$1"; exit 0; fi
}
