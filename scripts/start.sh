#!/usr/bin/env bash
# The main command: installs what is needed, builds, starts a local nats-server with JetStream
# (data kept in .jetflow/nats), the five services and the example workers, registers the example
# workflows, runs one and shows it live, then keeps running until Ctrl-C and stops everything
# cleanly (workers first, NATS last). Closing the terminal (SIGHUP) or SIGTERM stops everything
# the same way. Logs: .jetflow/logs/<name>.log (this script's own: start.log).
#
# One jetflow per folder: two nats-servers must never share the JetStream store .jetflow/nats. A
# second start.sh refuses to start while the first runs, or while any process still uses the
# store (a server left by a killed start.sh), and names it (pid, port).
#
# Environment (all optional):
#   JETFLOW_ADDR       host:port of the gRPC API (default 127.0.0.1:50051; a free port when busy)
#   JETFLOW_HTTP_PORT  port of the web console and HTTP/JSON API (default 8090; a free port when busy)
#   JETFLOW_NATS_PORT  port of the local nats-server (default 4250; a free port when busy)
#   JETFLOW_EXAMPLE    example to run at start (default order-fulfilment; "none" runs none)
#   LOG_LEVEL          level of the services' and worker's logs (default info)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [ -t 1 ]; then
  b=$'\033[1m' d=$'\033[2m' r=$'\033[31m' g=$'\033[32m' n=$'\033[0m'
else
  b='' d='' r='' g='' n=''
fi
say() { printf '%s==> %s%s\n' "$b" "$*" "$n"; }
info() { printf '    %s\n' "$*"; }
fail() { printf '%serror:%s %s\n' "$r" "$n" "$*" >&2; }

state="$root/.jetflow"
logs="$state/logs"
run="$state/run"
mkdir -p "$logs" "$run" "$state/nats"

# The nats-server processes that use the store: "<pid> <port>" lines. Matched on the store option
# of the command line this script gives them (any NATS_SERVER_BIN); awk itself, whose arguments
# hold the same text, is left out.
servers_on_store() {
  ps -A -o pid= -o args= 2>/dev/null | awk -v sd="-sd $state/nats" '
    $2 !~ /awk$/ && (index($0, sd " ") || substr($0, length($0) - length(sd) + 1) == sd) {
      port = "?"
      for (i = 2; i < NF; i++) if ($i == "-p") port = $(i + 1)
      print $1, port
    }'
}

# One instance per folder: two nats-servers must never share a store directory.
if [ -f "$run/start.pid" ] && kill -0 "$(cat "$run/start.pid")" 2>/dev/null; then
  running=$(servers_on_store | head -n 1)
  fail "jetflow is already running from this folder (start.sh pid $(cat "$run/start.pid")${running:+, nats-server pid ${running% *} on port ${running#* }}); stop it with Ctrl-C in its terminal first"
  exit 1
fi
leftover=$(servers_on_store | head -n 1)
if [ -n "$leftover" ]; then
  fail "a nats-server (pid ${leftover% *}, port ${leftover#* }) still uses the JetStream store .jetflow/nats; two servers must not share a store. It is left from an earlier start that did not stop cleanly: stop it with kill -INT ${leftover% *} (and the services listed in .jetflow/run/pids), then start again"
  exit 1
fi
echo $$ >"$run/start.pid"
: >"$run/pids"

pids=()
names=()
stopping=0

# Starts a background process in its own process group, so Ctrl-C in the terminal reaches only
# this script, which then stops every process in order.
launch() {
  local name=$1
  shift
  if [ -f "$logs/$name.log" ]; then mv -f "$logs/$name.log" "$logs/$name.previous.log"; fi
  set -m
  "$@" >"$logs/$name.log" 2>&1 </dev/null &
  set +m
  pids+=("$!")
  names+=("$name")
  echo "$! $name" >>"$run/pids"
}

