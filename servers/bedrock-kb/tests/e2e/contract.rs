//! The checks every server must pass, generated from the live `tools/list` (see
//! `aws_mcp_tests::contract`). The checks that reach AWS start the server through the rig, as
//! every other test here does: moto's control plane behind the pass-through, which also serves
//! ListDataSources (moto answers it 404), so the resources check lists and reads real bases.

use aws_mcp_tests::{
    McpBuilder, Service,
    contract::{Allowlist, BoxFuture, Contract, Launch},
};

/// One knowledge base whose name starts with `prefix`.
fn one_kb(prefix: String) -> BoxFuture<'static, String> {
    Box::pin(async move { crate::rig::one_kb(&prefix).await })
}

/// Delete it afterwards.
fn drop_kb(name: String) -> BoxFuture<'static, ()> {
    Box::pin(async move { crate::rig::drop_kb_named(&name).await })
}

/// Both Bedrock Agent services at a rig, which lives as long as the server.
fn through_rig(builder: McpBuilder) -> BoxFuture<'static, Launch> {
    Box::pin(async move {
        let rig = crate::rig::Rig::start().await;
        let url = rig.fake.url();
        Launch {
            builder: builder
                .endpoint(Service::BedrockAgent, &url)
                .endpoint(Service::BedrockAgentRuntime, &url),
            guard: Box::new(rig),
        }
    })
}

const CONTRACT: Contract = Contract {
    bin: crate::BIN,
    allowlist: Some(Allowlist {
        flag: "--kb",
        argument: "knowledge_base_id",
    }),
    setup: Some(one_kb),
    capability_flags: &["--allow-generate"],
    has_resources: true,
    // RESOURCE_PAGE in src/resources.rs.
    resources_page: 50,
    extra_args: &[],
};

aws_mcp_tests::contract_tests!(CONTRACT, teardown = drop_kb, launch = through_rig);
