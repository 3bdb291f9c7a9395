//! `--audit-table`: the real S3 server (LocalStack) writing one item per tool call to a table in
//! moto's DynamoDB, read back with the SDK. What an item holds (and never holds: argument values),
//! that a missing or unreachable table never stops calls, and that with `--audit-required` a call
//! whose record cannot be written fails clearly and makes no AWS call at all. Over HTTP and on
//! Lambda (cargo-lambda's emulator) the item names the authenticated caller; on Lambda it is
//! written before the answer.

use std::time::Duration;

use aws_mcp_tests::{
    HttpServer, LambdaEmulator, Mcp, Service,
    emulators::NOWHERE,
    fake::Fake,
    fixtures::{
        dynamodb::{attr, key},
        s3::bucket_with,
    },
    require, unique,
};
use aws_sdk_dynamodb::types::{AttributeValue, BillingMode, KeyType, ScalarAttributeType};
use rmcp::{
    ServiceExt,
    model::CallToolRequestParams,
    transport::{StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig},
};
use serde_json::json;

const BIN: &str = "aws-s3-mcp";
type Item = std::collections::HashMap<String, AttributeValue>;

/// An audit table as deploy/README.md tells operators to create it: partition key `call_id` (S).
async fn audit_table() -> String {
    let name = unique("mcp-audit");
    aws_mcp_tests::dynamodb()
        .await
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("call_id", ScalarAttributeType::S))
        .key_schema(key("call_id", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
    name
}

async fn items(table: &str) -> Vec<Item> {
    aws_mcp_tests::dynamodb()
        .await
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("scan {table}: {e:?}"))
        .items
        .unwrap_or_default()
}

/// The table's items once there are `n` whose outcome is final (the writer is in the background).
async fn wait_for_items(table: &str, n: usize) -> Vec<Item> {
    for _ in 0..200 {
        let got = items(table).await;
        if got.iter().filter(|i| s(i, "outcome") != "started").count() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{table}: fewer than {n} finished audit items after 10 s: {:?}",
        items(table).await
    );
}

fn s<'a>(item: &'a Item, k: &str) -> &'a str {
    match item.get(k) {
        Some(AttributeValue::S(v)) => v,
        _ => "",
    }
}

fn n(item: &Item, k: &str) -> f64 {
    match item.get(k) {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or_else(|e| panic!("{k}={v}: {e}")),
        other => panic!("{k} is not a number: {other:?}"),
    }
}

fn request_ids(item: &Item) -> Vec<String> {
    match item.get("request_ids") {
        Some(AttributeValue::L(ids)) => ids
            .iter()
            .map(|v| v.as_s().cloned().unwrap_or_else(|_| panic!("request id {v:?}")))
            .collect(),
        other => panic!("request_ids is not a list: {other:?}"),
    }
}

fn by_tool<'a>(items: &'a [Item], tool: &str) -> &'a Item {
    let found: Vec<&Item> = items.iter().filter(|i| s(i, "tool") == tool).collect();
    assert_eq!(found.len(), 1, "one item for {tool}: {items:?}");
    found[0]
}

