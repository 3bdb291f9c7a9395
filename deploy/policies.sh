#!/usr/bin/env bash
# Generate the IAM policy and the CloudFormation template of each server's stack from the server:
#
#   deploy/policies.sh [SERVER...] [--check] [--bin-dir DIR] [--config FILE --out DIR]
#
# For each SERVER (default: all six) it reads deploy/config/SERVER.args (the deployment's flags),
# runs `SERVER --print-iam-policy FLAGS`, scopes the resources to the allowlists in those flags
# (bucket, table, function, log group and knowledge-base ARNs; sts:AssumeRole only on the accounts
# file's roles) and writes deploy/policies/SERVER.json and deploy/templates/SERVER.yaml.
#   --check    write nothing; exit 1 with a diff if a checked-in file is out of date
#              (tests/tests/deploy.rs runs this).
#   --bin-dir  where the server binaries are (default: $AWS_MCP_BIN_DIR, else target/debug; build
#              them with `cargo build --workspace --bins`).
#   --config/--out  a one-off deployment: other flags, files written under DIR (build.sh deploy
#              --config uses this; the checked-in files stay as they are).
# Needs python3 (standard library only); the logic is in deploy/gen.py.
set -euo pipefail
exec python3 "$(dirname "${BASH_SOURCE[0]}")/gen.py" "$@"
