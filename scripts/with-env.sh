#!/usr/bin/env bash
# Runs a command with the project's toolchain (Node 24, pnpm) and installed dependencies.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec "$@"
