#!/usr/bin/env bash
# Build and deploy the servers as AWS Lambda functions, one CloudFormation stack per server.
#
#   deploy/build.sh build  SERVER|all [--arch arm64|x86_64] [--profile P] [--config FILE]
#   deploy/build.sh deploy SERVER|all --bucket ARTIFACT_BUCKET [--prefix P] [--stack-prefix S]
#                          [--arch A] [--profile P] [--config FILE] [--region R] [--no-build]
#                          [-- Key=Value ...]
#
#   SERVER     aws-s3-mcp aws-dynamodb-mcp aws-lambda-mcp aws-logs-mcp aws-bedrock-kb-mcp aws-sts-mcp
#   build      cargo lambda build -> deploy/dist/SERVER-ARCH.zip (`bootstrap` at its root, plus
#              accounts.toml when the deployment's flags name an accounts file).
#   deploy     build (unless --no-build), upload the zip under a content-addressed key, then
#              `aws cloudformation deploy` the server's template as stack STACK_PREFIX+SERVER.
#              Anything after `--` goes to --parameter-overrides (AuthMode=jwt, LogRetentionInDays=90...).
#   --config   the deployment's flags (default deploy/config/SERVER.args; one server only). The
#              policy and the template are then regenerated into deploy/dist/ from the server
#              itself (deploy/policies.sh --config), so the role always matches the flags.
#   --arch     arm64 (default; Graviton) or x86_64.   --profile  Cargo profile (default release-small).
#
# Needs cargo-lambda (`localstack/install.sh --with-cargo-lambda` puts it, with zig, in the emulator
# venv, which is tried when `cargo lambda` is not on PATH), and for deploy the AWS CLI v2.
# A clean release-small arm64 build of one server takes several minutes on 2 cores.
set -euo pipefail

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
die() { echo "build.sh: $*" >&2; exit 2; }

SERVERS=(aws-s3-mcp aws-dynamodb-mcp aws-lambda-mcp aws-logs-mcp aws-bedrock-kb-mcp aws-sts-mcp)

cmd="${1:-}"; [[ $# -gt 0 ]] && shift
case "$cmd" in
  build|deploy) ;;
  -h|--help) usage 0 ;;
  *) echo "build.sh: first say build or deploy" >&2; usage ;;
esac

target="" arch="arm64" profile="release-small" config="" bucket="" prefix="" stack_prefix=""
region="" no_build=false overrides=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --arch) arch="${2:?--arch needs a value}"; shift 2 ;;
    --profile) profile="${2:?--profile needs a value}"; shift 2 ;;
    --config) config="${2:?--config needs a file}"; shift 2 ;;
    --bucket) bucket="${2:?--bucket needs a value}"; shift 2 ;;
    --prefix) prefix="${2:?--prefix needs a value}"; shift 2 ;;
    --stack-prefix) stack_prefix="${2:?--stack-prefix needs a value}"; shift 2 ;;
    --region) region="${2:?--region needs a value}"; shift 2 ;;
    --no-build) no_build=true; shift ;;
    --) shift; overrides=("$@"); break ;;
    -h|--help) usage 0 ;;
    -*) die "unknown option $1" ;;
    *) [[ -z "$target" ]] || die "one SERVER (or all) only"; target="$1"; shift ;;
  esac
done
[[ -n "$target" ]] || die "which server? one of ${SERVERS[*]}, or all"
if [[ "$target" == all ]]; then
  servers=("${SERVERS[@]}")
  [[ -z "$config" ]] || die "--config goes with one server, not all"
else
  [[ " ${SERVERS[*]} " == *" $target "* ]] || die "unknown server '$target' (one of ${SERVERS[*]}, or all)"
  servers=("$target")
fi
case "$arch" in
  arm64|aarch64) arch=arm64 arch_flag=--arm64 triple=aarch64-unknown-linux-gnu ;;
  x86_64|x86-64|amd64) arch=x86_64 arch_flag=--x86-64 triple=x86_64-unknown-linux-gnu ;;
  *) die "--arch must be arm64 or x86_64, not '$arch'" ;;
esac
[[ "$cmd" == build || -n "$bucket" ]] || die "deploy needs --bucket ARTIFACT_BUCKET (same Region as the stack)"
[[ -z "$prefix" || "$prefix" == */ ]] || prefix="$prefix/"

deploy_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$deploy_dir")"
cd "$root"
dist="$deploy_dir/dist"
mkdir -p "$dist"

