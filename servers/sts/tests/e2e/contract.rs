//! The checks every server must pass, generated from the live `tools/list` (see
//! `aws_mcp_tests::contract`). This server has no allowlist, no capability flag and no resources;
//! it runs with an accounts file and `--organization`, so every tool's `account` argument (open to
//! the organization's accounts, resolved by this server's own dispatch) goes through the checks too.

use aws_mcp_tests::contract::Contract;

const CONTRACT: Contract = Contract {
    bin: crate::BIN,
    allowlist: None,
    setup: None,
    capability_flags: &[],
    has_resources: false,
    resources_page: 0,
    extra_args: &[
        "--accounts",
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/contract-accounts.toml"),
        "--organization",
        // The audit check's inventory covers every account of moto's organization: bounded.
        "--deadline-ms",
        "10000",
    ],
};

aws_mcp_tests::contract_tests!(CONTRACT);
