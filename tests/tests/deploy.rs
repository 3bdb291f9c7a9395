//! `deploy/`: the IAM policy of every server's stack is what that server prints for the deployment's
//! flags (`--print-iam-policy`), scoped to its allowlists, and the templates pass cfn-lint. So the
//! role and the server cannot drift apart: a tool that gains an AWS operation changes what the server
//! prints, and these tests fail until `deploy/policies.sh` has regenerated the checked-in files.
//! No AWS, no emulator: the binaries only print.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use aws_mcp_tests::{emulator_venv_bin, server_bin, unique};
use serde_json::{Value, json};

const SERVERS: [&str; 6] = [
    "aws-s3-mcp",
    "aws-dynamodb-mcp",
    "aws-lambda-mcp",
    "aws-logs-mcp",
    "aws-bedrock-kb-mcp",
    "aws-sts-mcp",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn deploy(rel: &str) -> PathBuf {
    root().join("deploy").join(rel)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_file(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Where the server binaries are (every one must exist: `cargo test --workspace` builds them).
fn bin_dir() -> PathBuf {
    for s in SERVERS {
        server_bin(s);
    }
    server_bin(SERVERS[0]).parent().expect("bin dir").to_path_buf()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `deploy/policies.sh ARGS` with this build's binaries.
fn policies_sh(args: &[&str]) -> Output {
    let mut cmd = Command::new(deploy("policies.sh"));
    cmd.args(args).arg("--bin-dir").arg(bin_dir()).current_dir(root());
    cmd.output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (needs bash and python3)"))
}

/// The deployment's flags: one argument per line, `#` comments.
fn config_args(server: &str) -> Vec<String> {
    read(&deploy(&format!("config/{server}.args")))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// What the server itself prints, in a clean environment (no MCP_* variable or AWS profile).
fn printed_policy(server: &str, args: &[String]) -> Value {
    printed_policy_with(server, args, &[])
}

/// The same, with these environment variables (as a template sets them on Lambda).
fn printed_policy_with(server: &str, args: &[String], env: &[(String, String)]) -> Value {
    let mut cmd = Command::new(server_bin(server));
    cmd.arg("--print-iam-policy")
        .args(args)
        .current_dir(root())
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let out = run(&mut cmd);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{server} printed no JSON: {e}"))
}

fn statements(policy: &Value) -> Vec<Value> {
    match &policy["Statement"] {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|s| s.as_str().map(String::from)).collect(),
        _ => Vec::new(),
    }
}

fn actions(policy: &Value) -> BTreeSet<String> {
    statements(policy).iter().flat_map(|s| strings(&s["Action"])).collect()
}

/// The policy embedded in a generated template, between its BEGIN/END POLICY markers (JSON there).
fn template_policy(template: &Path) -> Value {
    let text = read(template);
    let body: String = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("# BEGIN POLICY"))
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with("# END POLICY"))
        .filter(|l| l.trim() != "PolicyDocument:")
        .collect::<Vec<_>>()
        .join("\n");
    serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{}: no JSON policy between the markers: {e}", template.display()))
}

/// The server's settings as a template sets them on Lambda: each `MCP_X: !Ref Param` with that
/// parameter's default (its only allowed value), and the bundled accounts file read from `accounts`.
fn template_env(template: &Path, accounts: Option<&Path>) -> Vec<(String, String)> {
    let text = read(template);
    let lines: Vec<&str> = text.lines().collect();
    let params = lines
        .iter()
        .position(|l| *l == "Parameters:")
        .expect("a Parameters section");
    let default_of = |name: &str| -> String {
        let header = format!("  {name}:");
        let at = params
            + lines[params..]
                .iter()
                .position(|l| *l == header)
                .unwrap_or_else(|| panic!("no parameter {name}"));
        let default = lines[at + 1..]
            .iter()
            .take_while(|l| l.starts_with("    "))
            .find_map(|l| l.trim().strip_prefix("Default: "))
            .unwrap_or_else(|| panic!("parameter {name} has no default"));
        serde_json::from_str(default).unwrap_or_else(|e| panic!("parameter {name}: default {default}: {e}"))
    };
    let mut env = Vec::new();
    for line in &lines {
        let Some((var, value)) = line.trim().split_once(": ") else {
            continue;
        };
        if !var.starts_with("MCP_") || var == "MCP_MAX_OUTPUT_TOKENS" {
            continue;
        }
        if let Some(name) = value.strip_prefix("!Ref ") {
            env.push((var.to_string(), default_of(name)));
        } else if var == "MCP_ACCOUNTS_FILE" {
            let path =
                accounts.unwrap_or_else(|| panic!("{}: an accounts file without one in the flags", template.display()));
            env.push((var.to_string(), path.display().to_string()));
        }
    }
    env
}

#[test]
fn checked_in_policies_and_templates_match_what_the_servers_print() {
    // The generator regenerates every file in memory and diffs it with the checked-in one.
    let out = policies_sh(&["--check"]);
    assert!(
        out.status.success(),
        "deploy/ is out of date with what the servers print: run `deploy/policies.sh`\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // And, independently of the generator: same actions as printed, nothing added or lost by
    // scoping; statements the server already scoped (AssumeAccountRoles) kept as printed; the
    // template embeds exactly the checked-in policy.
    for server in SERVERS {
        let printed = printed_policy(server, &config_args(server));
        let file = json_file(&deploy(&format!("policies/{server}.json")));
        assert!(
            !actions(&printed).is_empty(),
            "{server} printed a policy without actions"
        );
        assert_eq!(
            actions(&file),
            actions(&printed),
            "{server}: actions in policies/{server}.json"
        );
        for st in statements(&printed).iter().filter(|s| s["Resource"] != "*") {
            assert!(
                statements(&file).contains(st),
                "{server}: lost the printed statement {st}"
            );
        }
        let template = deploy(&format!("templates/{server}.yaml"));
        assert_eq!(
            template_policy(&template),
            file,
            "{server}: templates/{server}.yaml embeds another policy"
        );
        // On Lambda the flags arrive as the template's environment: the server must come out the same.
        let env = template_env(&template, None);
        assert!(env.iter().any(|(k, _)| k == "MCP_ALLOW_WRITES"), "{server}: {env:?}");
        assert_eq!(
            printed_policy_with(server, &[], &env),
            printed,
            "{server}: the template's environment {env:?} configures the server differently from its flags"
        );
    }
}

/// A one-off deployment (`policies.sh SERVER --config FILE --out DIR`): the generated policy.
fn generate(server: &str, args: &str, dir: &Path) -> Value {
    std::fs::create_dir_all(dir).expect("temp dir");
    let config = dir.join(format!("{server}.args"));
    std::fs::write(&config, args).expect("write config");
    let out = policies_sh(&[
        server,
        "--config",
        config.to_str().expect("utf-8"),
        "--out",
        dir.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "policies.sh {server}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_file(&dir.join(format!("policies/{server}.json")))
}

fn resources_of(policy: &Value, action: &str) -> BTreeSet<String> {
    statements(policy)
        .iter()
        .filter(|s| strings(&s["Action"]).iter().any(|a| a == action))
        .flat_map(|s| strings(&s["Resource"]))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const ACCOUNTS: &str = r#"
[defaults]
role_name = "McpReadOnly"
regions = ["us-east-1"]

[accounts.prod]
id = "111111111111"

[accounts.dev]
id = "222222222222"
role_arn = "arn:aws:iam::222222222222:role/custom/McpAudit"
"#;

#[test]
fn policies_are_scoped_to_the_allowlists_and_the_accounts_roles() {
    let dir = std::env::temp_dir().join(unique("deploy-scope"));
    let accounts = dir.join("accounts.toml");
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(&accounts, ACCOUNTS).expect("accounts file");

    let s3 = generate(
        "aws-s3-mcp",
        &format!(
            "--bucket=logs-*\n--bucket\nreports\n--accounts={}\n",
            accounts.display()
        ),
        &dir.join("s3"),
    );
    assert_eq!(
        resources_of(&s3, "s3:ListAllMyBuckets"),
        set(&["*"]),
        "no resource-level scoping exists"
    );
    assert_eq!(
        resources_of(&s3, "s3:ListBucket"),
        set(&["arn:aws:s3:::logs-*", "arn:aws:s3:::reports"])
    );
    assert_eq!(
        resources_of(&s3, "s3:GetObject"),
        set(&["arn:aws:s3:::logs-*/*", "arn:aws:s3:::reports/*"])
    );
    // Exactly the accounts file's roles, whatever the server.
    assert_eq!(
        resources_of(&s3, "sts:AssumeRole"),
        set(&[
            "arn:aws:iam::111111111111:role/McpReadOnly",
            "arn:aws:iam::222222222222:role/custom/McpAudit"
        ])
    );

    let ddb = generate("aws-dynamodb-mcp", "--table=orders-*\n", &dir.join("ddb"));
    assert_eq!(
        resources_of(&ddb, "dynamodb:GetItem"),
        set(&["arn:aws:dynamodb:*:*:table/orders-*"])
    );
    assert_eq!(
        resources_of(&ddb, "dynamodb:Query"),
        set(&[
            "arn:aws:dynamodb:*:*:table/orders-*",
            "arn:aws:dynamodb:*:*:table/orders-*/index/*"
        ])
    );

    let lambda = generate(
        "aws-lambda-mcp",
        "--function=orders-*\n--allow-invoke\n",
        &dir.join("lambda"),
    );
    assert_eq!(
        resources_of(&lambda, "lambda:InvokeFunction"),
        set(&[
            "arn:aws:lambda:*:*:function:orders-*",
            "arn:aws:lambda:*:*:function:orders-*:*"
        ])
    );
    assert_eq!(resources_of(&lambda, "lambda:ListFunctions"), set(&["*"]));

    let logs = generate("aws-logs-mcp", "--log-group=/aws/lambda/orders-*\n", &dir.join("logs"));
    assert_eq!(
        resources_of(&logs, "logs:StartQuery"),
        set(&[
            "arn:aws:logs:*:*:log-group:/aws/lambda/orders-*",
            "arn:aws:logs:*:*:log-group:/aws/lambda/orders-*:*"
        ])
    );

    let kb = generate("aws-bedrock-kb-mcp", "--kb=ABCDEFGHIJ\n", &dir.join("kb"));
    assert_eq!(
        resources_of(&kb, "bedrock:Retrieve"),
        set(&["arn:aws:bedrock:*:*:knowledge-base/ABCDEFGHIJ"])
    );

    // The STS server's own AssumeRole is narrowed to the accounts file's roles too.
    let sts = generate(
        "aws-sts-mcp",
        &format!("--accounts={}\n", accounts.display()),
        &dir.join("sts"),
    );
    assert_eq!(
        resources_of(&sts, "sts:AssumeRole"),
        set(&[
            "arn:aws:iam::111111111111:role/McpReadOnly",
            "arn:aws:iam::222222222222:role/custom/McpAudit"
        ])
    );
    let template = dir.join("sts/templates/aws-sts-mcp.yaml");
    assert!(read(&template).contains("MCP_ACCOUNTS_FILE: !Sub \"/var/task/${AccountsFile}\""));
    // The template's environment (accounts file and all) configures the server as the flags do.
    let env = template_env(&template, Some(&accounts));
    let flags = [format!("--accounts={}", accounts.display())];
    assert_eq!(
        printed_policy_with("aws-sts-mcp", &[], &env),
        printed_policy("aws-sts-mcp", &flags)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_flag_the_generator_does_not_know_is_refused() {
    let dir = std::env::temp_dir().join(unique("deploy-bad"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("s3.args");
    std::fs::write(&config, "--max-output-tokens=5000\n").expect("write config");
    let out = policies_sh(&[
        "aws-s3-mcp",
        "--config",
        config.to_str().expect("utf-8"),
        "--out",
        dir.to_str().expect("utf-8"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--max-output-tokens") && stderr.contains("template parameters"),
        "{stderr}"
    );
    assert!(!dir.join("policies").exists(), "nothing written on error");
    let _ = std::fs::remove_dir_all(&dir);
}

/// cfn-lint from the emulator venv (pinned by localstack/install.sh), else from PATH.
fn cfn_lint() -> PathBuf {
    let venv = emulator_venv_bin().join("cfn-lint");
    if venv.is_file() {
        return venv;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("cfn-lint"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "cfn-lint was not found (looked in {} and on PATH). Install it with `localstack/install.sh` \
                 (pins cfn-lint into the emulator venv) or `pip install cfn-lint==1.58.0`.",
                emulator_venv_bin().display()
            )
        })
}

#[test]
fn templates_pass_cfn_lint() {
    let mut templates: Vec<PathBuf> = SERVERS.iter().map(|s| deploy(&format!("templates/{s}.yaml"))).collect();
    // Plus a variant with every optional part: allowlists, --tools, regions and an accounts file.
    let dir = std::env::temp_dir().join(unique("deploy-lint"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let accounts = dir.join("accounts.toml");
    std::fs::write(&accounts, ACCOUNTS).expect("accounts file");
    let flags = [
        "--function=orders-*".to_string(),
        "--function=billing".to_string(),
        "--allow-invoke".to_string(),
        "--tools=list_functions,invoke_function".to_string(),
        "--regions=us-east-1,eu-west-1".to_string(),
        format!("--accounts={}", accounts.display()),
    ];
    generate("aws-lambda-mcp", &(flags.join("\n") + "\n"), &dir);
    let variant = dir.join("templates/aws-lambda-mcp.yaml");
    // Its environment configures the server exactly as the flags do.
    let env = template_env(&variant, Some(&accounts));
    assert_eq!(
        printed_policy_with("aws-lambda-mcp", &[], &env),
        printed_policy("aws-lambda-mcp", &flags),
        "{env:?}"
    );
    templates.push(variant);
    let out = Command::new(cfn_lint())
        .args(&templates)
        .output()
        .expect("run cfn-lint");
    assert!(
        out.status.success(),
        "cfn-lint found problems:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The lint ran on real templates (a shape check, so that an empty file cannot pass).
    for t in &templates {
        assert_eq!(template_policy(t)["Version"], json!("2012-10-17"), "{}", t.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// The optional audit table (AuditTable / AuditRequired parameters, `--audit-table`)

/// The `audit-table` policy of a template, as its lines (between its PolicyName and the `!If`'s
/// else branch), with the stack's pseudo parameters and AuditTable substituted.
fn template_audit_statement(template: &Path, table: &str) -> Value {
    let text = read(template);
    let block: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("PolicyName: audit-table"))
        .take_while(|l| !l.contains("!Ref AWS::NoValue"))
        .collect();
    let field = |name: &str| -> String {
        block
            .iter()
            .find_map(|l| l.trim().trim_start_matches("- ").strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("{}: no {name} in the audit-table policy: {block:?}", template.display()))
            .to_owned()
    };
    let resource = field("Resource");
    let resource = resource
        .strip_prefix("!Sub ")
        .and_then(|r| serde_json::from_str::<String>(r).ok())
        .unwrap_or_else(|| panic!("Resource is not a !Sub string: {resource}"))
        .replace("${AWS::Partition}", "aws")
        .replace("${AWS::Region}", "us-east-1")
        .replace("${AWS::AccountId}", "*")
        .replace("${AuditTable}", table);
    let actions: Vec<String> = field("Action")
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(|a| a.trim().to_owned())
        .collect();
    json!({"Sid": field("Sid"), "Effect": field("Effect"), "Action": actions, "Resource": resource})
}

#[test]
fn the_audit_table_parameter_grants_exactly_what_the_servers_print_for_it() {
    let table = "mcp-audit";
    for server in SERVERS {
        let args = config_args(server);
        let without = printed_policy(server, &args);
        let mut with_args = args.clone();
        with_args.push(format!("--audit-table={table}"));
        let with = printed_policy(server, &with_args);
        let audit: Vec<Value> = statements(&with)
            .into_iter()
            .filter(|s| s["Sid"] == "AuditTable")
            .collect();
        assert_eq!(
            audit,
            [
                json!({"Sid": "AuditTable", "Effect": "Allow", "Action": ["dynamodb:PutItem"],
                    "Resource": format!("arn:aws:dynamodb:us-east-1:*:table/{table}")})
            ],
            "{server}: PutItem on exactly the audit table"
        );
        // Nothing else changes.
        let rest: Vec<Value> = statements(&with)
            .into_iter()
            .filter(|s| s["Sid"] != "AuditTable")
            .collect();
        assert_eq!(rest, statements(&without), "{server}");
        // The environment variable says the same as the flag (the template sets it on Lambda).
        let env = [("MCP_AUDIT_TABLE".to_owned(), table.to_owned())];
        assert_eq!(printed_policy_with(server, &args, &env), with, "{server}");
        // The template's conditional policy is that statement, in the stack's own account.
        let template = deploy(&format!("templates/{server}.yaml"));
        assert_eq!(
            template_audit_statement(&template, table),
            audit[0],
            "{server}: the template's audit-table policy"
        );
        let text = read(&template);
        for line in [
            "MCP_AUDIT_TABLE: !If [HasAuditTable, !Ref AuditTable, !Ref AWS::NoValue]",
            "MCP_AUDIT_REQUIRED: !If [AuditIsRequired, \"true\", !Ref AWS::NoValue]",
        ] {
            assert!(text.contains(line), "{server}: the template sets {line}");
        }
    }
    // A table ARN is used as given; an invalid name stops the server before it prints anything.
    let arn = "arn:aws:dynamodb:eu-west-1:111111111111:table/central-audit";
    let printed = printed_policy("aws-sts-mcp", &[format!("--audit-table={arn}")]);
    assert!(
        statements(&printed)
            .iter()
            .any(|s| s["Sid"] == "AuditTable" && s["Resource"] == arn),
        "{printed}"
    );
    let out = Command::new(server_bin("aws-sts-mcp"))
        .args(["--print-iam-policy", "--audit-table=no", "--audit-required"])
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("run aws-sts-mcp");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("--audit-table"), "{stderr}");
    let out = Command::new(server_bin("aws-sts-mcp"))
        .args(["--print-iam-policy", "--audit-required"])
        .env("AWS_REGION", "us-east-1")
        .env_remove("MCP_AUDIT_TABLE")
        .output()
        .expect("run aws-sts-mcp");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("--audit-table"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// The AgentCore Runtime container recipe (no Docker here: the recipe is checked against the servers)

/// What `deploy/agentcore/Dockerfile` says: the SERVER values its guard accepts, and its final
/// stage's platform, environment, exposed ports and entry point.
struct Recipe {
    servers: BTreeSet<String>,
    final_from: String,
    env: Vec<(String, String)>,
    expose: Vec<String>,
    entrypoint: Vec<String>,
    text: String,
}

fn recipe() -> Recipe {
    let text = read(&deploy("agentcore/Dockerfile"));
    let lines: Vec<&str> = text.lines().collect();
    let case = lines
        .iter()
        .position(|l| l.contains("case \"$SERVER\" in"))
        .expect("the SERVER guard (case \"$SERVER\" in)");
    let servers = lines[case + 1]
        .trim()
        .split(')')
        .next()
        .unwrap_or_default()
        .split('|')
        .map(str::to_owned)
        .collect();
    let last_from = lines.iter().rposition(|l| l.starts_with("FROM ")).expect("a FROM line");
    let stage = &lines[last_from..];
    let env = stage
        .iter()
        .filter_map(|l| l.strip_prefix("ENV "))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let expose = stage
        .iter()
        .filter_map(|l| l.strip_prefix("EXPOSE "))
        .flat_map(|p| p.split_whitespace().map(str::to_owned))
        .collect();
    let entrypoint = stage
        .iter()
        .find_map(|l| l.strip_prefix("ENTRYPOINT "))
        .map(|e| serde_json::from_str(e).unwrap_or_else(|err| panic!("ENTRYPOINT is not exec form ({err}): {e}")))
        .expect("an ENTRYPOINT in the final stage");
    Recipe {
        servers,
        final_from: lines[last_from].to_owned(),
        env,
        expose,
        entrypoint,
        text,
    }
}

#[test]
fn the_agentcore_recipe_names_every_server_and_builds_arm64() {
    let r = recipe();
    let six: BTreeSet<String> = SERVERS.iter().map(|s| s.to_string()).collect();
    assert_eq!(r.servers, six, "the SERVER guard accepts exactly the six servers");
    // Every server crate's binary, from the workspace itself.
    let mut bins = BTreeSet::new();
    for dir in std::fs::read_dir(root().join("servers")).expect("servers/") {
        let manifest = read(&dir.expect("entry").path().join("Cargo.toml"));
        let name = manifest
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .and_then(|n| serde_json::from_str::<String>(n).ok())
            .expect("a package name");
        bins.insert(name);
    }
    assert_eq!(bins, six, "servers/ and the recipe disagree");
    // The comment that documents SERVER lists the same names.
    let documented = r
        .text
        .lines()
        .find_map(|l| l.strip_prefix("# SERVER is one of: "))
        .expect("the documented SERVER values");
    assert_eq!(
        documented
            .split_whitespace()
            .map(str::to_owned)
            .collect::<BTreeSet<_>>(),
        six
    );
    // ARM64: the runtime stage is arm64 and the build cross-compiles for aarch64.
    assert!(r.final_from.contains("--platform=linux/arm64"), "{}", r.final_from);
    assert!(r.text.contains("--target aarch64-unknown-linux-gnu"));
    assert!(r.text.contains("target/aarch64-unknown-linux-gnu/$PROFILE/$SERVER"));
    // The binary the build installs is the one the entry point runs.
    let installed = r
        .text
        .lines()
        .find_map(|l| l.trim().strip_prefix("COPY --from=build /out/mcp-server "))
        .expect("the COPY of the built server");
    assert_eq!(r.entrypoint[0], installed);
    assert_eq!(r.expose, ["8000"], "AgentCore Runtime sends MCP to port 8000");
}

/// Run `server` as the container would (the entry point's arguments, the image's environment, no
/// other setting) and return the address it listens on, or the one it could not bind.
async fn started_as_in_the_container(server: &str, r: &Recipe) -> (aws_mcp_tests::Proc, String) {
    let mut cmd = tokio::process::Command::new(server_bin(server));
    cmd.args(&r.entrypoint[1..])
        .env_clear()
        .envs(r.env.iter().map(|(k, v)| (k, v)))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let mut proc = aws_mcp_tests::Proc::spawn(server, cmd);
    let line = proc
        .wait_for_line(std::time::Duration::from_secs(60), |l| {
            l.contains("listening on http://") || l.contains("cannot bind")
        })
        .await;
    (proc, line)
}

#[tokio::test]
async fn the_agentcore_recipe_starts_each_server_in_agentcore_mode_on_port_8000() {
    let r = recipe();
    assert!(
        r.entrypoint.iter().any(|a| a == "--agentcore-runtime")
            || r.env.iter().any(|(k, v)| k == "MCP_AGENTCORE_RUNTIME" && v == "true"),
        "the container must start the server in AgentCore Runtime mode"
    );
    for server in SERVERS {
        let (mut proc, line) = started_as_in_the_container(server, &r).await;
        if line.contains("cannot bind") {
            // Something else on this machine holds port 8000: the address tried is what matters.
            assert!(line.contains("0.0.0.0:8000"), "{server}: {line}");
            eprintln!("{server}: port 8000 is busy here, only the address was checked: {line}");
            continue;
        }
        assert!(
            line.contains("listening on http://0.0.0.0:8000/mcp"),
            "{server}: {line}"
        );
        // JSON log lines, as the image asks for (CloudWatch Logs Insights reads their fields).
        let _: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{server}: not a JSON log line ({e}): {line}"));
        // What the runtime sends: its health probe, and MCP with its session headers and Host.
        let http = reqwest::Client::new();
        let ping = http.get("http://127.0.0.1:8000/ping").send().await.expect("GET /ping");
        assert_eq!(ping.status().as_u16(), 200, "{server}");
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "agentcore-recipe", "version": "0"}}});
        let resp = http
            .post("http://127.0.0.1:8000/mcp")
            .header("host", "bedrock-agentcore.us-east-1.amazonaws.com")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", "runtime-session-0123456789")
            .header(
                "x-amzn-bedrock-agentcore-runtime-session-id",
                "runtime-session-0123456789",
            )
            .body(init.to_string())
            .send()
            .await
            .expect("POST /mcp");
        assert_eq!(resp.status().as_u16(), 200, "{server}");
        let body: Value = serde_json::from_str(&resp.text().await.expect("body")).expect("a JSON answer");
        assert_eq!(body["result"]["serverInfo"]["name"], server, "{body}");
        proc.kill().await;
    }
}
