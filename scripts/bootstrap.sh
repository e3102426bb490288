#!/usr/bin/env bash
# Installs what jetflow needs on a fresh machine with Node.js 20+: the pinned pnpm, nats-server
# and kubectl (Debian packages) when they are missing, and the dependencies from the lockfile.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Bold only on a terminal: in logs and CI output escape codes are noise.
if [ -t 2 ]; then
  say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
else
  say() { printf '==> %s\n' "$*" >&2; }
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "jetflow needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
export PATH="$PWD/.jetflow/tools/bin:$PATH"
if [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  say "installing pnpm $pnpm_version"
  # Global when we may (root, or a user-owned npm prefix); else into .jetflow/tools.
  if ! npm install -g --silent "pnpm@$pnpm_version" >/dev/null 2>&1; then
    npm install --silent --prefix "$PWD/.jetflow/tools" -g "pnpm@$pnpm_version" >/dev/null
  fi
  hash -r
fi

if [ -z "${NATS_SERVER_BIN:-}" ] && ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
  say "installing nats-server (Debian package)"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
  else
    echo "nats-server is missing: install it (apt-get install nats-server) or set NATS_SERVER_BIN" >&2
    exit 1
  fi
fi

# kubectl renders the Kubernetes manifests (`kubectl kustomize`) for deploy/'s tests. Debian 12's
# kubernetes-client is kubectl 1.20, the oldest the manifests are written for (docs/deploy.md).
if ! command -v kubectl >/dev/null 2>&1; then
  say "installing kubectl (Debian package kubernetes-client)"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client >/dev/null
  else
    echo "kubectl is missing: the manifest tests (deploy/) need it; install it (apt-get install kubernetes-client)" >&2
    exit 1
  fi
fi

# openssl makes the throw-away certificates of the TLS tests (e2e/src/certs.ts).
if ! command -v openssl >/dev/null 2>&1; then
  say "installing openssl (Debian package)"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
  else
    echo "openssl is missing: the TLS tests need it; install it (apt-get install openssl)" >&2
    exit 1
  fi
fi

say "installing dependencies"
pnpm install --frozen-lockfile --reporter=silent
