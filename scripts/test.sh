#!/usr/bin/env bash
# The README's test command (`npm test`): sets up everything on a fresh machine (Node 24, pnpm,
# dependencies, the real test binaries), type-checks and builds, then runs every suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$REPO_ROOT"
say "type-checking and building (tsc -b)"
pnpm exec tsc -b tsconfig.build.json
say "type-checking the tests, benchmarks and scripts"
pnpm exec tsc -p tsconfig.tests.json
exec node --conditions=opendepot-source scripts/run-tests.ts "$@"
