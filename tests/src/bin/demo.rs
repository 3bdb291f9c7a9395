//! A real session against the servers, for people trying the project: seeds sample data into the
//! local emulators, then talks MCP to each server binary over stdio and prints what the tools
//! return (long results abbreviated). Run through `tests/demo`, which starts the emulators first.

// Printing figures is what this binary is for.
#![allow(clippy::print_stdout)]

use aws_mcp_tests::{Mcp, Service, dynamodb, fixtures, require};
use serde_json::{Value, json};

const BUCKET: &str = "mcp-demo-reports";
const TABLE: &str = "mcp-demo-orders";

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
    require(&[Service::S3, Service::DynamoDb]);
    fixtures::s3::demo_bucket(BUCKET).await;
    fixtures::dynamodb::demo_orders(&dynamodb().await, TABLE).await;
    s3_session().await;
    dynamodb_session().await;
}
