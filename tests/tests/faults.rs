//! Failures the emulators cannot produce, from the fake AWS endpoint (`aws_mcp_tests::fake`)
//! speaking the services' real wire formats: throttling (the SDK retries, then the tool says how
//! often it tried, or succeeds when the throttling stops in time), access denied (the hint names
//! the IAM action), a slow endpoint (timeout), a reset connection, a broken body, and a closed
//! port (unreachable). Each must be a clear tool error naming the endpoint, never a hang.
//! S3 is REST-XML, DynamoDB AWS JSON 1.0.

use std::time::{Duration, Instant};

use aws_mcp_tests::{
    Mcp,
    fake::{Fake, Reply, throttle, throttle_with},
    free_port,
};
use serde_json::json;

const S3: &str = "aws-s3-mcp";
const DYNAMODB: &str = "aws-dynamodb-mcp";

/// A fake S3 that knows every bucket is in us-east-1 (the server looks the region up first).
async fn fake_s3() -> Fake {
    let f = Fake::start().await;
    f.on_xml(
        "HeadBucket",
        "HEAD /{bucket}",
        Reply::empty(200).header("x-amz-bucket-region", "us-east-1"),
    );
    f
}

fn throughput_exceeded() -> Reply {
    Reply::error(
        400,
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    )
}

#[tokio::test]
async fn s3_throttling_is_retried_then_reported_with_the_attempt_count() {
    let f = fake_s3().await;
    f.on_xml("ListObjectsV2", "GET /{bucket}?list-type=2", Reply::throttled());
    let mcp = Mcp::start_against(S3, &["--region", "us-east-1", "--max-attempts", "3"], &f.url()).await;
    let e = mcp.err("list_objects", json!({"bucket": "busy"})).await;
    assert_eq!(e["code"], "SlowDown");
    assert_eq!(e["http_status"], 503);
    assert_eq!(e["retryable"], true);
    assert!(e["hint"].as_str().unwrap().contains("tried 3 times"), "{e}");
    // One HEAD for the bucket's region, then three ListObjectsV2 attempts.
    assert_eq!(f.requests_for("HeadBucket").len(), 1);
    assert_eq!(f.requests_for("ListObjectsV2").len(), 3);
    assert_eq!(f.count(), 4, "nothing else was sent");
}

#[tokio::test]
async fn s3_throttling_that_stops_within_the_attempts_is_invisible() {
    let f = fake_s3().await;
    f.on_xml(
        "ListObjectsV2",
        "GET /{bucket}?list-type=2",
        throttle(
            2,
            Reply::xml(
                "<ListBucketResult><Name>busy</Name><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated>\
                 <Contents><Key>k.txt</Key><Size>3</Size><StorageClass>STANDARD</StorageClass>\
                 <LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents></ListBucketResult>",
            ),
        ),
    );
    let mcp = Mcp::start_against(S3, &["--region", "us-east-1", "--max-attempts", "3"], &f.url()).await;
    let page = mcp.ok("list_objects", json!({"bucket": "busy"})).await;
    assert_eq!(page["objects"][0]["key"], "k.txt", "{page}");
    assert_eq!(
        f.requests_for("ListObjectsV2").len(),
        3,
        "two throttled, the third answered"
    );
}

#[tokio::test]
async fn s3_access_denied_names_the_iam_action() {
    let f = fake_s3().await;
    f.on_xml(
        "ListObjectsV2",
        "GET /{bucket}?list-type=2",
        Reply::access_denied(false, "s3:ListBucket"),
    );
    let mcp = Mcp::start_against(S3, &["--region", "us-east-1"], &f.url()).await;
    let e = mcp.err("list_objects", json!({"bucket": "locked"})).await;
    assert_eq!(e["code"], "AccessDenied");
    assert_eq!(e["http_status"], 403);
    assert_eq!(e["retryable"], false);
    assert!(e["hint"].as_str().unwrap().contains("s3:ListBucket"), "{e}");
    assert!(e["message"].as_str().unwrap().contains("not authorized"));
    let list = &f.requests_for("ListObjectsV2")[0];
    assert_eq!(e["request_id"], list.request_id.as_str(), "the request id AWS answered");
    assert_eq!(list.param("bucket"), Some("locked"));
    // The user agent names the suite, the server and its version.
    let ua = f.requests()[0].header("user-agent").unwrap_or_default().to_owned();
    assert!(ua.contains("app/aws-mcp#aws-s3-mcp#"), "{ua}");
}

