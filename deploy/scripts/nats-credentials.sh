#!/usr/bin/env bash
# Creates or rotates jetflow's NATS credentials as Kubernetes Secrets.
#
#   deploy/scripts/nats-credentials.sh init   [--namespace NS] [--dry-run]
#   deploy/scripts/nats-credentials.sh rotate USER [--namespace NS] [--dry-run] [--no-restart]
#
# init: a random password for every user of deploy/k8s/base/nats/auth.conf, stored twice: in the
#   Secret jetflow-nats-<user> (NATS_USER, NATS_PASSWORD) that the service or worker reads, and as
#   a bcrypt hash in the Secret jetflow-nats-server-passwords (JETFLOW_NATS_PASSWORD_<USER>) that
#   nats-server reads.
# rotate: a new password for USER alone; then restarts the NATS StatefulSet (one node at a time)
#   and the Deployment jetflow-<USER>, so that both sides use it (docs/deploy.md).
# --dry-run prints the Secrets (YAML) instead of applying them: `... init --dry-run > secrets.yaml`.
#
# Needs kubectl, and htpasswd (Debian: apache2-utils) or python3 < 3.13 for the bcrypt hashes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
auth_conf="$here/../k8s/base/nats/auth.conf"

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

command=${1:-}
[ -n "$command" ] || usage
shift
user=""
if [ "$command" = rotate ]; then
  user=${1:-}
  [ -n "$user" ] || usage
  shift
fi
namespace=jetflow
dry_run=false
restart=true
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace=${2:?--namespace needs a value}; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    --no-restart) restart=false; shift ;;
    *) usage ;;
  esac
done

# The users auth.conf defines, in order: `{ user: "name", password: $VARIABLE, ... }`.
users=$(sed -n 's/^ *{ user: "\([a-z0-9-]*\)", password: \$\([A-Z0-9_]*\),.*/\1 \2/p' "$auth_conf")
[ -n "$users" ] || { echo "nats-credentials: no users found in $auth_conf" >&2; exit 1; }

variable_of() {
  awk -v u="$1" '$1 == u { print $2 }' <<<"$users"
}

new_password() {
  # 40 letters and digits; a leading letter keeps the config parser from reading a number.
  printf 'j%s' "$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 39)"
}

bcrypt() {
  if command -v htpasswd >/dev/null 2>&1; then
    htpasswd -nbBC 11 "" "$1" | tr -d ':\n' | sed 's/^\$2y\$/$2a$/'
  elif python3 -W ignore -c 'import crypt' >/dev/null 2>&1; then
    python3 -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2048)), end="")' "$1"
  else
    echo "nats-credentials: cannot make bcrypt hashes: install htpasswd (apache2-utils)" >&2
    exit 1
  fi
}

# Applies a Secret given as `name key=value...`, or prints it with --dry-run.
secret() {
  local name=$1
  shift
  local args=()
  for pair in "$@"; do args+=(--from-literal="$pair"); done
  local yaml
  yaml=$(kubectl create secret generic "$name" --namespace "$namespace" "${args[@]}" --dry-run=client -o yaml)
  if $dry_run; then
    printf -- '---\n%s\n' "$yaml"
  else
    kubectl apply -f - <<<"$yaml" >&2
  fi
}

case "$command" in
  init)
    server=()
    while read -r name variable; do
      password=$(new_password)
      secret "jetflow-nats-$name" "NATS_USER=$name" "NATS_PASSWORD=$password"
      # Double quotes: nats-server reads an unquoted $2a$... as a variable reference.
      server+=("$variable=\"$(bcrypt "$password")\"")
    done <<<"$users"
    secret jetflow-nats-server-passwords "${server[@]}"
    ;;
  rotate)
    variable=$(variable_of "$user")
    [ -n "$variable" ] || { echo "nats-credentials: auth.conf has no user \"$user\"" >&2; exit 1; }
    password=$(new_password)
    hash="\"$(bcrypt "$password")\""
    secret "jetflow-nats-$user" "NATS_USER=$user" "NATS_PASSWORD=$password"
    patch=$(printf '{"stringData":{"%s":%s}}' "$variable" "$(printf '%s' "$hash" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')")
    if $dry_run; then
      echo "kubectl --namespace $namespace patch secret jetflow-nats-server-passwords --type merge -p '$patch'"
      exit 0
    fi
    kubectl --namespace "$namespace" patch secret jetflow-nats-server-passwords --type merge -p "$patch" >&2
    if $restart; then
      # nats-server reads passwords from its environment at start: restart it, one node at a time
      # (lame duck mode moves clients to the other nodes), then the user's own pods.
      kubectl --namespace "$namespace" rollout restart statefulset/jetflow-nats >&2
      kubectl --namespace "$namespace" rollout status statefulset/jetflow-nats --timeout=15m >&2
      kubectl --namespace "$namespace" rollout restart "deployment/jetflow-$user" >&2
      kubectl --namespace "$namespace" rollout status "deployment/jetflow-$user" --timeout=10m >&2
    fi
    ;;
  *) usage ;;
esac