#[tokio::test]
async fn each_call_writes_one_item_with_who_what_and_how_but_no_argument_values() {
    require(&[Service::S3, Service::DynamoDb]);
    let table = audit_table().await;
    // Argument values that must appear nowhere in the table.
    let secret_key = unique("payroll-secret") + ".txt";
    let bucket = bucket_with(&[(&secret_key, b"salaries", "text/plain")]).await;
    let mcp = Mcp::builder(BIN)
        .emulators(&[Service::S3, Service::DynamoDb])
        .args(&["--audit-table", &table])
        .start()
        .await;

    mcp.ok("head_object", json!({"bucket": bucket, "key": secret_key}))
        .await;
    let missing = format!("{secret_key}.missing");
    let e = mcp.err("get_object", json!({"bucket": bucket, "key": missing})).await;
    assert_eq!(e["kind"], "aws", "{e}");
    // Refused before any AWS call: an item too, without request ids.
    let e = mcp
        .err("list_objects", json!({"bucket": bucket, "page_size": "many"}))
        .await;
    assert_eq!(e["kind"], "invalid_argument", "{e}");

    let all = wait_for_items(&table, 3).await;
    assert_eq!(all.len(), 3, "exactly one item per call: {all:?}");

    let ok = by_tool(&all, "head_object");
    assert_eq!(s(ok, "server"), BIN);
    assert!(!s(ok, "server_version").is_empty(), "{ok:?}");
    assert_eq!(s(ok, "outcome"), "ok");
    assert!(
        !ok.contains_key("error_kind") && !ok.contains_key("error_code"),
        "{ok:?}"
    );
    // HeadObject's, and the bucket-region lookup's before it.
    assert!(!request_ids(ok).is_empty(), "{ok:?}");
    assert!(request_ids(ok).iter().all(|id| !id.is_empty()), "{ok:?}");
    assert!(n(ok, "duration_ms") >= 0.0);
    // stdio has no authenticated caller and this call chose no account.
    for absent in ["caller", "caller_kind", "client_id", "account"] {
        assert!(!ok.contains_key(absent), "{absent} in {ok:?}");
    }
    // `time` is the RFC 3339 form of `epoch_ms`, and recent; `call_id` starts with it.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as f64;
    let at = n(ok, "epoch_ms");
    assert!((now_ms - at).abs() < 120_000.0, "epoch_ms {at} vs now {now_ms}");
    assert_eq!(s(ok, "time"), shared::time::rfc3339_ms(at as i64), "{ok:?}");
    assert!(s(ok, "call_id").starts_with(s(ok, "time")), "{ok:?}");

    let failed = by_tool(&all, "get_object");
    assert_eq!(s(failed, "outcome"), "error");
    assert_eq!(s(failed, "error_kind"), "aws");
    assert!(!s(failed, "error_code").is_empty(), "{failed:?}");
    assert!(!request_ids(failed).is_empty(), "{failed:?}");

    let refused = by_tool(&all, "list_objects");
    assert_eq!(
        (s(refused, "outcome"), s(refused, "error_kind")),
        ("error", "invalid_argument")
    );
    assert!(request_ids(refused).is_empty(), "{refused:?}");

    // No argument value, anywhere.
    let dump = format!("{all:?}");
    for value in [bucket.as_str(), &secret_key, &missing, "many"] {
        assert!(
            !dump.contains(value),
            "the argument value {value} is in the audit table: {dump}"
        );
    }
    mcp.close().await;
}

