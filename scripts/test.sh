#!/usr/bin/env bash
# The README's test command (`npm test`): sets up everything on a fresh machine (Node 24, pnpm,
# dependencies, the real test binaries), lints, type-checks and builds, then runs every suite.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$REPO_ROOT"
say "linting (npm run lint: biome's lint rules and the formatting; npm run lint:fix applies both)"
if ! npm run -s lint; then
  say "lint failed: fix the findings above (npm run lint:fix applies the safe fixes), then run npm test again"
  exit 1
fi
say "type-checking and building (tsc -b)"
pnpm exec tsc -b tsconfig.build.json
say "type-checking the tests, benchmarks and scripts"
pnpm exec tsc -p tsconfig.tests.json
exec node --conditions=opendepot-source scripts/run-tests.ts "$@"
