#!/usr/bin/env bash
# Stop the emulators started by start.sh: by pid file first, then whatever of ours still listens on
# the ports (pid file lost). Only processes whose command line is LocalStack's or moto's are touched.
# Idempotent: nothing running is not an error.
#
# Env: LOCALSTACK_PORT (4566), MOTO_PORT (4567), AWS_MCP_EMULATOR_HOME (~/.cache/aws-mcp-emulators).
set -euo pipefail

home_dir="${AWS_MCP_EMULATOR_HOME:-$HOME/.cache/aws-mcp-emulators}"
run_dir="$home_dir/run"
declare -A port=([localstack]="${LOCALSTACK_PORT:-4566}" [moto]="${MOTO_PORT:-4567}")
declare -A pattern=([localstack]="localstack.runtime.main" [moto]="moto_server")

mkdir -p "$run_dir"
exec 9>"$run_dir/lock"   # same lock as start.sh: never stop half-way through a start
flock 9

is_ours() { grep -qa -- "${pattern[$1]}" "/proc/$2/cmdline" 2>/dev/null; }

for name in localstack moto; do
  pids=()
  pid="$(cat "$run_dir/$name.pid" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && is_ours "$name" "$pid"; then pids+=("$pid"); fi
  # Fallback: listeners on the port (ss prints users:(("python",pid=123,fd=5))).
  for pid in $(ss -Hltnp "sport = :${port[$name]}" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    if is_ours "$name" "$pid" && [[ " ${pids[*]} " != *" $pid "* ]]; then pids+=("$pid"); fi
  done
  if (( ${#pids[@]} == 0 )); then
    echo "stop.sh: $name not running"
    rm -f "$run_dir/$name.pid"
    continue
  fi
  kill -TERM "${pids[@]}" 2>/dev/null || true
  # LocalStack shuts its services down on SIGTERM (a few seconds); give it 20 s, then SIGKILL.
  for _ in $(seq 100); do
    alive=()
    for pid in "${pids[@]}"; do if kill -0 "$pid" 2>/dev/null; then alive+=("$pid"); fi; done
    (( ${#alive[@]} )) || break
    sleep 0.2
  done
  if (( ${#alive[@]} )); then
    echo "stop.sh: $name (pid ${alive[*]}) ignored SIGTERM for 20 s; sending SIGKILL"
    kill -KILL "${alive[@]}" 2>/dev/null || true
  fi
  rm -f "$run_dir/$name.pid"
  echo "stop.sh: stopped $name (pid ${pids[*]})"
done
