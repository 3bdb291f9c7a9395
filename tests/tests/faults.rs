//! Failures the emulators cannot produce, from the fake AWS endpoint (`aws_mcp_tests::fake`)
//! speaking the services' real wire formats: throttling (the SDK retries, then the tool says how
//! often it tried, or succeeds when the throttling stops in time), access denied (the hint names
//! the IAM action), a slow endpoint (timeout), a reset connection, a broken body, and a closed
//! port (unreachable). Each must be a clear tool error naming the endpoint, never a hang.
//!
//! Then every server (issue 13), one representative tool each, in its service's wire protocol:
//! S3 `list_objects` (REST-XML), DynamoDB `get_item` (AWS JSON 1.0), Lambda `get_function`
//! (REST-JSON), Logs `filter_log_events` (AWS JSON 1.1), Bedrock KB `retrieve` (REST-JSON), STS
//! `whoami` (query): throttling, 500, 503, a silent endpoint, a reset, a truncated body, a
//! malformed body and an HTML page, each followed by a normal call on the same process; then the
//! endpoint stopped mid-call and restarted on its port. And writes cut off after the request was
//! read are never reported done. Server logs of each fault: `cargo test --test faults -- --nocapture`.

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

// ---------------------------------------------------------------------------------------------
// Every server, every fault (issue 13): one representative tool per server, through the fake
// endpoint in that service's wire protocol. Each fault must be a tool error naming the operation
// (never a hang or a protocol error), and a normal call must work right after it on the same
// process. Then the endpoint is stopped in the middle of a call and started again on the same
// port, and the next call works without restarting the server.

use std::sync::{Arc, Mutex};

use aws_mcp_tests::{
    fake::{Protocol, Request},
    text,
};
use serde_json::Value;

/// What the fault-injected operation answers next: `None` is its normal answer.
type Slot = Arc<Mutex<Option<Reply>>>;

/// Text every normal answer carries, so "the call worked" is checked on content.
const MARK: &str = "okmarker";
/// Attempts per AWS call: one retry shows retrying without making the run slow.
const ATTEMPTS: &str = "2";

/// One server's representative tool and the fake routes behind it.
struct Subject {
    bin: &'static str,
    /// The operation the faults hit (the fake's name for it, and the error's `operation`).
    op: &'static str,
    tool: &'static str,
    /// The tool's arguments for round `n` (a fresh name where the server caches answers).
    args: fn(usize) -> Value,
    /// Register every route the tool needs on `fake`; the faulted one answers from the slot.
    routes: fn(&Fake, Slot),
    /// The code of the protocol's throttling error.
    throttle_code: &'static str,
    extra_args: &'static [&'static str],
    /// The service's wire protocol, checked on the requests the server sent.
    protocol: Protocol,
}

/// A handler that answers the slot's fault when one is set, else `normal(req)`.
fn faultable(slot: Slot, normal: fn(&Request) -> Reply) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |req: &Request| slot.lock().unwrap().clone().unwrap_or_else(|| normal(req))
}

fn s3_routes(f: &Fake, slot: Slot) {
    f.on_xml(
        "HeadBucket",
        "HEAD /{bucket}",
        Reply::empty(200).header("x-amz-bucket-region", "us-east-1"),
    );
    f.on_xml(
        "ListObjectsV2",
        "GET /{bucket}?list-type=2",
        faultable(slot, |r| {
            Reply::xml(format!(
                "<ListBucketResult><Name>{}</Name><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated>\
                 <Contents><Key>{MARK}.txt</Key><Size>3</Size><StorageClass>STANDARD</StorageClass>\
                 <LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents></ListBucketResult>",
                r.param("bucket").unwrap_or_default()
            ))
        }),
    );
}

fn table_description() -> Reply {
    Reply::json(json!({"Table": {
        "TableName": "orders", "TableStatus": "ACTIVE", "ItemCount": 1, "TableSizeBytes": 10,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
        "CreationDateTime": 1_767_225_600.0,
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}
    }}))
}

