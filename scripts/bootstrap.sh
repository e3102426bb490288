#!/usr/bin/env bash
# Installs what jetflow needs on a fresh machine with Node.js 20+: the pinned pnpm, nats-server
# (Debian package) when missing, and the dependencies from the lockfile; with --for-tests also what
# the tests need when missing (Debian's kubectl, chromium, prometheus, Go and its libraries for sdk/go).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# --for-tests: also what the test suite needs (kubectl, chromium, the Go toolchain).
for_tests=false
[ "${1:-}" = "--for-tests" ] && for_tests=true

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

# Debian packages, collected first and installed with one apt-get call. What running jetflow
# needs comes always; what only the tests need (`--for-tests`, as scripts/test.sh calls it) is
# left out of ./scripts/start.sh's install on a fresh machine.
apt_packages=()
need() { apt_packages+=("$@"); }

# nats-server 2.11 or newer. Debian 12's package is 2.9.10, whose clustered streams lose
# acknowledged messages when a node rejoins after a partition, and 2.10 (Debian 13) can skip a
# message that a consumer handed back while its leader changed (docs/deploy.md, "Which
# nats-server"). Debian testing's package (forky, 2.15 today) is fetched into .jetflow/tools with
# apt's own signature checks, never installed system-wide. NATS_SERVER_BIN, when set, is used as it is.
nats_min_minor=11
nats_version_ok() { # the nats-server at $1 is 2.<nats_min_minor> or newer
  local v
  v=$("$1" --version 2>/dev/null | sed -n 's/.*v\([0-9]*\)\.\([0-9]*\)\..*/\1 \2/p')
  [ -n "$v" ] && { set -- $v; [ "$1" -gt 2 ] || { [ "$1" -eq 2 ] && [ "$2" -ge "$nats_min_minor" ]; }; }
}
fetch_debian_testing_nats_server() { # into .jetflow/tools/bin/nats-server; fails without apt or network
  local apt_dir="$PWD/.jetflow/tools/apt" out="$PWD/.jetflow/tools/nats-server-deb"
  command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 || return 1
  rm -rf "$out" && mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$out" "$PWD/.jetflow/tools/bin"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian forky main" \
    >"$apt_dir/sources.list"
  local apt_opts=(-qq -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1
    -o APT::Sandbox::User="$(id -un)")
  apt-get "${apt_opts[@]}" update >/dev/null 2>&1 || return 1
  (cd "$out" && apt-get "${apt_opts[@]}" download nats-server >/dev/null 2>&1) || return 1
  dpkg-deb -x "$out"/nats-server_*.deb "$out/root" || return 1
  ln -sf ../nats-server-deb/root/usr/sbin/nats-server "$PWD/.jetflow/tools/bin/nats-server"
  nats_version_ok "$PWD/.jetflow/tools/bin/nats-server"
}
if [ -z "${NATS_SERVER_BIN:-}" ]; then
  nats_found=$(command -v nats-server || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; } || true)
  if [ -z "$nats_found" ] || ! nats_version_ok "$nats_found"; then
    say "fetching nats-server (Debian testing's package) into .jetflow/tools"
    if ! fetch_debian_testing_nats_server; then
      rm -f "$PWD/.jetflow/tools/bin/nats-server"
      if [ "$for_tests" = true ]; then
        echo "cannot fetch Debian testing's nats-server package; the tests need nats-server 2.11 or newer: set NATS_SERVER_BIN to one" >&2
        exit 1
      elif [ -n "$nats_found" ]; then
        # One local node (./scripts/start.sh) is not affected by the older servers' cluster faults.
        echo "warning: cannot fetch a newer nats-server; using $nats_found ($("$nats_found" --version 2>&1))" >&2
      else
        need nats-server
      fi
    fi
  fi
fi

if [ "$for_tests" = true ]; then
  # kubectl renders the Kubernetes manifests (`kubectl kustomize`) for deploy/'s tests. Debian 12's
  # kubernetes-client is kubectl 1.20, the oldest the manifests are written for (docs/deploy.md).
  command -v kubectl >/dev/null 2>&1 || need kubernetes-client
  # Debian's chromium runs the console's browser tests (playwright-core drives it; no download).
  [ -n "${CHROMIUM_BIN:-}" ] || [ -x /usr/bin/chromium ] || need chromium
  # The Go SDK (sdk/go) builds offline from Debian's Go toolchain and libraries (docs/workers.md).
  command -v go >/dev/null 2>&1 || need golang-go
  [ -d /usr/share/gocode/src/github.com/nats-io/nats.go ] || need golang-github-nats-io-go-nats-dev
  [ -d /usr/share/gocode/src/google.golang.org/protobuf ] || need golang-google-protobuf-dev
  command -v protoc >/dev/null 2>&1 || need protobuf-compiler
  # iproute2's `ip` makes the network namespaces of the partition test (it also needs root).
  command -v ip >/dev/null 2>&1 || need iproute2
  # openssl makes the throw-away certificates of the TLS tests (e2e/src/certs.ts).
  command -v openssl >/dev/null 2>&1 || need openssl
  # Debian's awscli (2.9.19) drives the Step Functions API's test (`aws stepfunctions --endpoint-url`).
  [ -x /usr/bin/aws ] || need awscli
  # Debian's prometheus: an end-to-end test scrapes the services with it, and promtool checks the
  # alert rules (deploy/observability).
  [ -n "${PROMETHEUS_BIN:-}" ] || command -v promtool >/dev/null 2>&1 || need prometheus
fi

if [ "${#apt_packages[@]}" -gt 0 ]; then
  say "installing ${apt_packages[*]} (Debian packages)"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null
  else
    echo "missing Debian packages: install them with apt-get install ${apt_packages[*]}" >&2
    exit 1
  fi
  # The package starts a prometheus service of its own on :9090 where an init system runs; the
  # tests start their own on free ports, so that one is stopped and disabled.
  if [[ " ${apt_packages[*]} " == *" prometheus "* ]]; then
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    ("${as_root[@]}" systemctl disable --now prometheus || "${as_root[@]}" service prometheus stop) >/dev/null 2>&1 || true
  fi
fi

say "installing dependencies"
pnpm install --frozen-lockfile --reporter=silent
