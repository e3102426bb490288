#!/usr/bin/env bash
# The one command that runs every check and test, from a fresh clone:
# install → generated code fresh → proto lint → format → lint → build/typecheck → unit → integration,
# then the Go SDK (go vet, go test; offline, from Debian's Go packages).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --for-tests
export PATH="$PWD/.jetflow/tools/bin:$PATH"
pnpm verify
bash scripts/go-check.sh
