#!/usr/bin/env bash
# Start LocalStack (host mode, no Docker) and moto's server in the background, wait until both are
# healthy, and write the client environment to $AWS_MCP_EMULATOR_HOME/run/env.sh.
# Idempotent: an emulator that already answers healthy on its port is left alone.
#
# Env: LOCALSTACK_PORT (4566), MOTO_PORT (4567), AWS_MCP_EMULATOR_HOME (~/.cache/aws-mcp-emulators),
#      AWS_MCP_EMULATOR_START_TIMEOUT (seconds, 120).
# Files: $AWS_MCP_EMULATOR_HOME/run/{localstack,moto}.{log,pid}, env.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home_dir="${AWS_MCP_EMULATOR_HOME:-$HOME/.cache/aws-mcp-emulators}"
venv="$home_dir/venv"
run_dir="$home_dir/run"
timeout="${AWS_MCP_EMULATOR_START_TIMEOUT:-120}"
declare -A port=([localstack]="${LOCALSTACK_PORT:-4566}" [moto]="${MOTO_PORT:-4567}")
# What /proc/<pid>/cmdline must contain for a pid file to still mean "our emulator".
declare -A pattern=([localstack]="localstack.runtime.main" [moto]="moto_server")

mkdir -p "$run_dir"
# One start/stop at a time: parallel test runs may all call start.sh.
exec 9>"$run_dir/lock"
flock 9

healthy() {
  local body
  case "$1" in
    # (No `curl | grep -q`: grep exiting early can SIGPIPE curl, which pipefail reports as failure.)
    localstack) body="$(curl -sf --max-time 2 "http://127.0.0.1:${port[localstack]}/_localstack/health")" &&
                  [[ "$body" =~ \"s3\":\ *\"(available|running)\" ]] ;;
    # moto's dashboard answers 200 as soon as its Flask server is up.
    moto) curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:${port[moto]}/moto-api/" ;;
  esac
}

# Prints the pid from the pid file if that process is still the emulator we started.
our_pid() {
  local pid
  pid="$(cat "$run_dir/$1.pid" 2>/dev/null)" || return 1
  [[ -n "$pid" ]] && grep -qa -- "${pattern[$1]}" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

# Stop every emulator this run launched, so a failed start leaves nothing half-started behind.
stop_launched() {
  local name pid
  for name in "${launched[@]}"; do
    if pid="$(our_pid "$name")"; then kill "$pid" 2>/dev/null || true; fi
  done
}

fail() {
  echo "start.sh: $1: $2; last lines of $run_dir/$1.log:" >&2
  tail -n 40 "$run_dir/$1.log" >&2 || true
  stop_launched
  exit 1
}

# Run "$@" in its own session so it outlives this script and a Ctrl-C in the caller's terminal.
# The child writes its own pid before exec, so the pid file is right even if setsid forks.
# `9>&-`: the emulator must not inherit the lock, or every later start/stop.sh would block on it.
launch() {
  local name="$1"; shift
  if [[ -f "$run_dir/$name.log" ]]; then mv -f "$run_dir/$name.log" "$run_dir/$name.log.1"; fi
  rm -f "$run_dir/$name.pid"
  # shellcheck disable=SC2016  # expanded by the child shell, on purpose
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$run_dir/$name.pid" "$@" \
    </dev/null >"$run_dir/$name.log" 2>&1 9>&- &
  launched+=("$name")
  echo "start.sh: starting $name on 127.0.0.1:${port[$name]} (log: $run_dir/$name.log)"
}

pending=() launched=()
for name in localstack moto; do
  if healthy "$name"; then
    echo "start.sh: $name already running and healthy on port ${port[$name]}"
  else
    pending+=("$name")
  fi
done

if (( ${#pending[@]} )); then
  # Cheap no-op when already installed; also picks up a changed requirements.lock.
  "$here/install.sh"
  t0="$(date +%s%N)"
  for name in "${pending[@]}"; do
    # Still starting from an earlier, interrupted start.sh: just wait for it below.
    if our_pid "$name" >/dev/null; then continue; fi
    if [[ -n "$(ss -Hltn "sport = :${port[$name]}")" ]]; then
      echo "start.sh: port ${port[$name]} for $name is taken by another program:" >&2
      ss -Hltnp "sport = :${port[$name]}" >&2
      stop_launched
      exit 1
    fi
    case "$name" in
      # Host mode as seen working in /work/shared/emulators/NOTES.md, with everything that would reach
      # the internet or write outside $run_dir switched off:
      #   PERSISTENCE=0           state in memory only; every start is empty
      #   SKIP_SSL_CERT_DOWNLOAD  no fetch of LocalStack's TLS certificate (we serve plain HTTP)
      #   DISABLE_EVENTS          no analytics/telemetry posts
      #   DNS_ADDRESS=0           no DNS server on port 53 (LocalStack starts one by default)
      #   OVERRIDE_IN_DOCKER=0    LocalStack thinks this machine is its own container and would use
      #   FILESYSTEM_ROOT         /var/lib/localstack and /tmp/localstack; keep its files under run/
      localstack) launch localstack env \
          GATEWAY_LISTEN="127.0.0.1:${port[localstack]}" SERVICES=s3,lambda,logs,sts,iam \
          PERSISTENCE=0 SKIP_SSL_CERT_DOWNLOAD=1 DISABLE_EVENTS=1 DNS_ADDRESS=0 \
          OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$run_dir/localstack-fs" \
          "$venv/bin/python" -m localstack.runtime.main ;;
      moto) launch moto "$venv/bin/moto_server" -H 127.0.0.1 -p "${port[moto]}" ;;
    esac
  done

  deadline=$((SECONDS + timeout))
  while (( ${#pending[@]} )); do
    sleep 0.2
    still=()
    for name in "${pending[@]}"; do
      if healthy "$name"; then
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        printf 'start.sh: %s healthy after %d.%03d s\n' "$name" $((ms / 1000)) $((ms % 1000))
        continue
      fi
      # Fail fast when the process died (bad install, port race) instead of waiting out the timeout.
      if ! our_pid "$name" >/dev/null; then fail "$name" "exited during start-up"; fi
      if (( SECONDS > deadline )); then fail "$name" "not healthy after $timeout s"; fi
      still+=("$name")
    done
    pending=("${still[@]}")
  done
fi

# Same variables as localstack/env.sh, with this run's ports written in.
cat >"$run_dir/env.sh" <<EOF
# Written by localstack/start.sh; source it to point AWS SDKs and CLIs at the local emulators.
export AWS_ENDPOINT_URL=http://127.0.0.1:${port[localstack]}
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:${port[moto]}
export AWS_ENDPOINT_URL_BEDROCK_AGENT=http://127.0.0.1:${port[moto]}
export AWS_MCP_MOTO_ENDPOINT_URL=http://127.0.0.1:${port[moto]}
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
EOF
echo "start.sh: emulators ready; client environment (source $run_dir/env.sh):"
sed -n 's/^export /  /p' "$run_dir/env.sh"