fn dynamodb_routes(f: &Fake, slot: Slot) {
    f.on_target("DynamoDB_20120810.DescribeTable", table_description());
    f.on_target(
        "DynamoDB_20120810.GetItem",
        faultable(slot, |_| {
            Reply::json(json!({"Item": {"pk": {"S": "a"}, "note": {"S": MARK}}}))
        }),
    );
}

fn lambda_routes(f: &Fake, slot: Slot) {
    f.on_json(
        "GetFunctionUrlConfig",
        "GET /2021-10-31/functions/{name}/url",
        Reply::error(
            404,
            "ResourceNotFoundException",
            "The resource you requested does not exist.",
        ),
    );
    f.on_json(
        "GetFunction",
        "GET /2015-03-31/functions/{name}",
        faultable(slot, |r| {
            let name = r.param("name").unwrap_or_default();
            Reply::json(json!({"Configuration": {
                "FunctionName": name,
                "FunctionArn": format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
                "Runtime": "python3.12", "Handler": "index.handler", "Description": MARK,
                "Role": "arn:aws:iam::123456789012:role/fn", "State": "Active", "MemorySize": 128, "Timeout": 3
            }}))
        }),
    );
}

fn logs_routes(f: &Fake, slot: Slot) {
    f.on_target(
        "Logs_20140328.FilterLogEvents",
        faultable(slot, |_| {
            Reply::json(
                json!({"events": [{"logStreamName": "s", "timestamp": 1_796_040_000_000u64,
                "message": format!("{MARK} line\n"), "ingestionTime": 1_796_040_000_000u64, "eventId": "e1"}],
                "searchedLogStreams": []}),
            )
        }),
    );
}

fn bedrock_routes(f: &Fake, slot: Slot) {
    f.on_json(
        "Retrieve",
        "POST /knowledgebases/{kbId}/retrieve",
        faultable(slot, |_| {
            Reply::json(json!({"retrievalResults": [{
                "content": {"type": "TEXT", "text": format!("{MARK} chunk")},
                "location": {"type": "S3", "s3Location": {"uri": "s3://kb-docs/a.md"}},
                "score": 0.9
            }]}))
        }),
    );
}

fn sts_routes(f: &Fake, slot: Slot) {
    f.on_action(
        "GetCallerIdentity",
        faultable(slot, |_| {
            Reply::query_result(
                "GetCallerIdentity",
                format!(
                    "<Arn>arn:aws:sts::123456789012:assumed-role/{MARK}/e2e</Arn>\
                     <UserId>AROAFAKE:e2e</UserId><Account>123456789012</Account>"
                ),
            )
        }),
    );
}

const SUBJECTS: &[Subject] = &[
    Subject {
        bin: S3,
        op: "ListObjectsV2",
        tool: "list_objects",
        args: |_| json!({"bucket": "faulty"}),
        routes: s3_routes,
        throttle_code: "SlowDown",
        extra_args: &[],
        protocol: Protocol::RestXml,
    },
    Subject {
        bin: DYNAMODB,
        op: "GetItem",
        tool: "get_item",
        args: |_| json!({"table": "orders", "key": {"pk": "a"}}),
        routes: dynamodb_routes,
        throttle_code: "ThrottlingException",
        extra_args: &[],
        protocol: Protocol::AwsJson10,
    },
    Subject {
        bin: "aws-lambda-mcp",
        op: "GetFunction",
        tool: "get_function",
        // get_function caches what it read: a new function each round reaches the endpoint.
        args: |n| json!({"function": format!("fn-{n}")}),
        routes: lambda_routes,
        throttle_code: "ThrottlingException",
        extra_args: &[],
        protocol: Protocol::RestJson,
    },
    Subject {
        bin: "aws-logs-mcp",
        op: "FilterLogEvents",
        tool: "filter_log_events",
        args: |_| json!({"log_groups": ["app"]}),
        routes: logs_routes,
        throttle_code: "ThrottlingException",
        extra_args: &[],
        protocol: Protocol::AwsJson11,
    },
    Subject {
        bin: "aws-bedrock-kb-mcp",
        op: "Retrieve",
        tool: "retrieve",
        args: |_| json!({"knowledge_base_id": "KB12345678", "query": "anything"}),
        routes: bedrock_routes,
        throttle_code: "ThrottlingException",
        extra_args: &[],
        protocol: Protocol::RestJson,
    },
    Subject {
        bin: "aws-sts-mcp",
        op: "GetCallerIdentity",
        tool: "whoami",
        args: |_| json!({}),
        routes: sts_routes,
        throttle_code: "Throttling",
        extra_args: &[],
        protocol: Protocol::Query,
    },
];

