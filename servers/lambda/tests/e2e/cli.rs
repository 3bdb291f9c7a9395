//! The binary's command line, without AWS (the checks every server shares).

aws_mcp_tests::cli_tests!("aws-lambda-mcp", "--function");

#[test]
fn function_tools_without_allow_invoke_refuse_to_start() {
    let out = std::process::Command::new(BIN)
        .args(["--region", "us-east-1", "--function-tools"])
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--allow-invoke"), "{err}");
    assert!(out.stdout.is_empty(), "stdout belongs to MCP");
}
