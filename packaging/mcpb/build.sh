#!/usr/bin/env bash
# Build an MCP Bundle (.mcpb, server type `binary`) per server for one-click install in Claude
# Desktop, from the manifest templates beside this script and already-built binaries.
#
#   packaging/mcpb/build.sh [--bin-dir DIR] [--out DIR] [--no-pack] [SERVER...]
#
#   --bin-dir DIR  where the server binaries are (default: target/release; run
#                  `cargo build --release -p aws-s3-mcp ...` first)
#   --out DIR      where bundles go (default: target/mcpb): DIR/SERVER/ is the staged bundle
#                  (manifest.json + server/BINARY), DIR/SERVER-VERSION-PLATFORM.mcpb the bundle
#   --no-pack      stage and validate only
#   --link         hard-link the binaries into the staged bundles instead of copying them (tests:
#                  debug binaries are ~150 MB each)
#   SERVER...      default: every server with a template here (aws-*-mcp)
#
# Every manifest is checked with the official CLI (`mcpb validate`, npm @anthropic-ai/mcpb) before
# packing. A bundle carries one platform's binary: build on each platform you ship (macOS arm64 and
# x86_64, Windows) and name the files accordingly. mcpb comes from tests/clients/node_modules
# (tests/clients/install.sh), else `npx --yes @anthropic-ai/mcpb@VERSION` from package.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin_dir="$root/target/release"
out="$root/target/mcpb"
pack=1
link=0
servers=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin-dir) bin_dir="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-pack) pack=0; shift ;;
    --link) link=1; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) servers+=("$1"); shift ;;
  esac
done
if [[ ${#servers[@]} -eq 0 ]]; then
  for t in "$here"/*.manifest.json; do servers+=("$(basename "$t" .manifest.json)"); done
fi

mcpb_cli() {
  local local_bin="$root/tests/clients/node_modules/.bin/mcpb"
  if [[ -x "$local_bin" ]]; then
    "$local_bin" "$@"
  else
    local v
    v="$(sed -n 's/.*"@anthropic-ai\/mcpb": "\([^"]*\)".*/\1/p' "$root/tests/clients/package.json")"
    npx --yes "@anthropic-ai/mcpb@$v" "$@"
  fi
}

# The workspace version ([workspace.package] in Cargo.toml) is every server's version.
version="$(awk '/^\[workspace.package\]/{f=1;next} /^\[/{f=0} f&&/^version *=/{gsub(/[" ]/,"",$0); sub(/^version=/,""); print; exit}' "$root/Cargo.toml")"
[[ -n "$version" ]] || { echo "cannot read the workspace version from Cargo.toml" >&2; exit 1; }

exe=""
case "$(uname -s)" in
  Darwin) platform=darwin ;;
  Linux) platform=linux ;;
  MINGW*|MSYS*|CYGWIN*) platform=win32; exe=".exe" ;;
  *) echo "unsupported build platform $(uname -s)" >&2; exit 1 ;;
esac

mkdir -p "$out"
for s in "${servers[@]}"; do
  template="$here/$s.manifest.json"
  [[ -f "$template" ]] || { echo "no manifest template $template" >&2; exit 1; }
  binary="$bin_dir/$s$exe"
  [[ -x "$binary" ]] || { echo "$binary is missing: cargo build --release -p $s (or pass --bin-dir)" >&2; exit 1; }
  stage="$out/$s"
  rm -rf "$stage"
  mkdir -p "$stage/server"
  sed -e "s/@VERSION@/$version/g" -e "s/@PLATFORM@/$platform/g" "$template" > "$stage/manifest.json"
  if [[ $link -eq 1 ]]; then
    ln -f "$binary" "$stage/server/$s$exe" 2>/dev/null || cp "$binary" "$stage/server/$s$exe"
  else
    cp "$binary" "$stage/server/$s$exe"
  fi
  mcpb_cli validate "$stage/manifest.json"
  if [[ $pack -eq 1 ]]; then
    bundle="$out/$s-$version-$platform.mcpb"
    rm -f "$bundle"
    mcpb_cli pack "$stage" "$bundle"
    echo "built $bundle"
  fi
done
