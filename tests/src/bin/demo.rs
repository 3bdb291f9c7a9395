//! A real session against the servers, for people trying the project: seeds sample data into the
//! local emulators, then talks MCP to each server binary over stdio and prints what the tools
//! return (long results abbreviated). Run through `tests/demo`, which starts the emulators first.

// Printing figures is what this binary is for.
#![allow(clippy::print_stdout)]

use aws_mcp_tests::{Mcp, dynamodb, require_emulators, s3};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::{Value, json};

const BUCKET: &str = "mcp-demo-reports";
const TABLE: &str = "mcp-demo-orders";

async fn seed_s3() {
    let s3 = s3().await;
    // Already there from an earlier run: fine.
    let _ = s3.create_bucket().bucket(BUCKET).send().await;
    let log: String = (0..3_000)
        .map(|i| {
            format!(
                "2026-11-21T10:{:02}:{:02}Z INFO request {i} served in {} ms\n",
                i / 60 % 60,
                i % 60,
                i % 97
            )
        })
        .collect();
    let png = [
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
    let objects: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "README.md",
            b"# Reports\nQuarterly sales data and application logs.\n".to_vec(),
            "text/markdown",
        ),
        (
            "data/2025/q3-sales.csv",
            b"region,units,revenue\neu,120,4800\nus,340,13600\n".to_vec(),
            "text/csv",
        ),
        (
            "data/2025/q4-sales.csv",
            b"region,units,revenue\neu,150,6000\nus,310,12400\n".to_vec(),
            "text/csv",
        ),
        (
            "data/2026/q1-sales.json",
            br#"{"eu": {"units": 170}, "us": {"units": 355}}"#.to_vec(),
            "application/json",
        ),
        ("logs/app.log", log.into_bytes(), "text/plain"),
        ("images/logo.png", png.to_vec(), "image/png"),
    ];
    for (key, body, ct) in objects {
        s3.put_object()
            .bucket(BUCKET)
            .key(key)
            .content_type(ct)
            .body(ByteStream::from(body))
            .send()
            .await
            .expect("seed S3");
    }
}

async fn seed_dynamodb() {
    let ddb = dynamodb().await;
    let attr = |name: &str, t: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(t)
            .build()
            .unwrap()
    };
    let key = |name: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(t)
            .build()
            .unwrap()
    };
    // Already there from an earlier run: fine.
    let _ = ddb
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("customer", ScalarAttributeType::S))
        .attribute_definitions(attr("order", ScalarAttributeType::N))
        .attribute_definitions(attr("status", ScalarAttributeType::S))
        .key_schema(key("customer", KeyType::Hash))
        .key_schema(key("order", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-status")
                .key_schema(key("status", KeyType::Hash))
                .key_schema(key("order", KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .unwrap(),
        )
        .send()
        .await;
    for (i, customer) in ["alice", "bob", "carol"].iter().enumerate() {
        for n in 1..=4 {
            let order = i * 100 + n;
            let status = ["pending", "shipped", "delivered"][n % 3];
            ddb.put_item()
                .table_name(TABLE)
                .item("customer", AttributeValue::S(customer.to_string()))
                .item("order", AttributeValue::N(order.to_string()))
                .item("status", AttributeValue::S(status.into()))
                .item("total", AttributeValue::N(format!("{}.{:02}", 10 * n + i, n * 7)))
                .item("items", AttributeValue::Ss(vec!["book".into(), format!("pen-{n}")]))
                .item(
                    "ledger_ref",
                    AttributeValue::N("12345678901234567890123456789012345678".into()),
                )
                .item(
                    "signature",
                    AttributeValue::B(aws_smithy_types::Blob::new(vec![0xde, 0xad, 0xbe, 0xef])),
                )
                .send()
                .await
                .expect("seed DynamoDB");
        }
    }
}

/// Print a call and its result, abbreviated to keep the demo readable.
async fn show(mcp: &Mcp, tool: &str, args: Value) {
    println!("\n→ {tool} {args}");
    let r = mcp.call(tool, args).await;
    let body = r
        .structured_content
        .clone()
        .unwrap_or_else(|| json!(aws_mcp_tests::text(&r)));
    let mut text = serde_json::to_string_pretty(&abbreviate(body)).unwrap();
    if text.lines().count() > 40 {
        text = text.lines().take(40).collect::<Vec<_>>().join("\n") + "\n  …";
    }
    let tag = if r.is_error == Some(true) {
        "✗ tool error"
    } else {
        "←"
    };
    println!("{tag} {text}");
}

/// Long strings and lists shortened for display only (the server already kept them in budget).
fn abbreviate(v: Value) -> Value {
    match v {
        Value::String(s) if s.chars().count() > 160 => Value::String(format!(
            "{}… ({} more bytes)",
            s.chars().take(160).collect::<String>(),
            s.len().saturating_sub(160)
        )),
        Value::Array(items) if items.len() > 6 => {
            let n = items.len();
            let mut kept: Vec<Value> = items.into_iter().take(5).map(abbreviate).collect();
            kept.push(json!(format!("… {} more", n - 5)));
            Value::Array(kept)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(abbreviate).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, abbreviate(v))).collect()),
        other => other,
    }
}