need_cargo_lambda() {
  if ! cargo lambda --version >/dev/null 2>&1; then
    local venv_bin="${AWS_MCP_EMULATOR_HOME:-$HOME/.cache/aws-mcp-emulators}/venv/bin"
    [[ -x "$venv_bin/cargo-lambda" ]] || {
      echo "build.sh: cargo-lambda not found. Install it with \`localstack/install.sh --with-cargo-lambda\`" >&2
      echo "          (pip, into the emulator venv) or \`pip install cargo-lambda\`, then rerun." >&2
      exit 1
    }
    export PATH="$venv_bin:$PATH"
  fi
  if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$triple"; then
    echo "build.sh: adding the Rust target $triple (rustup target add)"
    rustup target add "$triple"
  fi
}

# The accounts file named by the deployment's flags (`--accounts=FILE` or `--accounts FILE`), if any.
accounts_file() {
  awk '/^[[:space:]]*#/ || NF == 0 { next }
       { gsub(/^[[:space:]]+|[[:space:]]+$/, "") }
       take { print; exit }
       /^--accounts=/ { sub(/^--accounts=/, ""); print; exit }
       /^--accounts$/ { take = 1 }' "$1"
}

config_for() { if [[ -n "$config" ]]; then echo "$config"; else echo "$deploy_dir/config/$1.args"; fi; }

build_one() {
  local server="$1" start=$SECONDS
  local lambda_dir="${CARGO_TARGET_DIR:-$root/target}/lambda"
  echo "build.sh: cargo lambda build --profile $profile $arch_flag -p $server"
  # CARGO_TARGET_DIR, not --target-dir: cargo-lambda also passes that to `cargo metadata`, which fails.
  cargo lambda build --profile "$profile" "$arch_flag" -p "$server" --bin "$server" --lambda-dir "$lambda_dir"
  local bootstrap="$lambda_dir/$server/bootstrap"
  [[ -f "$bootstrap" ]] || { echo "build.sh: expected $bootstrap after the build" >&2; exit 1; }
  local stage; stage="$(mktemp -d)"
  cp "$bootstrap" "$stage/bootstrap"
  local accounts; accounts="$(accounts_file "$(config_for "$server")")"
  if [[ -n "$accounts" ]]; then
    [[ -f "$accounts" ]] || die "$server: the accounts file $accounts (from $(config_for "$server")) does not exist"
    cp "$accounts" "$stage/accounts.toml"
  fi
  local zip_file="$dist/$server-$arch.zip"
  rm -f "$zip_file"
  # Fixed timestamps and no extra attributes: the same inputs give the same zip (and S3 key).
  touch -d @315532800 "$stage"/*
  (cd "$stage" && zip -q -9 -X "$zip_file" ./*)
  rm -rf "$stage"
  echo "build.sh: $zip_file $(du -h "$zip_file" | cut -f1), built in $((SECONDS - start)) s"
}

deploy_one() {
  local server="$1"
  local template="$deploy_dir/templates/$server.yaml"
  if [[ -n "$config" ]]; then
    # A one-off deployment: policy and template made from the server for exactly these flags.
    "$deploy_dir/policies.sh" "$server" --config "$config" --out "$dist/$server"
    template="$dist/$server/templates/$server.yaml"
  else
    "$deploy_dir/policies.sh" "$server" --check >/dev/null || die \
      "deploy/policies/$server.json or templates/$server.yaml is out of date: run deploy/policies.sh"
  fi
  local zip_file="$dist/$server-$arch.zip"
  [[ -f "$zip_file" ]] || die "$zip_file is missing: run deploy/build.sh build $server --arch $arch"
  local key; key="$prefix$server-$arch-$(sha256sum "$zip_file" | cut -c1-16).zip"
  local region_args=(); [[ -z "$region" ]] || region_args=(--region "$region")
  aws "${region_args[@]}" s3 cp "$zip_file" "s3://$bucket/$key"
  aws "${region_args[@]}" cloudformation deploy \
    --template-file "$template" \
    --stack-name "$stack_prefix$server" \
    --capabilities CAPABILITY_IAM \
    --no-fail-on-empty-changeset \
    --parameter-overrides ArtifactBucket="$bucket" ArtifactKey="$key" Architecture="$arch" "${overrides[@]}"
  aws "${region_args[@]}" cloudformation describe-stacks --stack-name "$stack_prefix$server" \
    --query "Stacks[0].Outputs[?OutputKey=='McpEndpoint'].OutputValue" --output text
}

if [[ "$cmd" == build ]] || ! $no_build; then
  need_cargo_lambda
  for s in "${servers[@]}"; do build_one "$s"; done
fi
if [[ "$cmd" == deploy ]]; then
  command -v aws >/dev/null 2>&1 || die "deploy needs the AWS CLI (aws)"
  for s in "${servers[@]}"; do deploy_one "$s"; done
fi
