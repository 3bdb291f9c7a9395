#!/usr/bin/env python3
"""Generate each server's IAM policy and CloudFormation template from the server itself.

Run through deploy/policies.sh (see there for usage). For each server:
  1. read deploy/config/<server>.args (the deployment's flags, one argument per line);
  2. run `<server> --print-iam-policy <flags>` (clean environment: no MCP_* variable or AWS profile
     can change the answer);
  3. scope its resources to the allowlists in the same flags, where IAM allows it (bucket, table,
     function and log group ARNs, knowledge bases given by id; sts:AssumeRole to exactly the
     accounts file's roles) -- the actions are never changed;
  4. write policies/<server>.json and templates/<server>.yaml (template.yaml.in with that policy
     embedded and the flags as parameters locked to these values and as environment variables).
With --check nothing is written: it exits 1 and shows a diff when a checked-in file differs.
Standard library only.
"""

import argparse
import difflib
import json
import os
import re
import subprocess
import sys

DEPLOY = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DEPLOY)

SERVERS = [
    "aws-s3-mcp",
    "aws-dynamodb-mcp",
    "aws-lambda-mcp",
    "aws-logs-mcp",
    "aws-bedrock-kb-mcp",
    "aws-sts-mcp",
]

ALL = None  # a setting every server takes
# flag, stack parameter, environment variable, kind, servers (None = all)
SETTINGS = [
    ("--allow-writes", "AllowWrites", "MCP_ALLOW_WRITES", "bool", ALL),
    ("--allow-invoke", "AllowInvoke", "MCP_ALLOW_INVOKE", "bool", ALL),
    ("--allow-generate", "AllowGenerate", "MCP_ALLOW_GENERATE", "bool", ALL),
    ("--tools", "Tools", "MCP_TOOLS", "list", ALL),
    ("--exclude-tools", "ExcludeTools", "MCP_EXCLUDE_TOOLS", "list", ALL),
    ("--regions", "Regions", "MCP_REGIONS", "optlist", ALL),  # an empty MCP_REGIONS is refused
    ("--accounts", "AccountsFile", "MCP_ACCOUNTS_FILE", "file", ALL),
    ("--bucket", "Buckets", "MCP_S3_BUCKETS", "list", ["aws-s3-mcp"]),
    ("--table", "Tables", "MCP_DYNAMODB_TABLES", "list", ["aws-dynamodb-mcp"]),
    ("--function", "Functions", "MCP_LAMBDA_FUNCTIONS", "list", ["aws-lambda-mcp"]),
    ("--function-tools", "FunctionTools", "MCP_LAMBDA_FUNCTION_TOOLS", "bool", ["aws-lambda-mcp"]),
    ("--expose-tag-only", "ExposeTagOnly", "MCP_LAMBDA_EXPOSE_TAG_ONLY", "bool", ["aws-lambda-mcp"]),
    ("--log-group", "LogGroups", "MCP_LOGS_GROUPS", "list", ["aws-logs-mcp"]),
    ("--kb", "KnowledgeBases", "MCP_BEDROCK_KBS", "list", ["aws-bedrock-kb-mcp"]),
    ("--kb-tag", "KnowledgeBaseTags", "MCP_BEDROCK_KB_TAGS", "list", ["aws-bedrock-kb-mcp"]),
    ("--organization", "Organization", "MCP_STS_ORGANIZATION", "bool", ["aws-sts-mcp"]),
]


class Fail(Exception):
    pass


def settings_for(server):
    return [s for s in SETTINGS if s[4] is None or server in s[4]]


def read_args(path):
    """One argument per line; blank lines and `#` comments ignored."""
    with open(path, encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.strip().startswith("#")]


