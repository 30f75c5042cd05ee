#!/usr/bin/env bash
# The README's first command (`npm run quickstart`): runs the registry locally.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$REPO_ROOT"
pnpm exec tsc -b tsconfig.build.json
exec node --conditions=opendepot-source packages/quickstart/src/quickstart.ts "$@"