# Waits up to 20 s for the process at `index` to exit (then kills it) and reports its status.
stop_one() {
  local index=$1
  local pid=${pids[$index]} name=${names[$index]} deadline=$((SECONDS + 20)) rc=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      fail "$name did not stop within 20 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.1
  done
  wait "$pid" 2>/dev/null || rc=$?
  if [ "$rc" -ne 0 ]; then
    fail "$name exited with status $rc (log: ${logs#"$root"/}/$name.log)"
    return 1
  fi
}

stop_all() {
  local status=$1 clean=0 i
  trap - EXIT
  # A second Ctrl-C, hang-up or SIGTERM (a supervisor repeating itself, `timeout` passing its own
  # on) must not interrupt the orderly stop: killed mid-way, the script left the services running.
  # The stop is bounded anyway: stop_one kills whatever has not stopped within 20 s.
  trap '' INT HUP TERM
  # The orderly stop goes on whatever fails on the way (a write to a closed terminal included).
  set +e
  stopping=1
  if [ "${#pids[@]}" -gt 0 ]; then
    say "stopping"
    # Workers first (they finish their tasks), then the services, then NATS, which they need to drain.
    for i in "${!names[@]}"; do
      if [ "${names[$i]}" = examples-worker ]; then
        kill -TERM "${pids[$i]}" 2>/dev/null || true
        stop_one "$i" || clean=1
      fi
    done
    for i in "${!names[@]}"; do
      case ${names[$i]} in
        examples-worker | nats-server) ;;
        *) kill -TERM "${pids[$i]}" 2>/dev/null || true ;;
      esac
    done
    for i in "${!names[@]}"; do
      case ${names[$i]} in
        examples-worker | nats-server) ;;
        *) stop_one "$i" || clean=1 ;;
      esac
    done
    for i in "${!names[@]}"; do
      if [ "${names[$i]}" = nats-server ]; then
        # SIGINT is nats-server's clean shutdown (SIGTERM exits with status 1).
        kill -INT "${pids[$i]}" 2>/dev/null || true
        stop_one "$i" || clean=1
      fi
    done
  fi
  rm -f "$run/start.pid" "$run/pids" "$run/address"
  if [ "$clean" -eq 0 ]; then
    say "stopped cleanly; logs are in ${logs#"$root"/}/"
  else
    status=1
  fi
  exit "$status"
}
# The terminal was closed: nobody reads this script's output any more, and a write to the
# hung-up terminal would fail; report into start.log instead and stop everything as on Ctrl-C.
on_hangup() {
  exec >>"$logs/start.log" 2>&1 </dev/null
  printf '%s: the terminal was closed (SIGHUP)\n' "$(date -u +%FT%TZ)"
  stop_all 129
}
trap 'stop_all 0' INT TERM
trap on_hangup HUP
trap 'stop_all $?' EXIT

bash scripts/bootstrap.sh
export PATH="$root/.jetflow/tools/bin:$PATH"

say "building"
pnpm exec tsc -b services/state-manager services/orchestrator services/dispatcher services/result-ingestor \
  services/api-gateway examples packages/cli
pnpm --filter @jetflow/console build >"$logs/console-build.log" 2>&1 || { fail "the console did not build; see ${logs#"$root"/}/console-build.log"; exit 1; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'
}

nats_port=${JETFLOW_NATS_PORT:-4250}
if port_busy "$nats_port"; then
  if [ -n "${JETFLOW_NATS_PORT:-}" ]; then
    fail "port $nats_port (JETFLOW_NATS_PORT) is in use"
    exit 1
  fi
  nats_port=$(free_port)
  info "port 4250 is in use; NATS takes port $nats_port"
fi
address=${JETFLOW_ADDR:-127.0.0.1:50051}
if port_busy "${address##*:}"; then
  if [ -n "${JETFLOW_ADDR:-}" ]; then
    fail "the API address $address (JETFLOW_ADDR) is in use"
    exit 1
  fi
  address="127.0.0.1:$(free_port)"
  info "port 50051 is in use; the API takes $address"
