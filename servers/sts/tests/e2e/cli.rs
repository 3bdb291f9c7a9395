//! The binary's command line, without AWS (the checks every server shares).

aws_mcp_tests::cli_tests!("aws-sts-mcp", "--accounts");

/// The printed policy allows the listed tools' read actions, and AssumeRole only on the accounts'
/// roles (with `--organization`, on the default role in any account).
#[test]
fn the_iam_policy_assumes_only_the_accounts_roles() {
    use aws_mcp_tests::fixtures::accounts::{AccountsFile, accounts};
    let accts = accounts(&["prod", "dev"]);
    let file = AccountsFile::for_accounts(&accts, &["us-east-1"]);
    let policy = |extra: &[&str]| -> serde_json::Value {
        let out = std::process::Command::new(BIN)
            .args(["--region", "us-east-1", "--accounts", &file.arg(), "--print-iam-policy"])
            .args(extra)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let p = policy(&[]);
    let statements = p["Statement"].as_array().unwrap();
    let tools = &statements[0]["Action"];
    assert!(!tools.to_string().contains("AssumeRole"), "{p}");
    assert!(
        tools.as_array().unwrap().iter().all(|a| {
            let op = a.as_str().unwrap().split(':').nth(1).unwrap();
            ["List", "Describe", "Get", "Decode"].iter().any(|v| op.starts_with(v))
        }),
        "{p}"
    );
    let roles: Vec<String> = accts.iter().map(|a| a.role_arn()).collect();
    let assume = statements.iter().find(|s| s["Sid"] == "AssumeAccountRoles").unwrap();
    let mut got: Vec<String> = serde_json::from_value(assume["Resource"].clone()).unwrap();
    got.sort();
    let mut want = roles.clone();
    want.sort();
    assert_eq!(got, want);
    let org = policy(&["--organization"]);
    assert!(
        org["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["Resource"] == "arn:aws:iam::*:role/McpReadOnly"),
        "{org}"
    );
}