#[tokio::test]
async fn dynamodb_throttling_is_retried_then_reported() {
    let f = Fake::start().await;
    f.on_target(
        "DynamoDB_20120810.ListTables",
        throttle_with(usize::MAX, throughput_exceeded(), Reply::json(json!({}))),
    );
    let mcp = Mcp::start_against(DYNAMODB, &["--region", "us-east-1", "--max-attempts", "2"], &f.url()).await;
    let e = mcp.err("list_tables", json!({})).await;
    assert_eq!(e["code"], "ProvisionedThroughputExceededException");
    assert_eq!(e["retryable"], true);
    assert!(e["hint"].as_str().unwrap().contains("tried 2 times"), "{e}");
    assert_eq!(f.requests_for("ListTables").len(), 2);
    assert_eq!(f.count(), 2);

    // Throttled once, then answered: the caller sees the tables.
    let g = Fake::start().await;
    g.on_target(
        "ListTables",
        throttle_with(1, throughput_exceeded(), Reply::json(json!({"TableNames": ["orders"]}))),
    );
    let mcp = Mcp::start_against(DYNAMODB, &["--region", "us-east-1", "--max-attempts", "2"], &g.url()).await;
    let r = mcp.ok("list_tables", json!({})).await;
    assert_eq!(r["tables"], json!(["orders"]), "{r}");
    assert_eq!(g.requests_for("ListTables").len(), 2);
}

#[tokio::test]
async fn a_silent_endpoint_times_out_and_is_named() {
    let f = Fake::start().await;
    f.on_xml(
        "ListBuckets",
        "GET /",
        Reply::delay(Duration::from_secs(60), Reply::empty(200)),
    );
    let mcp = Mcp::start_against(
        S3,
        &[
            "--region",
            "us-east-1",
            "--operation-timeout-secs",
            "1",
            "--max-attempts",
            "1",
        ],
        &f.url(),
    )
    .await;
    let started = Instant::now();
    let e = mcp.err("list_buckets", json!({})).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the timeout must bound the call"
    );
    assert_eq!(e["kind"], "transport");
    assert_eq!(e["endpoint"], f.url().as_str());
    assert!(e["summary"].as_str().unwrap().contains("timeout"), "{e}");
    assert_eq!(e["retryable"], true);
    assert_eq!(f.requests_for("ListBuckets").len(), 1);
}

#[tokio::test]
async fn a_reset_connection_or_a_broken_body_is_a_clear_error() {
    let f = Fake::start().await;
    f.on_target("DynamoDB_20120810.ListTables", Reply::reset());
    f.on_target("DynamoDB_20120810.DescribeTable", Reply::malformed());
    let mcp = Mcp::start_against(DYNAMODB, &["--region", "us-east-1", "--max-attempts", "1"], &f.url()).await;
    let e = mcp.err("list_tables", json!({})).await;
    assert_eq!(e["kind"], "transport", "{e}");
    assert_eq!(e["endpoint"], f.url().as_str());
    let e = mcp.err("describe_table", json!({"table": "orders"})).await;
    assert!(e["summary"].as_str().is_some_and(|s| !s.is_empty()), "{e}");
    // The server keeps serving.
    assert_eq!(mcp.err("list_tables", json!({})).await["kind"], "transport");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_named() {
    // A port nothing listens on.
    let url = format!("http://127.0.0.1:{}", free_port());
    let mcp = Mcp::start_against(DYNAMODB, &["--region", "us-east-1", "--max-attempts", "1"], &url).await;
    let e = mcp.err("list_tables", json!({})).await;
    assert_eq!(e["kind"], "transport");
    assert_eq!(e["endpoint"], url.as_str());
    let summary = e["summary"].as_str().unwrap();
    assert!(summary.contains("unreachable") && summary.contains(&url), "{summary}");
    // The server keeps serving after a failure.
    assert_eq!(mcp.err("list_tables", json!({})).await["kind"], "transport");
}
