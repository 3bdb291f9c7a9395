//! The checks every server must pass, generated from the live `tools/list` (see
//! `aws_mcp_tests::contract`).
//!
//! `has_resources` is false only because the shared resources check starts the server against
//! moto directly, whose bedrock-agent answers carry epoch-number timestamps the SDK refuses (see
//! `rig`); `discovery::resources_page_with_a_cursor_and_complete_ids` checks the same promise
//! through the pass-through.

use aws_mcp_tests::contract::{Allowlist, BoxFuture, Contract};

/// One knowledge base whose name starts with `prefix`.
fn one_kb(prefix: String) -> BoxFuture<'static, String> {
    Box::pin(async move { crate::rig::one_kb(&prefix).await })
}

/// Delete it afterwards.
fn drop_kb(name: String) -> BoxFuture<'static, ()> {
    Box::pin(async move { crate::rig::drop_kb_named(&name).await })
}

const CONTRACT: Contract = Contract {
    bin: crate::BIN,
    allowlist: Some(Allowlist {
        flag: "--kb",
        argument: "knowledge_base_id",
    }),
    setup: Some(one_kb),
    capability_flags: &["--allow-generate"],
    has_resources: false,
    resources_page: 50,
    extra_args: &[],
};

aws_mcp_tests::contract_tests!(CONTRACT, teardown = drop_kb);