async fn s3_session() {
    println!("\n================ aws-s3-mcp (read-only, bucket allowlist mcp-demo-*) ================");
    let mcp = Mcp::start("aws-s3-mcp", &["--bucket", "mcp-demo-*", "--max-output-tokens", "4000"]).await;
    println!("tools: {}", mcp.tool_names().await.join(", "));
    show(&mcp, "list_buckets", json!({"prefix": "mcp-demo"})).await;
    show(&mcp, "list_objects", json!({"bucket": BUCKET, "delimiter": "/"})).await;
    show(&mcp, "find_objects", json!({"bucket": BUCKET, "pattern": "*.csv"})).await;
    show(
        &mcp,
        "get_object",
        json!({"bucket": BUCKET, "key": "data/2025/q3-sales.csv"}),
    )
    .await;
    show(&mcp, "get_object", json!({"bucket": BUCKET, "key": "logs/app.log"})).await;
    show(&mcp, "get_object", json!({"bucket": BUCKET, "key": "images/logo.png"})).await;
    show(&mcp, "get_bucket_info", json!({"bucket": BUCKET})).await;
    show(&mcp, "get_object", json!({"bucket": BUCKET, "key": "missing.txt"})).await;
    show(&mcp, "list_objects", json!({"bucket": "someone-elses-bucket"})).await;
}

async fn dynamodb_session() {
    println!("\n================ aws-dynamodb-mcp (read-only) ================");
    let mcp = Mcp::start("aws-dynamodb-mcp", &["--table", "mcp-demo-*"]).await;
    println!("tools: {}", mcp.tool_names().await.join(", "));
    show(&mcp, "list_tables", json!({})).await;
    show(&mcp, "describe_table", json!({"table": TABLE})).await;
    show(
        &mcp,
        "query",
        json!({"table": TABLE, "partition_key": "alice", "sort_key": {"op": "between", "value": [2, 3]}}),
    )
    .await;
    show(
        &mcp,
        "query",
        json!({"table": TABLE, "index": "by-status", "partition_key": "shipped", "projection": ["customer", "order"]}),
    )
    .await;
    show(
        &mcp,
        "get_item",
        json!({"table": TABLE, "key": {"customer": "bob", "order": 101}}),
    )
    .await;
    show(
        &mcp,
        "execute_partiql",
        json!({"statement": "SELECT customer, status, total FROM \"mcp-demo-orders\" WHERE customer = ?", "parameters": ["carol"]}),
    )
    .await;
    show(
        &mcp,
        "execute_partiql",
        json!({"statement": "/* tidy up */ delete FROM \"mcp-demo-orders\" WHERE customer = 'bob'"}),
    )
    .await;
    show(
        &mcp,
        "get_item",
        json!({"table": TABLE, "key": {"customer": "bob", "order": "one hundred"}}),
    )
    .await;
}

#[tokio::main]
async fn main() {
    require_emulators();
    seed_s3().await;
    seed_dynamodb().await;
    s3_session().await;
    dynamodb_session().await;
}
