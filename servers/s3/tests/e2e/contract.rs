//! The checks every server must pass, generated from the live `tools/list` (see
//! `aws_mcp_tests::contract`).

use aws_mcp_tests::contract::{Allowlist, BoxFuture, Contract};

/// One empty bucket whose name starts with `prefix`.
fn one_bucket(prefix: String) -> BoxFuture<'static, String> {
    Box::pin(async move { aws_mcp_tests::fixtures::s3::bucket_named(&prefix, &[]).await })
}

/// Delete an (empty) bucket the contract made.
fn drop_bucket(name: String) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        let s3 = aws_mcp_tests::s3().await;
        // The audit check may have written objects with write tools.
        if let Ok(list) = s3.list_objects_v2().bucket(&name).send().await {
            for o in list.contents() {
                let _ = s3
                    .delete_object()
                    .bucket(&name)
                    .key(o.key().unwrap_or_default())
                    .send()
                    .await;
            }
        }
        let _ = s3.delete_bucket().bucket(&name).send().await;
    })
}

const CONTRACT: Contract = Contract {
    bin: crate::BIN,
    allowlist: Some(Allowlist {
        flag: "--bucket",
        argument: "bucket",
    }),
    setup: Some(one_bucket),
    capability_flags: &["--allow-writes"],
    has_resources: true,
    // RESOURCE_PAGE in src/resources.rs.
    resources_page: 100,
    extra_args: &[],
};

aws_mcp_tests::contract_tests!(CONTRACT, teardown = drop_bucket);
