//! Checks every server binary's command line must pass, without AWS: generated as `#[test]`s in
//! each server's end-to-end test binary by [`crate::cli_tests!`] (in `servers/<x>/tests/e2e/cli.rs`).

use std::process::{Command, Stdio};

fn bare(bin: &str) -> Command {
    let mut c = Command::new(bin);
    // Nothing from the developer's own AWS set-up.
    for k in [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "MCP_AUTH_TOKEN",
    ] {
        c.env_remove(k);
    }
    for (k, _) in std::env::vars_os() {
        if k.to_str().is_some_and(|k| k.starts_with("AWS_ENDPOINT_URL")) {
            c.env_remove(&k);
        }
    }
    c.env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    c
}

/// `--help` documents the safety flags, including the server's own allowlist flag.
pub fn help_lists_the_safety_flags(bin: &str, allowlist_flag: &str) {
    let out = bare(bin).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--allow-writes",
        allowlist_flag,
        "--region",
        "--profile",
        "--transport",
        "--max-output-tokens",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

/// Without a region the server says how to set one, on stderr, and exits: no default region.
pub fn no_region_is_a_clear_start_up_error(bin: &str) {
    let out = bare(bin).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no AWS region is configured") && err.contains("--region"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "stdout belongs to MCP");
}

/// Serving HTTP beyond loopback without a bearer token is refused.
pub fn non_loopback_http_without_a_token_is_refused(bin: &str) {
    let out = bare(bin)
        .args(["--region", "us-east-1", "--transport", "http", "--bind", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("MCP_AUTH_TOKEN"));
}

/// The [`crate::cli`] checks as `#[test]`s for one server binary, in a module of the server's e2e test
/// binary (`servers/<x>/tests/e2e/cli.rs`): `aws_mcp_tests::cli_tests!("aws-s3-mcp", "--bucket");`.
#[macro_export]
macro_rules! cli_tests {
    ($bin:literal, $allowlist_flag:literal) => {
        const BIN: &str = env!(concat!("CARGO_BIN_EXE_", $bin));

        #[test]
        fn help_lists_the_safety_flags() {
            $crate::cli::help_lists_the_safety_flags(BIN, $allowlist_flag);
        }

        #[test]
        fn no_region_is_a_clear_start_up_error() {
            $crate::cli::no_region_is_a_clear_start_up_error(BIN);
        }

        #[test]
        fn non_loopback_http_without_a_token_is_refused() {
            $crate::cli::non_loopback_http_without_a_token_is_refused(BIN);
        }
    };
}
