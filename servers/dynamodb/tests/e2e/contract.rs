//! The checks every server must pass, generated from the live `tools/list` (see
//! `aws_mcp_tests::contract`).

use aws_mcp_tests::contract::{Allowlist, BoxFuture, Contract};

/// One table keyed by `pk` whose name starts with `prefix`.
fn one_table(prefix: String) -> BoxFuture<'static, String> {
    Box::pin(async move {
        let name = aws_mcp_tests::unique(&prefix);
        aws_mcp_tests::fixtures::dynamodb::create_simple(&aws_mcp_tests::dynamodb().await, &name).await;
        name
    })
}

/// Delete a table the contract made.
fn drop_table(name: String) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        aws_mcp_tests::fixtures::dynamodb::drop_table(&aws_mcp_tests::dynamodb().await, &name).await;
    })
}

const CONTRACT: Contract = Contract {
    bin: crate::BIN,
    allowlist: Some(Allowlist {
        flag: "--table",
        argument: "table",
    }),
    setup: Some(one_table),
    capability_flags: &["--allow-writes"],
    has_resources: true,
    // RESOURCE_PAGE in src/resources.rs.
    resources_page: 100,
    extra_args: &[],
};

aws_mcp_tests::contract_tests!(CONTRACT, teardown = drop_table);
