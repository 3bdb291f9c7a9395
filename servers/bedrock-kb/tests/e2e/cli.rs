//! The binary's command line, without AWS (the checks every server shares).

aws_mcp_tests::cli_tests!("aws-bedrock-kb-mcp", "--kb");