/// What a fault must produce.
enum Expect {
    /// The protocol's throttling error, retried: retryable, and the hint says how often it was tried.
    Throttled,
    /// An AWS error with this HTTP status, retryable, tried `ATTEMPTS` times.
    Status(u16),
    /// A transport error naming the endpoint.
    Transport,
    /// Any tool error naming the operation (a body the SDK cannot read).
    Unreadable,
}

fn faults(json: bool) -> Vec<(&'static str, Reply, Expect)> {
    let partial = if json {
        "{\"a\": [1, 2, 3"
    } else {
        "<?xml version=\"1.0\"?><Partial><Of>"
    };
    vec![
        ("throttling", Reply::throttled(), Expect::Throttled),
        ("500", Reply::server_error(500), Expect::Status(500)),
        ("503", Reply::server_error(503), Expect::Status(503)),
        (
            "silent endpoint",
            Reply::delay(Duration::from_secs(30), Reply::empty(200)),
            Expect::Transport,
        ),
        ("connection reset", Reply::reset(), Expect::Transport),
        ("truncated body", Reply::truncated(partial), Expect::Unreadable),
        ("malformed body", Reply::malformed(), Expect::Unreadable),
        (
            "wrong content type (a proxy's HTML page)",
            Reply::wrong_content_type(Reply::raw(
                200,
                Some("text/html"),
                "<html><head><title>Gateway</title></head><body>Please log in to the network</body></html>",
            )),
            Expect::Unreadable,
        ),
    ]
}

async fn start_subject(s: &Subject, url: &str) -> Mcp {
    let mut args = vec![
        "--region",
        "us-east-1",
        "--max-attempts",
        ATTEMPTS,
        "--operation-timeout-secs",
        "2",
        "--connect-timeout-ms",
        "500",
    ];
    args.extend_from_slice(s.extra_args);
    Mcp::start_against(s.bin, &args, url).await
}

/// The tool error of a call that must fail, checked to be clear: it names the operation (or,
/// for transport errors, the endpoint) and came back in time.
async fn clear_error(mcp: &Mcp, s: &Subject, round: usize, what: &str) -> (Value, String) {
    let started = Instant::now();
    let r = mcp.call(s.tool, (s.args)(round)).await;
    let elapsed = started.elapsed();
    let t = text(&r);
    assert_eq!(r.is_error, Some(true), "{} {what}: should have failed, got {t}", s.bin);
    assert!(elapsed < Duration::from_secs(15), "{} {what}: took {elapsed:?}", s.bin);
    let e = r
        .structured_content
        .as_ref()
        .map(|v| v["error"].clone())
        .unwrap_or_else(|| panic!("{} {what}: no structured error: {t}", s.bin));
    assert!(
        matches!(e["kind"].as_str(), Some("aws" | "transport")),
        "{} {what}: {e}",
        s.bin
    );
    assert_eq!(
        e["operation"], s.op,
        "{} {what}: the error names the operation: {e}",
        s.bin
    );
    assert!(!t.trim().is_empty() && !t.contains("panicked"), "{} {what}: {t}", s.bin);
    (e, t)
}

async fn normal_call(mcp: &Mcp, s: &Subject, round: usize, after: &str) {
    let r = mcp.call(s.tool, (s.args)(round)).await;
    assert_ne!(
        r.is_error,
        Some(true),
        "{}: a normal call after {after} failed: {}",
        s.bin,
        text(&r)
    );
    let out = r.structured_content.unwrap_or_default().to_string();
    assert!(
        out.contains(MARK),
        "{}: after {after}, the normal answer is missing: {out}",
        s.bin
    );
}

