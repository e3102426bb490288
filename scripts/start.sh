#!/usr/bin/env bash
# The main command: installs what is needed, builds, starts a local nats-server (data kept in
# .jetflow/nats) and the five services, then runs until Ctrl-C and stops everything cleanly.
# Logs: .jetflow/logs/<name>.log
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.jetflow/tools/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

say "building"
pnpm --silent build

state="$PWD/.jetflow"
logs="$state/logs"
mkdir -p "$logs" "$state/nats"
port="${JETFLOW_NATS_PORT:-4250}"
nats_bin="${NATS_SERVER_BIN:-$(command -v nats-server || echo /usr/sbin/nats-server)}"

pids=()
stop_all() {
  trap - INT TERM EXIT
  say "stopping"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  say "stopped; logs are in $logs"
}
trap stop_all INT TERM EXIT

say "starting nats-server on 127.0.0.1:$port (data in $state/nats)"
"$nats_bin" -a 127.0.0.1 -p "$port" -js -sd "$state/nats" >"$logs/nats-server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done

export NATS_URL="nats://127.0.0.1:$port"
for service in state-manager orchestrator dispatcher result-ingestor api-gateway; do
  say "starting $service (log: $logs/$service.log)"
  node "services/$service/dist/main.js" >"$logs/$service.log" 2>&1 &
  pids+=($!)
done

say "jetflow is running (NATS at $NATS_URL). Press Ctrl-C to stop."
wait -n "${pids[@]}" || true
