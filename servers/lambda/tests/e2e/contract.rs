//! The checks every server passes, generated from the live tools/list.

use aws_mcp_tests::contract::{Allowlist, BoxFuture, Contract};

fn one_function(prefix: String) -> BoxFuture<'static, String> {
    Box::pin(async move {
        let name = aws_mcp_tests::unique(&prefix);
        crate::support::create_function(&name, crate::support::Spec::default()).await;
        name
    })
}

fn drop_function(name: String) -> BoxFuture<'static, ()> {
    Box::pin(async move { crate::support::delete_functions(&[&name]).await })
}

const CONTRACT: Contract = Contract {
    bin: "aws-lambda-mcp",
    allowlist: Some(Allowlist {
        flag: "--function",
        argument: "function",
    }),
    setup: Some(one_function),
    capability_flags: &["--allow-invoke"],
    has_resources: true,
    // Pages are a quarter of the output budget: under the check's 500 tokens, about five resources.
    resources_page: 0,
    extra_args: &[],
};

aws_mcp_tests::contract_tests!(CONTRACT, teardown = drop_function);