#[tokio::test]
async fn the_item_names_the_authenticated_caller_over_http() {
    require(&[Service::S3, Service::DynamoDb]);
    let table = audit_table().await;
    let bucket = bucket_with(&[("a.txt", b"a", "text/plain")]).await;
    let dynamodb = Service::DynamoDb.endpoint();
    let mut server = HttpServer::start(
        BIN,
        &["--audit-table", &table],
        &[("MCP_AUTH_TOKEN", "s3cret"), ("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb)],
    )
    .await;
    let config = StreamableHttpClientTransportConfig::with_uri(server.url.as_str()).auth_header("s3cret");
    let client = ().serve(StreamableHttpClientTransport::from_config(config)).await.expect("initialize");
    let args = json!({"bucket": bucket}).as_object().cloned().unwrap_or_default();
    let r = client
        .call_tool(CallToolRequestParams::new("list_objects").with_arguments(args))
        .await
        .expect("tools/call");
    assert_ne!(r.is_error, Some(true), "{r:?}");

    let all = wait_for_items(&table, 1).await;
    let item = by_tool(&all, "list_objects");
    assert_eq!(
        (s(item, "caller_kind"), s(item, "caller")),
        ("bearer", "bearer"),
        "{item:?}"
    );
    assert_eq!(s(item, "outcome"), "ok");
    let _ = client.cancel().await;
    server.proc.assert_running();
    server.proc.kill().await;
}

#[tokio::test]
async fn a_missing_or_unreachable_table_is_logged_and_never_stops_a_call() {
    require(&[Service::S3, Service::DynamoDb]);
    let bucket = bucket_with(&[("a.txt", b"a", "text/plain")]).await;
    let dir = std::env::temp_dir().join(unique("audit-logs"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cases = [
        (
            "missing table",
            Service::DynamoDb.endpoint(),
            unique("no-such-audit-table"),
        ),
        ("unreachable endpoint", NOWHERE.to_owned(), "mcp-audit".to_owned()),
    ];
    for (case, dynamodb, table) in cases {
        let log = dir.join(format!("{}.log", case.replace(' ', "-")));
        let mcp = Mcp::builder(BIN)
            .emulators(&[Service::S3])
            .endpoint(Service::DynamoDb, &dynamodb)
            .args(&["--audit-table", &table])
            .log_to(&log)
            .start()
            .await;
        for _ in 0..3 {
            let out = mcp.ok("list_objects", json!({"bucket": bucket})).await;
            assert_eq!(out["objects"][0]["key"], "a.txt", "{case}: {out}");
        }
        // Each failed write is on stderr with a running count.
        let mut text = String::new();
        for _ in 0..200 {
            text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("failed_total=3") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let warnings: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("audit record not written"))
            .collect();
        assert_eq!(warnings.len(), 3, "{case}: one warning per lost record:\n{text}");
        assert!(warnings[2].contains("failed_total=3"), "{case}: {}", warnings[2]);
        assert!(
            warnings[0].contains(&table),
            "{case}: the warning names the table: {}",
            warnings[0]
        );
        mcp.close().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn with_audit_required_an_unwritable_record_stops_the_call_before_any_aws_call() {
    require(&[Service::DynamoDb]);
    // S3 is a fake that logs every request: the refused calls must reach it not once.
    let s3 = Fake::start().await;
    for (case, dynamodb, table) in [
        (
            "missing table",
            Service::DynamoDb.endpoint(),
            unique("no-such-audit-table"),
        ),
        ("unreachable endpoint", NOWHERE.to_owned(), "mcp-audit".to_owned()),
    ] {
        let mcp = Mcp::builder(BIN)
            .endpoint(Service::S3, &s3.url())
            .endpoint(Service::DynamoDb, &dynamodb)
            .args(&["--allow-writes", "--audit-table", &table, "--audit-required"])
            .start()
            .await;
        for (tool, args) in [
            ("put_object", json!({"bucket": "reports", "key": "a.txt", "text": "x"})),
            ("list_buckets", json!({})),
        ] {
            let e = mcp.err(tool, args).await;
            assert_eq!(e["kind"], "audit_unavailable", "{case}: {tool}: {e}");
            assert_eq!(e["table"], table.as_str(), "{case}: {e}");
            let summary = e["summary"].as_str().unwrap_or_default();
            assert!(
                summary.contains(&table) && summary.contains("not run") && summary.contains("--audit-required"),
                "{case}: {summary}"
            );
            assert!(e["cause"]["kind"].is_string(), "{case}: the cause is given: {e}");
        }
        if case == "missing table" {
            assert_eq!(e_code(&mcp, &table).await, "ResourceNotFoundException");
        }
        mcp.close().await;
    }
    assert_eq!(s3.count(), 0, "a refused call reached S3: {:?}", s3.requests());
}

/// The AWS code of the refusal's cause.
async fn e_code(mcp: &Mcp, table: &str) -> String {
    let e = mcp.err("list_buckets", json!({})).await;
    assert_eq!(e["table"], table);
    e["code"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn with_audit_required_and_a_working_table_calls_run_and_the_outcome_replaces_the_start() {
    require(&[Service::S3, Service::DynamoDb]);
    let table = audit_table().await;
    let bucket = bucket_with(&[]).await;
    let mcp = Mcp::builder(BIN)
        .emulators(&[Service::S3, Service::DynamoDb])
        .args(&["--allow-writes", "--audit-table", &table, "--audit-required"])
        .start()
        .await;
    mcp.ok("put_object", json!({"bucket": bucket, "key": "k.txt", "text": "hello"}))
        .await;
    let head = aws_mcp_tests::s3()
        .await
        .head_object()
        .bucket(&bucket)
        .key("k.txt")
        .send()
        .await;
    assert!(head.is_ok(), "the write happened: {head:?}");
    let all = wait_for_items(&table, 1).await;
    assert_eq!(all.len(), 1, "the outcome replaced the `started` item: {all:?}");
    let item = by_tool(&all, "put_object");
    assert_eq!(s(item, "outcome"), "ok");
    assert!(!request_ids(item).is_empty(), "PutObject's request id: {item:?}");
    assert!(!format!("{all:?}").contains("hello"), "{all:?}");
    mcp.close().await;
}

#[tokio::test]
async fn on_lambda_the_item_is_written_before_the_answer_and_names_the_iam_caller() {
    require(&[Service::S3, Service::DynamoDb]);
    let table = audit_table().await;
    let bucket = bucket_with(&[("a.txt", b"a", "text/plain")]).await;
    let mut emulator = LambdaEmulator::start().await;
    let dynamodb = Service::DynamoDb.endpoint();
    let mut function = emulator.start_function(
        BIN,
        &["--audit-table", &table],
        &[("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb)],
    );
    // A Function URL event with AWS_IAM auth, as Lambda hands it over.
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "list_objects", "arguments": {"bucket": bucket}}});
    let alice = "arn:aws:sts::123456789012:assumed-role/platform-ops/alice";
    let event = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/mcp", "rawQueryString": "",
        "headers": {"content-type": "application/json", "accept": "application/json, text/event-stream",
                    "host": "abcdefghij.lambda-url.us-east-1.on.aws"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abcdefghij",
            "domainName": "abcdefghij.lambda-url.us-east-1.on.aws", "domainPrefix": "abcdefghij",
            "http": {"method": "POST", "path": "/mcp", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": "audit-e2e"},
            "requestId": unique("req"), "routeKey": "$default", "stage": "$default",
            "time": "30/Nov/2026:12:00:00 +0000", "timeEpoch": 1_796_040_000_000u64,
            "authorizer": {"iam": {"accessKey": "ASIAEXAMPLE", "accountId": "123456789012",
                                   "callerId": "AROAEXAMPLE:alice", "userArn": alice,
                                   "userId": "AROAEXAMPLE:alice"}}
        },
        "body": call.to_string(), "isBase64Encoded": false
    });
    let resp = reqwest::Client::new()
        .post(emulator.invoke_url())
        .header("content-type", "application/json")
        .body(event.to_string())
        .send()
        .await
        .expect("Invoke API");
    assert_eq!(resp.status().as_u16(), 200);
    let out: serde_json::Value = serde_json::from_str(&resp.text().await.expect("body")).expect("JSON");
    let rpc: serde_json::Value = serde_json::from_str(out["body"].as_str().unwrap_or("null")).unwrap_or_default();
    assert_ne!(rpc["result"]["isError"], true, "{out}");
    // A frozen function runs no background work: the item is there as soon as the answer is.
    let all = items(&table).await;
    assert_eq!(all.len(), 1, "{all:?}\nfunction output:\n{}", function.drain());
    let item = by_tool(&all, "list_objects");
    assert_eq!((s(item, "caller_kind"), s(item, "caller")), ("iam", alice), "{item:?}");
    assert_eq!(s(item, "outcome"), "ok");
    function.assert_running();
    emulator.proc.assert_running();
    function.kill().await;
    emulator.proc.kill().await;
}
