//! MCP resources: templates, the bucket listing, object contents, completions.

use std::collections::HashSet;

use aws_mcp_tests::{Mcp, fixtures::s3::bucket_with};
use rmcp::model::{PaginatedRequestParams, ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

use crate::BIN;

#[tokio::test]
async fn resources_templates_and_completions() {
    let bucket = bucket_with(&[
        ("docs/readme.md", b"# hi", "text/markdown"),
        ("docs/guide.md", b"g", "text/markdown"),
    ])
    .await;
    let mcp = Mcp::start(BIN, &["--bucket", &bucket]).await;

    let templates = mcp.client.list_all_resource_templates().await.unwrap();
    assert_eq!(templates[0].uri_template, "s3://{bucket}/{key}");

    let listed = mcp
        .client
        .list_resources(Some(PaginatedRequestParams::default()))
        .await
        .unwrap();
    let uris: HashSet<String> = listed.resources.iter().map(|r| r.uri.clone()).collect();
    assert_eq!(
        uris,
        HashSet::from([format!("s3://{bucket}/")]),
        "only the allowed bucket"
    );

    let read = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!("s3://{bucket}/docs/readme.md")))
        .await
        .unwrap();
    match &read.contents[0] {
        ResourceContents::TextResourceContents { text, mime_type, .. } => {
            assert_eq!(text, "# hi");
            assert_eq!(mime_type.as_deref(), Some("text/markdown"));
        }
        other => panic!("expected text, got {other:?}"),
    }
    let listing = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!("s3://{bucket}/")))
        .await
        .unwrap();
    match &listing.contents[0] {
        ResourceContents::TextResourceContents { text, .. } => {
            assert_eq!(
                serde_json::from_str::<Value>(text).unwrap()["folders"],
                json!(["docs/"])
            );
        }
        other => panic!("expected text, got {other:?}"),
    }
    let err = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!("s3://{bucket}/missing")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NoSuchKey"), "{err}");

    let prefix = &bucket[..6];
    let names = mcp
        .client
        .complete_resource_simple("s3://{bucket}/{key}", "bucket", prefix)
        .await
        .unwrap();
    assert_eq!(names, vec![bucket], "allowlist-filtered completions");
}