def parse_settings(server, args, config_path):
    """The flags as {flag: value}: True for a switch, a list for repeatable values, a path for files."""
    known = {s[0]: s for s in settings_for(server)}
    values, i = {}, 0
    while i < len(args):
        arg = args[i]
        flag, eq, inline = arg.partition("=")
        if flag not in known:
            raise Fail(
                f"{config_path}: `{arg}` is not a deployment flag this script knows for {server} "
                f"(known: {', '.join(sorted(known))}). Stack settings such as the output budget are "
                "template parameters instead."
            )
        kind = known[flag][3]
        if kind == "bool":
            if eq:
                raise Fail(f"{config_path}: {flag} is a switch and takes no value")
            values[flag] = True
            i += 1
            continue
        if eq:
            value = inline
            i += 1
        elif i + 1 < len(args):
            value = args[i + 1]
            i += 2
        else:
            raise Fail(f"{config_path}: {flag} needs a value")
        if kind == "file":
            values[flag] = value
        else:  # list, optlist
            values.setdefault(flag, []).extend(v for v in value.split(",") if v)
    return values


def server_argv(values):
    """The flags as the server takes them (lists repeated, files as given, relative to the root)."""
    argv = []
    for flag, value in values.items():
        if value is True:
            argv.append(flag)
        elif isinstance(value, list):
            for v in value:
                argv.append(f"{flag}={v}")
        else:
            argv.append(f"{flag}={value}")
    return argv


