#!/usr/bin/env bash
# The README's first command (`npm run quickstart`): runs the registry locally.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$REPO_ROOT"
if [ ! -f packages/operator/src/quickstart.ts ]; then
  say "the quickstart arrives with the modules issue (#3); nothing to run yet"
  exit 1
fi
pnpm exec tsc -b tsconfig.build.json
exec node --conditions=opendepot-source packages/operator/src/quickstart.ts "$@"
