//! Errors: AWS codes with request ids and hints, arguments named, the allowlist.

use aws_mcp_tests::{Mcp, fixtures::s3::bucket_with, unique};
use rmcp::model::ReadResourceRequestParams;
use serde_json::json;

use crate::BIN;

#[tokio::test]
async fn missing_bucket_and_missing_key_are_tool_errors_with_their_aws_codes() {
    let bucket = bucket_with(&[("k", b"v", "text/plain")]).await;
    let mcp = Mcp::start(BIN, &[]).await;
    let e = mcp
        .err("get_object", json!({"bucket": unique("missing"), "key": "k"}))
        .await;
    assert_eq!(e["code"], "NoSuchBucket");
    assert_eq!(e["http_status"], 404);
    assert!(e["request_id"].is_string());
    assert!(e["hint"].as_str().unwrap().contains("list_buckets"));
    let e = mcp.err("list_objects", json!({"bucket": unique("missing")})).await;
    assert_eq!(e["code"], "NoSuchBucket");
    let e = mcp
        .err("get_object", json!({"bucket": bucket, "key": "nope.txt"}))
        .await;
    assert_eq!(e["code"], "NoSuchKey");
    assert_eq!(e["kind"], "aws");
    let e = mcp
        .err("head_object", json!({"bucket": bucket, "key": "nope.txt"}))
        .await;
    assert_eq!(e["code"], "NoSuchKey");
    // The server keeps serving after errors.
    assert_eq!(
        mcp.ok("get_object", json!({"bucket": bucket, "key": "k"})).await["text"],
        "v"
    );
}

#[tokio::test]
async fn bad_arguments_name_the_field() {
    let mcp = Mcp::start(BIN, &[]).await;
    let e = mcp.err("list_objects", json!({})).await;
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_argument"), Some("bucket"))
    );
    let e = mcp
        .err("list_objects", json!({"bucket": "some-bucket", "page_size": 5000}))
        .await;
    assert_eq!(e["field"], "page_size");
    assert!(e["summary"].as_str().unwrap().contains("between 1 and 1000"));
    let e = mcp
        .err("list_objects", json!({"bucket": "some-bucket", "prefx": "a"}))
        .await;
    assert_eq!(e["field"], "prefx");
    assert!(e["summary"].as_str().unwrap().contains("prefix"));
    let e = mcp
        .err(
            "presign_url",
            json!({"bucket": "some-bucket", "key": "k", "expires_in_secs": 999999}),
        )
        .await;
    assert_eq!(e["field"], "expires_in_secs");
    let e = mcp
        .err("find_objects", json!({"bucket": "some-bucket", "pattern": "[unclosed"}))
        .await;
    assert_eq!(e["field"], "pattern");
}

#[tokio::test]
async fn the_allowlist_refuses_other_buckets_everywhere() {
    let allowed = bucket_with(&[("k", b"v", "text/plain")]).await;
    let other = bucket_with(&[("k", b"v", "text/plain")]).await;
    let mcp = Mcp::start(BIN, &["--bucket", &allowed]).await;
    // Every tool taking `bucket` is checked by the contract; here, what the refusal says.
    let e = mcp.err("get_object", json!({"bucket": other, "key": "k"})).await;
    assert_eq!(e["kind"], "not_allowed");
    assert_eq!(e["name"], other.as_str());
    // copy_object's source bucket is constrained too (not the schema's `bucket` argument).
    let rw = Mcp::start(BIN, &["--bucket", &allowed, "--allow-writes"]).await;
    let e = rw
        .err(
            "copy_object",
            json!({"source_bucket": other, "source_key": "k", "bucket": allowed, "key": "copied"}),
        )
        .await;
    assert_eq!(e["kind"], "not_allowed", "{e}");
    assert_eq!(e["name"], other.as_str());
    assert_eq!(
        mcp.ok("get_object", json!({"bucket": allowed, "key": "k"})).await["text"],
        "v"
    );
    // Listings only show allowed buckets.
    let names: Vec<String> = mcp
        .pages("list_buckets", json!({"page_size": 1000}), "buckets")
        .await
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&allowed) && !names.contains(&other));
    // Resources too.
    let err = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!("s3://{other}/k")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("allowlist"), "{err}");
}
