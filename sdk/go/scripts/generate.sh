#!/usr/bin/env bash
# Regenerates jetflowpb/task.pb.go from proto/jetflow/v1/task.proto with Debian's protoc
# (protobuf-compiler) and a protoc-gen-go built from Debian's golang-google-protobuf-dev sources,
# so the generated code matches the protobuf runtime it is compiled against. No network.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="${GOCACHE:-$tools/cache}" \
  go build -o "$tools/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
protoc --plugin=protoc-gen-go="$tools/protoc-gen-go" -I "$root/proto" \
  --go_out="$here/jetflowpb" --go_opt=paths=source_relative \
  --go_opt=Mjetflow/v1/task.proto=jetflow.dev/sdk/go/jetflowpb \
  jetflow/v1/task.proto
mv "$here/jetflowpb/jetflow/v1/task.pb.go" "$here/jetflowpb/task.pb.go"
rm -rf "$here/jetflowpb/jetflow"
