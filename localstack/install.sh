#!/usr/bin/env bash
# Install the AWS emulators (LocalStack 4.13.1 in host mode + moto's server) into a virtualenv,
# without Docker. Idempotent: a marker records the sha256 of requirements.lock last installed, so a
# second run does nothing until the lock changes.
#
#   localstack/install.sh [--with-cargo-lambda]
#
# Env: AWS_MCP_EMULATOR_HOME (default ~/.cache/aws-mcp-emulators; venv in $AWS_MCP_EMULATOR_HOME/venv),
#      AWS_MCP_EMULATOR_PYTHON (interpreter to build the venv with; default python3.11, else python3),
#      AWS_MCP_WITH_CARGO_LAMBDA=1 (same as --with-cargo-lambda).
# Log: $AWS_MCP_EMULATOR_HOME/run/install.log
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home_dir="${AWS_MCP_EMULATOR_HOME:-$HOME/.cache/aws-mcp-emulators}"
venv="$home_dir/venv"
run_dir="$home_dir/run"
log="$run_dir/install.log"
lock_file="$here/requirements.lock"
marker="$venv/.requirements.lock.sha256"
# cargo-lambda from PyPI ships the binary plus the ziglang wheel it uses for cross-linking.
cargo_lambda_version="1.9.2"

with_cargo_lambda="${AWS_MCP_WITH_CARGO_LAMBDA:-0}"
for arg in "$@"; do
  case "$arg" in
    --with-cargo-lambda) with_cargo_lambda=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

mkdir -p "$run_dir"
# Serialise concurrent installs (e.g. two test runs calling start.sh at once).
exec 8>"$home_dir/install.lock"
flock 8

# Run a noisy step with its output in the log; on failure show the tail so CI logs say why.
step() {
  local what="$1"; shift
  echo "== $(date -u +%FT%TZ) $what: $*" >>"$log"
  if ! "$@" >>"$log" 2>&1; then
    echo "install.sh: $what failed; last lines of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}

# LocalStack 4.13.1 and the pinned lock were verified on Python 3.11 (4.14+ needs 3.12 syntax,
# and the lock's pins are what make 4.13.1 start), so prefer a working python3.11.
pick_python() {
  if [[ -n "${AWS_MCP_EMULATOR_PYTHON:-}" ]]; then echo "$AWS_MCP_EMULATOR_PYTHON"; return; fi
  # `command -v` is not enough: pyenv shims exist for versions that are not selected.
  if python3.11 -c '' >/dev/null 2>&1; then echo python3.11; else echo python3; fi
}

if ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
  python="$(pick_python)"
  echo "install.sh: creating venv $venv with $("$python" --version 2>&1) ($(command -v "$python"))"
  # A half-made venv (interrupted run) is rebuilt from scratch; only ever delete a real venv dir.
  if [[ -f "$venv/pyvenv.cfg" ]]; then rm -rf "$venv"; fi
  step "create venv" "$python" -m venv "$venv"
else
  echo "install.sh: venv $venv exists ($("$venv/bin/python" --version 2>&1))"
fi

pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input)
want_sha="$(sha256sum "$lock_file" | cut -d' ' -f1)"
if [[ "$(cat "$marker" 2>/dev/null || true)" == "$want_sha" ]]; then
  echo "install.sh: requirements.lock already installed (sha256 ${want_sha:0:12}), nothing to do"
else
  echo "install.sh: pip install -r requirements.lock (log: $log) ..."
  start=$SECONDS
  step "pip install lock" "${pip[@]}" install -r "$lock_file"
  echo "$want_sha" >"$marker"
  echo "install.sh: installed requirements.lock in $((SECONDS - start)) s (sha256 ${want_sha:0:12})"
fi

if [[ "$with_cargo_lambda" == 1 ]]; then
  have="$("${pip[@]}" show cargo-lambda 2>/dev/null | sed -n 's/^Version: //p' || true)"
  if [[ "$have" == "$cargo_lambda_version" ]]; then
    echo "install.sh: cargo-lambda $cargo_lambda_version already installed"
  else
    echo "install.sh: pip install cargo-lambda==$cargo_lambda_version (with ziglang) ..."
    start=$SECONDS
    step "pip install cargo-lambda" "${pip[@]}" install "cargo-lambda==$cargo_lambda_version"
    echo "install.sh: installed cargo-lambda in $((SECONDS - start)) s"
  fi
  # The binary only works as a cargo subcommand (`cargo-lambda --version` fails), so verify it that way.
  if ! command -v cargo >/dev/null; then
    echo "install.sh: cargo not found on PATH; cannot verify 'cargo lambda'" >&2
    exit 1
  fi
  echo "install.sh: $(PATH="$venv/bin:$PATH" cargo lambda --version)  (put $venv/bin on PATH to use it)"
fi
