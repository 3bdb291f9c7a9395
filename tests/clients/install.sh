#!/usr/bin/env bash
# Install the third-party MCP clients the tests drive the servers with (tests/tests/clients.rs):
#   - npm (tests/clients/node_modules, git-ignored), from package-lock.json: the TypeScript SDK
#     @modelcontextprotocol/sdk, the MCP Inspector (CLI mode) and @anthropic-ai/mcpb;
#   - pip (a venv in ${AWS_MCP_CLIENTS_HOME:-~/.cache/aws-mcp-clients}/venv), from requirements.txt
#     and constraints.txt: the Python SDK `mcp`.
# Idempotent: each half is skipped when its lockfile has not changed since the last install.
# Needs Node >= 20 (the Inspector declares >= 22.19 but its CLI runs on 20) and Python >= 3.11.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="${AWS_MCP_CLIENTS_HOME:-$HOME/.cache/aws-mcp-clients}"
mkdir -p "$home"

digest() { cat "$@" | sha256sum | cut -d' ' -f1; }

node_stamp="$here/node_modules/.aws-mcp-installed"
want="$(digest "$here/package.json" "$here/package-lock.json")"
if [[ -f "$node_stamp" && "$(cat "$node_stamp")" == "$want" ]]; then
  echo "npm clients: up to date ($here/node_modules)"
else
  # --ignore-scripts: the Inspector's postinstall only prepares its web UI; the CLI needs nothing.
  # `npm install`, not `npm ci`: the lock names an optional dependency of vite (pulled in by the
  # Inspector) that the registry does not have, which `npm ci` refuses; install still follows the lock.
  (cd "$here" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error)
  echo "$want" > "$node_stamp"
fi

python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
venv="$home/venv"
py_stamp="$venv/.aws-mcp-installed"
want="$(digest "$here/requirements.txt" "$here/constraints.txt")"
if [[ -f "$py_stamp" && "$(cat "$py_stamp")" == "$want" ]]; then
  echo "python client: up to date ($venv)"
else
  [[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
  (cd "$here" && "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt)
  echo "$want" > "$py_stamp"
fi

"$venv/bin/python" -c 'import importlib.metadata as m; print("python mcp", m.version("mcp"))'
for p in @modelcontextprotocol/sdk @modelcontextprotocol/inspector @anthropic-ai/mcpb; do
  node -e "console.log('$p', require('$here/node_modules/$p/package.json').version)"
done
