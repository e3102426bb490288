#!/usr/bin/env bash
# Vets and tests the Go SDK (sdk/go) and builds the Go example worker, offline: their
# dependencies come from Debian's Go packages (vendor/ made by sdk/go/scripts/vendor-debian.sh),
# and GOPROXY=off makes any attempt to download fail instead of reaching the network.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS=-mod=vendor GOPROXY=off
unformatted=$(gofmt -l sdk/go examples/go-worker | grep -v /vendor/ || true)
if [ -n "$unformatted" ]; then
  echo "not gofmt-formatted (run gofmt -w): $unformatted" >&2
  exit 1
fi
for module in sdk/go examples/go-worker; do
  bash sdk/go/scripts/vendor-debian.sh "$module"
  (cd "$module" && go vet ./... && go test ./...)
done
# The generated Go code is committed: it must match task.proto.
bash sdk/go/scripts/generate.sh
git diff --exit-code -- sdk/go/jetflowpb || {
  echo "sdk/go/jetflowpb is stale: run bash sdk/go/scripts/generate.sh and commit the result" >&2
  exit 1
}