def clean_env():
    """What --print-iam-policy runs with: no MCP_* setting or AWS profile leaks in from the shell."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "LANG")}
    env.update(
        AWS_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def print_policy(binary, argv):
    cmd = [binary, "--print-iam-policy", *argv]
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise Fail(f"{binary} not found: build the servers first (`cargo build --workspace --bins`)")
    if p.returncode != 0:
        raise Fail(f"`{' '.join(cmd)}` failed ({p.returncode}):\n{p.stderr.strip()}")
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise Fail(f"`{' '.join(cmd)}` printed no JSON policy ({e}):\n{p.stdout[:500]}")


# ---- scoping -------------------------------------------------------------------------------------

ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*]+$")
KB_ID = re.compile(r"^[0-9A-Z]{10}$")


def check_pattern(kind, p):
    # The servers' patterns use * and ?, as IAM ARNs do; anything else IAM would read differently.
    if not p or re.search(r"[\[\]{}\s]", p):
        raise Fail(f"{kind} pattern `{p}` cannot be written as an IAM resource (only * and ? wildcards)")
    return p


def scopes(server, values):
    """(Sid suffix, actions, resources) for the actions IAM lets us scope; the rest stays "*"."""
    region, account, part = "*", "*", "aws"

    def names(flag, kind):
        return [check_pattern(kind, p) for p in values.get(flag, [])] or ["*"]

    if server == "aws-s3-mcp":
        buckets = names("--bucket", "bucket")
        return [
            ("Buckets", {
                "s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation", "s3:GetBucketVersioning",
                "s3:GetEncryptionConfiguration", "s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging",
                "s3:GetBucketPolicyStatus", "s3:GetBucketPolicy", "s3:GetBucketAcl",
                "s3:GetLifecycleConfiguration", "s3:ListBucketMultipartUploads",
            }, [f"arn:{part}:s3:::{b}" for b in buckets]),
            ("Objects", {
                "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes", "s3:GetObjectTagging",
                "s3:GetObjectVersionTagging", "s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject",
                "s3:DeleteObjectVersion", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
            }, [f"arn:{part}:s3:::{b}/*" for b in buckets]),
        ]
    if server == "aws-dynamodb-mcp":
        tables = names("--table", "table")
        table_arns = [f"arn:{part}:dynamodb:{region}:{account}:table/{t}" for t in tables]
        index_arns = [f"{a}/index/*" for a in table_arns]
        return [
            ("TablesAndIndexes", {"dynamodb:Query", "dynamodb:Scan", "dynamodb:PartiQLSelect"},
             table_arns + index_arns),
            ("Tables", {
                "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:DescribeContinuousBackups",
                "dynamodb:ListTagsOfResource", "dynamodb:GetItem", "dynamodb:BatchGetItem",
                "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete",
            }, table_arns),
        ]
    if server == "aws-lambda-mcp":
        fns = names("--function", "function")
        arns = []
        for f in fns:
            base = f"arn:{part}:lambda:{region}:{account}:function:{f}"
            arns += [base, f"{base}:*"]  # and its versions and aliases
        return [
            ("Functions", {
                "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:GetFunctionUrlConfig",
                "lambda:GetPolicy", "lambda:InvokeFunction", "lambda:ListAliases", "lambda:GetAlias",
                "lambda:ListVersionsByFunction", "lambda:ListTags", "lambda:GetFunctionConcurrency",
                "lambda:GetFunctionEventInvokeConfig", "lambda:ListFunctionUrlConfigs",
                "lambda:ListProvisionedConcurrencyConfigs",
            }, arns),
        ]
    if server == "aws-logs-mcp":
        groups = names("--log-group", "log group")
        arns = []
        for g in groups:
            base = f"arn:{part}:logs:{region}:{account}:log-group:{g}"
            arns += [base, f"{base}:*"]  # and its streams
        return [
            ("LogGroups", {
                "logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents", "logs:StartQuery",
                "logs:GetLogGroupFields", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
            }, arns),
        ]
    if server == "aws-bedrock-kb-mcp":
        kbs = values.get("--kb", [])
        # ARNs carry the id only: name patterns cannot be scoped (the server enforces them).
        ids = kbs if kbs and all(KB_ID.match(k) for k in kbs) else ["*"]
        return [
            ("KnowledgeBases", {
                "bedrock:Retrieve", "bedrock:GetKnowledgeBase", "bedrock:ListDataSources",
                "bedrock:GetDataSource", "bedrock:ListTagsForResource",
            }, [f"arn:{part}:bedrock:{region}:{account}:knowledge-base/{k}" for k in ids]),
        ]
    return []


def scope_policy(server, values, printed):
    statements = printed.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    has_account_roles = any(s.get("Sid") == "AssumeAccountRoles" for s in statements)
    table = scopes(server, values)
    out = []
    for st in statements:
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else list(actions)
        for a in actions:
            if not ACTION.match(a):
                raise Fail(
                    f"{server} --print-iam-policy printed `{a}`, which is not an IAM action "
                    "(IAM would reject the policy): fix the server's operation data"
                )
        if st.get("Effect") != "Allow" or st.get("Resource") != "*" or "Condition" in st:
            out.append(st)
            continue
        rest, scoped = [], []
        for a in actions:
            if a == "sts:AssumeRole" and has_account_roles and "--organization" not in values:
                # Granted by AssumeAccountRoles on exactly the accounts file's roles. With
                # --organization the member accounts are not in the file: left as printed.
                continue
            for suffix, acts, resources in table:
                if a in acts:
                    scoped.append((suffix, a, resources))
                    break
            else:
                rest.append(a)
        sid = st.get("Sid", "")
        if rest:
            out.append({**st, "Action": sorted(rest)})
        for suffix, _, resources in table:
            acts = sorted(a for s, a, _ in scoped if s == suffix)
            if acts:
                out.append({"Sid": sid + suffix, "Effect": "Allow", "Action": acts, "Resource": resources})
    return {"Version": printed.get("Version", "2012-10-17"), "Statement": out}


# ---- template ------------------------------------------------------------------------------------

def yaml_str(s):
    return json.dumps(s)  # a JSON string is a valid double-quoted YAML scalar


def render_template(server, values, policy, argv):
    with open(os.path.join(DEPLOY, "template.yaml.in"), encoding="utf-8") as f:
        text = f.read()
    params, env, names = [], [], []
    for flag, name, var, kind, _ in settings_for(server):
        value = values.get(flag)
        if kind == "bool":
            shown = "true" if value else "false"
        elif kind in ("list", "optlist"):
            shown = ",".join(value or [])
        else:
            shown = value or ""
        if kind == "optlist" and not value:
            continue  # not set: no parameter, no variable
        if kind == "file":
            if not value:
                continue  # no accounts file: own account only, no parameter
            # build.sh bundles the file next to `bootstrap` under this name.
            shown = "accounts.toml"
        names.append(name)
        params += [
            f"  {name}:",
            "    Type: String",
            f"    Default: {yaml_str(shown)}",
            f"    AllowedValues: [{yaml_str(shown)}]",
            f"    Description: >-",
            f"      {flag} ({var}): fixed to the value in the deployment's flags (deploy/config/{server}.args),",
            "      for which the IAM policy was made. Change it there and rerun deploy/policies.sh.",
        ]
        if kind == "file":
            params[-2:] = [
                f"      {flag}={value} ({var}), bundled into the package by build.sh as accounts.toml. The",
                "      IAM policy allows sts:AssumeRole on exactly its roles: change it, then rerun deploy/policies.sh.",
            ]
            env.append(f'          {var}: !Sub "/var/task/${{{name}}}"')
        else:
            env.append(f"          {var}: !Ref {name}")  # an empty list reads as no allowlist
    body = json.dumps(policy, indent=2, sort_keys=True)
    policy_yaml = "\n".join("            " + ln for ln in body.splitlines())
    return (
        text.replace("@LOCKED_PARAMETER_NAMES@", ", ".join(names))
        .replace("@LOCKED_PARAMETERS@", "\n".join(params))
        .replace("@ENVIRONMENT@", "\n".join(env))
        .replace("@POLICY@", policy_yaml)
        .replace("@ARGS@", " ".join(argv) or "(none: the defaults)")
        .replace("@SERVER@", server)
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("servers", nargs="*", help="servers (default: all six)")
    ap.add_argument("--bin-dir", default=os.environ.get("AWS_MCP_BIN_DIR", os.path.join(ROOT, "target", "debug")))
    ap.add_argument("--config", help="flags file to use instead of deploy/config/SERVER.args (one server only)")
    ap.add_argument("--out", help="write policies/ and templates/ under this directory instead of deploy/")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if a checked-in file differs")
    opts = ap.parse_args()
    servers = opts.servers or SERVERS
    for s in servers:
        if s not in SERVERS:
            raise Fail(f"unknown server `{s}` (one of {', '.join(SERVERS)})")
    if opts.config and len(servers) != 1:
        raise Fail("--config goes with exactly one server")
    out = opts.out or DEPLOY
    stale = []
    for server in servers:
        config = opts.config or os.path.join(DEPLOY, "config", f"{server}.args")
        values = parse_settings(server, read_args(config), config)
        argv = server_argv(values)
        printed = print_policy(os.path.join(opts.bin_dir, server), argv)
        policy = scope_policy(server, values, printed)
        files = {
            os.path.join(out, "policies", f"{server}.json"): json.dumps(policy, indent=2, sort_keys=True) + "\n",
            os.path.join(out, "templates", f"{server}.yaml"): render_template(server, values, policy, argv),
        }
        for path, content in files.items():
            if opts.check:
                try:
                    with open(path, encoding="utf-8") as f:
                        old = f.read()
                except FileNotFoundError:
                    old = ""
                if old != content:
                    stale.append(path)
                    sys.stdout.writelines(difflib.unified_diff(
                        old.splitlines(True), content.splitlines(True), path, f"{path} (generated)"))
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(content)
                print(f"wrote {os.path.relpath(path, ROOT)}", file=sys.stderr)
    if stale:
        print(
            "\nout of date (the server prints a different policy for these flags, or the config or "
            "template.yaml.in changed): " + ", ".join(os.path.relpath(p, ROOT) for p in stale)
            + "\nregenerate with: deploy/policies.sh", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print(f"policies.sh: {e}", file=sys.stderr)
        sys.exit(2)
