//! The binary's command line, without AWS. Also makes `cargo test --workspace` build the binary
//! before the end-to-end tests in `tests/` run it.

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aws-dynamodb-mcp"));
    // Nothing from the developer's own AWS set-up.
    for k in ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"] {
        c.env_remove(k);
    }
    c.env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    c
}

#[test]
fn help_lists_the_safety_flags() {
    let out = bin().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--allow-writes",
        "--table",
        "--region",
        "--profile",
        "--transport",
        "--max-output-tokens",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn no_region_is_a_clear_start_up_error_not_a_default() {
    let out = bin().stdin(std::process::Stdio::null()).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no AWS region is configured") && err.contains("--region"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "stdout belongs to MCP");
}

#[test]
fn non_loopback_http_without_a_token_is_refused() {
    let out = bin()
        .args(["--region", "us-east-1", "--transport", "http", "--bind", "0.0.0.0:0"])
        .env_remove("MCP_AUTH_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("MCP_AUTH_TOKEN"));
}
