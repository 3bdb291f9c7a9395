//! The checks every server must pass, generated from the live `tools/list` (see
//! `aws_mcp_tests::contract`).

use aws_mcp_tests::contract::Contract;

const CONTRACT: Contract = Contract {
    bin: crate::BIN,
    allowlist: None,
    setup: None,
    capability_flags: &[],
    has_resources: false,
    resources_page: 0,
    extra_args: &[],
};

aws_mcp_tests::contract_tests!(CONTRACT);