fi
http_port=${JETFLOW_HTTP_PORT:-8090}
if port_busy "$http_port"; then
  [ -n "${JETFLOW_HTTP_PORT:-}" ] && { fail "port $http_port (JETFLOW_HTTP_PORT) is in use"; exit 1; }
  http_port=$(free_port)
  info "port 8090 is in use; the web console and HTTP API take port $http_port"
fi
export JETFLOW_ADDR=$address
export NATS_URL="nats://127.0.0.1:$nats_port"
echo "$address" >"$run/address"

# Waits until `name`'s log contains `pattern`, failing early when the process has exited.
wait_ready() {
  local name=$1 pattern=$2 i pid=
  for i in "${!names[@]}"; do [ "${names[$i]}" = "$name" ] && pid=${pids[$i]}; done
  for _ in $(seq 1 600); do
    grep -q -- "$pattern" "$logs/$name.log" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      fail "$name exited while starting; the end of ${logs#"$root"/}/$name.log:"
      tail -n 20 "$logs/$name.log" >&2
      return 1
    fi
    sleep 0.1
  done
  fail "$name did not start within 60 s (log: ${logs#"$root"/}/$name.log)"
  return 1
}

nats_bin=${NATS_SERVER_BIN:-$(command -v nats-server || echo /usr/sbin/nats-server)}
say "starting nats-server on 127.0.0.1:$nats_port ${d}(JetStream data in .jetflow/nats)${n}"
launch nats-server "$nats_bin" -a 127.0.0.1 -p "$nats_port" -js -sd "$state/nats" -n jetflow-local
wait_ready nats-server "Server is ready"

services=(state-manager orchestrator dispatcher result-ingestor api-gateway)
say "starting the engine: ${services[*]}"
say "${d}the API on $address has no TLS and no authentication: fine on loopback only (docs/security.md)${n}"
for service in "${services[@]}"; do
  launch "$service" env GRPC_ADDR="$address" HTTP_PORT="$http_port" node "$root/services/$service/dist/main.js"
done
for service in "${services[@]}"; do wait_ready "$service" '"msg":"service started"'; done

say "starting the example workers"
launch examples-worker node "$root/examples/dist/worker.js"
wait_ready examples-worker '"msg":"worker started"'

# How the user runs the CLI from where they ran this script, for the hints it and the CLI print.
case $0 in
  */start.sh) cli_command="${0%start.sh}jetflow" ;;
  *) cli_command=./jetflow ;;
esac
jetflow() { JETFLOW_COMMAND="$cli_command" node "$root/packages/cli/dist/main.js" "$@"; }

say "registering the example workflows"
jetflow register examples/workflows/*.asl.yaml

example=${JETFLOW_EXAMPLE:-order-fulfilment}
if [ "$example" != none ]; then
  say "running the $example example"
  execution=$(jetflow start "$example" --input "@examples/inputs/$example.json" --quiet)
  if jetflow watch "$execution"; then
    say "${g}the $example execution $execution succeeded${n}"
  elif [ "$stopping" -eq 0 ]; then
    fail "the $example execution $execution did not succeed: $cli_command describe $execution"
  fi
fi

say "jetflow is running. Press Ctrl-C to stop."
info "web console  http://${address%:*}:$http_port/ ${d}(HTTP/JSON API under /v1, docs/api.md)${n}"
info "gRPC API     $address"
info "NATS         $NATS_URL   (workers: export NATS_URL=$NATS_URL, see docs/workers.md)"
info "logs         ${logs#"$root"/}/<name>.log ${d}(nats-server, ${services[*]}, examples-worker)${n}"
info "try          $cli_command list"
info "             $cli_command start monthly-invoicing --input @examples/inputs/monthly-invoicing.json --watch"
info "             more in docs/cli.md and docs/examples.md"

# Returns when any process exits on its own: that is a failure, reported before stopping the rest.
wait -n "${pids[@]}" || true
for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then
    fail "${names[$i]} exited unexpectedly; the end of ${logs#"$root"/}/${names[$i]}.log:"
    tail -n 20 "$logs/${names[$i]}.log" >&2
  fi
done
stop_all 1
