#!/usr/bin/env bash
# Builds the vendor/ directory of a Go module of this repository (sdk/go, examples/go-worker)
# from the Go libraries Debian installs in /usr/share/gocode (golang-github-nats-io-go-nats-dev,
# golang-google-protobuf-dev and what they depend on), so that `go build`, `go vet` and
# `go test` run with -mod=vendor and never fetch anything. vendor/ is not committed (1.4 MB of
# third-party sources); this script recreates it in a second.
#
# Usage: vendor-debian.sh <module-dir>     (a module whose go.mod requires jetflow.dev/sdk/go
#                                          gets the SDK vendored too, from the replace target)
# Outside this repository, use the ordinary module proxy instead: go.mod lists real versions.
set -euo pipefail
sdk="$(cd "$(dirname "$0")/.." && pwd)"
mod="$(cd "${1:?usage: vendor-debian.sh <module-dir>}" && pwd)"
src=/usr/share/gocode/src
if [ ! -d "$src/github.com/nats-io/nats.go" ] || [ ! -d "$src/google.golang.org/protobuf" ]; then
  echo "Debian's Go libraries are missing: apt-get install golang-github-nats-io-go-nats-dev golang-google-protobuf-dev" >&2
  exit 1
fi

# module path, version (as go.mod requires it), go version of its go.mod
modules=(
  "github.com/nats-io/nats.go v1.22.1 1.16"
  "github.com/nats-io/nkeys v0.3.0 1.16"
  "github.com/nats-io/nuid v1.0.1 -"
  "golang.org/x/crypto v0.4.0 1.17"
  "google.golang.org/protobuf v1.28.1 1.11"
)
# What the SDK imports; `go list -deps` (GOPATH mode, Debian's tree) adds their dependencies.
roots=(
  github.com/nats-io/nats.go
  google.golang.org/protobuf/proto
  google.golang.org/protobuf/reflect/protoreflect
  google.golang.org/protobuf/runtime/protoimpl
  google.golang.org/protobuf/types/known/timestamppb
)
packages=$(GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= go list -deps \
  -f '{{if not .Standard}}{{.ImportPath}}{{end}}' "${roots[@]}" | sort -u)

rm -rf "$mod/vendor"
mkdir -p "$mod/vendor"
txt="$mod/vendor/modules.txt"
: >"$txt"
for entry in "${modules[@]}"; do
  read -r path version gover <<<"$entry"
  if [ "$gover" = "-" ]; then echo "# $path $version" >>"$txt"; echo "## explicit" >>"$txt"
  else echo "# $path $version" >>"$txt"; echo "## explicit; go $gover" >>"$txt"; fi
  for pkg in $packages; do
    case "$pkg" in "$path" | "$path"/*) ;; *) continue ;; esac
    echo "$pkg" >>"$txt"
    mkdir -p "$mod/vendor/$pkg"
    find "$src/$pkg" -maxdepth 1 -type f -name '*.go' ! -name '*_test.go' -exec cp {} "$mod/vendor/$pkg/" \;
  done
  [ -f "$src/$path/LICENSE" ] && cp "$src/$path/LICENSE" "$mod/vendor/$path/"
done

# A module that uses the SDK from this repository (replace jetflow.dev/sdk/go => <dir>).
replace=$(sed -n 's|^replace jetflow.dev/sdk/go => \(.*\)$|\1|p' "$mod/go.mod")
if [ -n "$replace" ]; then
  echo "# jetflow.dev/sdk/go v0.0.0-00010101000000-000000000000 => $replace" >>"$txt"
  echo "## explicit; go 1.19" >>"$txt"
  for pkg in "" /jetflowpb; do
    echo "jetflow.dev/sdk/go$pkg" >>"$txt"
    mkdir -p "$mod/vendor/jetflow.dev/sdk/go$pkg"
    find "$sdk$pkg" -maxdepth 1 -type f -name '*.go' ! -name '*_test.go' -exec cp {} "$mod/vendor/jetflow.dev/sdk/go$pkg/" \;
  done
  echo "# jetflow.dev/sdk/go => $replace" >>"$txt"
fi
