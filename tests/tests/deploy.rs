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
