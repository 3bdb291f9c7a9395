//! The checks every server must pass, generated from the live `tools/list` (see
//! `aws_mcp_tests::contract`).

use aws_mcp_tests::contract::{Allowlist, BoxFuture, Contract};

fn one_group(prefix: String) -> BoxFuture<'static, String> {
    Box::pin(crate::fixtures::small_group(prefix))
}

const CONTRACT: Contract = Contract {
    bin: crate::BIN,
    allowlist: Some(Allowlist {
        flag: "--log-group",
        argument: "log_group",
    }),
    setup: Some(one_group),
    capability_flags: &[],
    has_resources: true,
    // AWS_PAGE in src/tools/groups.rs (DescribeLogGroups' maximum).
    resources_page: 50,
    extra_args: &[],
};

aws_mcp_tests::contract_tests!(CONTRACT);
