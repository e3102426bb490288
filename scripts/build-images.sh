#!/usr/bin/env bash
# Builds the container image of every jetflow service and of the example worker, from the root
# Dockerfile (multi-stage, production dependencies only, non-root).
#
#   scripts/build-images.sh [--push] [--dry-run]
#
# REGISTRY (default "jetflow") and TAG (default: the services' package version) name the images
# <REGISTRY>/<name>:<TAG>, as deploy/k8s expects. --push pushes them after building; --dry-run
# prints the docker commands without running them (no Docker engine needed).
set -euo pipefail
cd "$(dirname "$0")/.."

push=false
dry_run=false
for arg in "$@"; do
  case "$arg" in
    --push) push=true ;;
    --dry-run) dry_run=true ;;
    *) echo "usage: $0 [--push] [--dry-run]" >&2; exit 2 ;;
  esac
done

registry=${REGISTRY:-jetflow}
tag=${TAG:-$(node -p 'require("./services/api-gateway/package.json").version')}

# name, package, entry point
images=(
  "state-manager @jetflow/state-manager dist/main.js"
  "orchestrator @jetflow/orchestrator dist/main.js"
  "dispatcher @jetflow/dispatcher dist/main.js"
  "result-ingestor @jetflow/result-ingestor dist/main.js"
  "api-gateway @jetflow/api-gateway dist/main.js"
)
if [ -f examples/package.json ]; then
  images+=("examples @jetflow/examples dist/worker.js")
fi

run() {
  if $dry_run; then
    echo "$*"
  else
    "$@"
  fi
}

if ! $dry_run; then
  if ! command -v docker >/dev/null 2>&1; then
    echo "build-images: no docker command: install Docker (or run with --dry-run to see the commands)" >&2
    exit 1
  fi
  if ! docker info >/dev/null 2>&1; then
    echo "build-images: docker cannot reach a Docker engine (\"docker info\" failed): this machine has the client only; build on a machine with an engine, or run with --dry-run" >&2
    exit 1
  fi
fi

for spec in "${images[@]}"; do
  read -r name package entry <<<"$spec"
  run docker build --build-arg "PACKAGE=$package" --build-arg "ENTRY=$entry" -t "$registry/$name:$tag" .
  if $push; then
    run docker push "$registry/$name:$tag"
  fi
done