async fn every_fault_then_a_restart(s: &Subject) {
    let slot: Slot = Arc::default();
    let fake = Fake::start().await;
    (s.routes)(&fake, slot.clone());
    let url = fake.url();
    let mcp = start_subject(s, &url).await;
    let json = !matches!(s.bin, S3 | "aws-sts-mcp");
    let mut round = 0;
    normal_call(&mcp, s, round, "start-up").await;
    let first = &fake.requests_for(s.op)[0];
    assert_eq!(first.protocol, s.protocol, "{}: {first:?}", s.bin);
    if let Some(target) = first.header("x-amz-target") {
        assert!(target.ends_with(&format!(".{}", s.op)), "{}: {target}", s.bin);
    }

    for (what, reply, expect) in faults(json) {
        round += 1;
        *slot.lock().unwrap() = Some(reply);
        let before = fake.requests_for(s.op).len();
        let (e, t) = clear_error(&mcp, s, round, what).await;
        let tries = fake.requests_for(s.op).len() - before;
        // Shown with --nocapture: what a user reads for each fault.
        eprintln!("[{}] {what} ({tries} requests): {t}", s.bin);
        match expect {
            Expect::Throttled => {
                assert_eq!(e["code"], s.throttle_code, "{} {what}: {e}", s.bin);
                assert_eq!(e["retryable"], true, "{} {what}: {e}", s.bin);
                let hint = e["hint"].as_str().unwrap_or_default();
                assert!(
                    hint.contains(&format!("tried {ATTEMPTS} times")),
                    "{} {what}: {e}",
                    s.bin
                );
                assert_eq!(tries.to_string(), ATTEMPTS, "{} {what}: retried once", s.bin);
            }
            Expect::Status(status) => {
                assert_eq!(e["kind"], "aws", "{} {what}: {e}", s.bin);
                assert_eq!(e["http_status"], status, "{} {what}: {e}", s.bin);
                assert_eq!(e["retryable"], true, "{} {what}: {e}", s.bin);
                assert!(
                    e["request_id"].as_str().is_some_and(|id| id.starts_with("FAKE-")),
                    "{} {what}: {e}",
                    s.bin
                );
                assert_eq!(tries.to_string(), ATTEMPTS, "{} {what}: retried once", s.bin);
            }
            Expect::Transport => {
                assert_eq!(e["kind"], "transport", "{} {what}: {e}", s.bin);
                assert_eq!(e["endpoint"], url.as_str(), "{} {what}: {e}", s.bin);
                assert!(t.contains(&url), "{} {what}: the text names the endpoint: {t}", s.bin);
                assert!(tries >= 1, "{} {what}: the call reached the endpoint", s.bin);
            }
            Expect::Unreadable => assert!(tries >= 1, "{} {what}: {e}", s.bin),
        }
        *slot.lock().unwrap() = None;
        round += 1;
        normal_call(&mcp, s, round, what).await;
    }

    // The endpoint stops while a call waits for its answer, then comes back on the same port.
    round += 1;
    *slot.lock().unwrap() = Some(Reply::delay(Duration::from_secs(30), Reply::empty(200)));
    let port = fake.port();
    let sent = fake.requests_for(s.op).len();
    let stop = async {
        let deadline = Instant::now() + Duration::from_secs(5);
        while fake.requests_for(s.op).len() == sent {
            assert!(
                Instant::now() < deadline,
                "{}: the call never reached the endpoint",
                s.bin
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        fake.stop();
    };
    let (call, ()) = tokio::join!(clear_error(&mcp, s, round, "the endpoint stopping mid-call"), stop);
    eprintln!("[{}] endpoint stopped mid-call: {}", s.bin, call.1);
    assert_eq!(call.0["kind"], "transport", "{}: {}", s.bin, call.0);
    assert!(call.1.contains(&url), "{}: names the endpoint: {}", s.bin, call.1);
    // While it is down: unreachable, named.
    round += 1;
    let (down, _) = clear_error(&mcp, s, round, "the endpoint down").await;
    assert_eq!(down["kind"], "transport", "{}: {down}", s.bin);
    assert_eq!(down["endpoint"], url.as_str(), "{}: {down}", s.bin);
    // Back on the same port: the same server process answers.
    let back = Fake::start_on(port).await;
    (s.routes)(&back, Arc::default());
    round += 1;
    normal_call(&mcp, s, round, "the endpoint restarted").await;
    assert!(!back.requests_for(s.op).is_empty());
    mcp.close().await;
}

#[tokio::test]
async fn s3_every_fault_is_a_clear_error_and_the_server_keeps_serving() {
    every_fault_then_a_restart(&SUBJECTS[0]).await;
}

#[tokio::test]
async fn dynamodb_every_fault_is_a_clear_error_and_the_server_keeps_serving() {
    every_fault_then_a_restart(&SUBJECTS[1]).await;
}

#[tokio::test]
async fn lambda_every_fault_is_a_clear_error_and_the_server_keeps_serving() {
    every_fault_then_a_restart(&SUBJECTS[2]).await;
}

#[tokio::test]
async fn logs_every_fault_is_a_clear_error_and_the_server_keeps_serving() {
    every_fault_then_a_restart(&SUBJECTS[3]).await;
}

#[tokio::test]
async fn bedrock_kb_every_fault_is_a_clear_error_and_the_server_keeps_serving() {
    every_fault_then_a_restart(&SUBJECTS[4]).await;
}

#[tokio::test]
async fn sts_every_fault_is_a_clear_error_and_the_server_keeps_serving() {
    every_fault_then_a_restart(&SUBJECTS[5]).await;
}

// ---------------------------------------------------------------------------------------------
// Writes cut off after the request was read: the service may have applied them, so the tool
// must not report them done.

/// No success field of a write result appears in a failed call's output.
fn assert_not_reported_done(r: &rmcp::model::CallToolResult, what: &str) {
    let t = text(r);
    assert_eq!(
        r.is_error,
        Some(true),
        "{what}: an interrupted write reported success: {t}"
    );
    let out = r.structured_content.clone().unwrap_or_default();
    for done in ["written", "etag", "version_id", "created"] {
        assert!(out.get(done).is_none(), "{what}: `{done}` in a failed write: {out}");
    }
    assert_eq!(out["error"]["kind"], "transport", "{what}: {out}");
}

#[tokio::test]
async fn an_s3_put_cut_off_after_the_request_is_not_reported_done() {
    let f = fake_s3().await;
    f.on_xml("PutObject", "PUT /{bucket}/{key+}", Reply::reset());
    let mcp = Mcp::start_against(
        S3,
        &["--region", "us-east-1", "--allow-writes", "--max-attempts", "1"],
        &f.url(),
    )
    .await;
    let r = mcp
        .call(
            "put_object",
            json!({"bucket": "cut-off", "key": "k.txt", "text": "hello"}),
        )
        .await;
    eprintln!("[put_object cut off] {}", text(&r));
    assert_not_reported_done(&r, "put_object");
    let sent = f.requests_for("PutObject");
    assert_eq!(sent.len(), 1, "the request reached the service");
    assert_eq!(sent[0].text(), "hello", "the whole body was sent before the reset");
}

#[tokio::test]
async fn a_dynamodb_put_cut_off_after_the_request_is_not_reported_done() {
    let f = Fake::start().await;
    f.on_target("DynamoDB_20120810.DescribeTable", table_description());
    f.on_target("DynamoDB_20120810.PutItem", Reply::reset());
    let mcp = Mcp::start_against(
        DYNAMODB,
        &["--region", "us-east-1", "--allow-writes", "--max-attempts", "1"],
        &f.url(),
    )
    .await;
    let r = mcp
        .call("put_item", json!({"table": "orders", "item": {"pk": "a", "n": 1}}))
        .await;
    eprintln!("[put_item cut off] {}", text(&r));
    assert_not_reported_done(&r, "put_item");
    let sent = f.requests_for("PutItem");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].json()["Item"]["pk"]["S"], "a");
}
