#!/usr/bin/env bash
# Build one server as an AWS Lambda package: deploy/dist/SERVER.zip, with `bootstrap` at its root.
#
#   deploy/build.sh SERVER [--arch arm64|x86_64] [--profile PROFILE] [--upload s3://BUCKET[/PREFIX]]
#
#   SERVER     aws-s3-mcp | aws-dynamodb-mcp (the Cargo package, which is also the binary name)
#   --arch     arm64 (default; Graviton) or x86_64. Must match the template's Architecture.
#   --profile  Cargo profile (default release-small: opt-level "s", fat LTO, one codegen unit; the
#              smallest binary). `release` builds faster, with a larger binary.
#   --upload   copy the zip to S3 under a content-addressed key and print the `sam deploy` command.
#
# Uses cargo-lambda (`cargo lambda build`, zig as the cross linker). If `cargo lambda` is not on
# PATH, the emulator venv's bin directory (localstack/install.sh --with-cargo-lambda) is tried.
# CARGO_TARGET_DIR is honoured (default: the workspace's target/). Do not pass --target-dir to
# cargo-lambda: it also gives it to `cargo metadata`, which then fails.
# A clean release-small cross build takes about 4-6 minutes on 2 cores.
set -euo pipefail

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

server="" arch="arm64" profile="release-small" upload=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --arch) arch="${2:?--arch needs a value}"; shift 2 ;;
    --arch=*) arch="${1#*=}"; shift ;;
    --profile) profile="${2:?--profile needs a value}"; shift 2 ;;
    --profile=*) profile="${1#*=}"; shift ;;
    --upload) upload="${2:?--upload needs s3://BUCKET[/PREFIX]}"; shift 2 ;;
    --upload=*) upload="${1#*=}"; shift ;;
    -h|--help) usage 0 ;;
    -*) echo "build.sh: unknown option $1" >&2; usage ;;
    *) [[ -z "$server" ]] || { echo "build.sh: one SERVER only" >&2; usage; }; server="$1"; shift ;;
  esac
done
case "$server" in
  aws-s3-mcp|aws-dynamodb-mcp) ;;
  "") echo "build.sh: which server? aws-s3-mcp or aws-dynamodb-mcp" >&2; usage ;;
  *) echo "build.sh: unknown server '$server' (aws-s3-mcp or aws-dynamodb-mcp)" >&2; exit 2 ;;
esac
case "$arch" in
  arm64|aarch64) arch=arm64 arch_flag=--arm64 triple=aarch64-unknown-linux-gnu ;;
  x86_64|x86-64|amd64) arch=x86_64 arch_flag=--x86-64 triple=x86_64-unknown-linux-gnu ;;
  *) echo "build.sh: --arch must be arm64 or x86_64, not '$arch'" >&2; exit 2 ;;
esac
if [[ -n "$upload" && "$upload" != s3://?* ]]; then
  echo "build.sh: --upload wants s3://BUCKET[/PREFIX], not '$upload'" >&2; exit 2
fi

deploy_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$deploy_dir")"
cd "$root"

if ! cargo lambda --version >/dev/null 2>&1; then
  venv_bin="${AWS_MCP_EMULATOR_HOME:-$HOME/.cache/aws-mcp-emulators}/venv/bin"
  if [[ -x "$venv_bin/cargo-lambda" ]]; then
    export PATH="$venv_bin:$PATH"
  else
    echo "build.sh: cargo-lambda not found. Install it with \`localstack/install.sh --with-cargo-lambda\`" >&2
    echo "          (pip, into the emulator venv) or \`pip install cargo-lambda\`, then rerun." >&2
    exit 1
  fi
fi
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$triple"; then
  echo "build.sh: adding the Rust target $triple (rustup target add)"
  rustup target add "$triple"
fi

target_dir="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$target_dir"
lambda_dir="$target_dir/lambda"
echo "build.sh: cargo lambda build --profile $profile $arch_flag -p $server  (CARGO_TARGET_DIR=$target_dir)"
start=$SECONDS
cargo lambda build --profile "$profile" "$arch_flag" -p "$server" --bin "$server" --lambda-dir "$lambda_dir"
bootstrap="$lambda_dir/$server/bootstrap"
[[ -f "$bootstrap" ]] || { echo "build.sh: expected $bootstrap after the build" >&2; exit 1; }

dist="$deploy_dir/dist"
zip_file="$dist/$server.zip"
mkdir -p "$dist"
rm -f "$zip_file"
if command -v zip >/dev/null 2>&1; then
  # -X: no extra file attributes, so the same binary gives the same zip; the exec bit is kept.
  (cd "$(dirname "$bootstrap")" && zip -q -9 -X "$zip_file" bootstrap)
else
  python3 - "$bootstrap" "$zip_file" <<'PY'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(src, "rb") as f:
        z.writestr(info, f.read())
PY
fi

size() { du -h "$1" | cut -f1; }
sha="$(sha256sum "$zip_file" | cut -c1-12)"
echo "build.sh: built in $((SECONDS - start)) s"
echo "build.sh: bootstrap $(size "$bootstrap") ($(file -b "$bootstrap" 2>/dev/null | cut -d, -f1-2 || echo "$triple"))"
echo "build.sh: $zip_file $(size "$zip_file")  sha256 $sha..."

key="$server-$arch-$sha.zip"
if [[ -n "$upload" ]]; then
  rest="${upload#s3://}"
  bucket="${rest%%/*}"
  prefix=""
  [[ "$rest" == */* ]] && prefix="${rest#*/}"
  [[ -z "$prefix" || "$prefix" == */ ]] || prefix="$prefix/"
  key="$prefix$key"
  aws s3 cp "$zip_file" "s3://$bucket/$key"
  echo "build.sh: uploaded s3://$bucket/$key"
else
  bucket="<bucket>"
  echo "build.sh: upload it, e.g.: aws s3 cp $zip_file s3://<bucket>/$key"
fi
cat <<EOF
build.sh: then deploy (one stack per server):
  sam deploy --guided --template-file deploy/template.yaml --stack-name $server \\
    --capabilities CAPABILITY_IAM \\
    --parameter-overrides ServerName=$server Architecture=$arch ArtifactBucket=$bucket ArtifactKey=$key
EOF
