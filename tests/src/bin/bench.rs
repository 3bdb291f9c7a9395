//! Benchmark of the release server binaries against the local emulators. Prints figures; asserts
//! nothing (timings are measured, never tested).
//!
//! ```text
//! cargo build --release -p aws-s3-mcp && cargo build --release -p aws-dynamodb-mcp
//! localstack/start.sh && cargo run --release -p aws-mcp-tests --bin bench
//! ```
//! `BENCH_BIN_DIR` overrides where the server binaries are (default: this binary's directory).

// Printing figures is what this binary is for.
#![allow(clippy::print_stdout)]

use std::{path::PathBuf, process::Stdio, time::Instant};

use aws_mcp_tests::{aws_env, dynamodb, require_emulators, s3, unique};
use aws_sdk_dynamodb::types::{AttributeDefinition, AttributeValue, KeySchemaElement, KeyType, ScalarAttributeType};
use futures::StreamExt;
use rmcp::{
    RoleClient, ServiceExt,
    model::CallToolRequestParams,
    service::RunningService,
    transport::{ConfigureCommandExt, TokioChildProcess},
};
use serde_json::{Value, json};

const STARTS: usize = 30;
const CALLS: usize = 200;
const META: usize = 40;

fn bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("BENCH_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_exe().unwrap().parent().unwrap().to_path_buf());
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: cargo build --release -p {name}",
        path.display()
    );
    path
}

async fn spawn(name: &str, args: &[&str]) -> (RunningService<RoleClient, ()>, u32) {
    let cmd = tokio::process::Command::new(bin(name)).configure(|c| {
        c.args(args)
            .envs(aws_env())
            .env("RUST_LOG", "warn")
            .env("RUST_BACKTRACE", "0");
    });
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = transport.id().expect("pid");
    (().serve(transport).await.expect("initialize"), pid)
}

async fn call(c: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> Value {
    let r = c
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args.as_object().cloned().unwrap()))
        .await
        .unwrap();
    assert_ne!(r.is_error, Some(true), "{tool}: {:?}", r.content);
    r.structured_content.unwrap()
}

/// A minimal JSON-RPC client over a server's stdio: writes a request line, reads lines until the
/// response with its id, parses it once into a `Value` (what a JavaScript client's JSON.parse does).
/// rmcp's client decodes through nested untagged enums, which costs time per byte that belongs to
/// that client library, not to the server; both figures are printed.
struct LineClient {
    // Held so the server is killed when the client is dropped.
    _child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    next_id: u64,
}

impl LineClient {
    async fn start(name: &str) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(bin(name))
            .envs(aws_env())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn");
        let stdin = child.stdin.take().unwrap();
        let stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut c = Self {
            _child: child,
            stdin,
            stdout,
            next_id: 0,
        };
        c.request("initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}})).await;
        c.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        c
    }

    async fn send(&mut self, msg: Value) {
        use tokio::io::AsyncWriteExt;
        let mut line = msg.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
    }

    async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        loop {
            let line = self.stdout.next_line().await.unwrap().expect("server closed stdout");
            let msg: Value = serde_json::from_str(&line).unwrap();
            if msg["id"] == id {
                return msg;
            }
        }
    }

    async fn call(&mut self, tool: &str, args: &Value) -> Value {
        let r = self
            .request("tools/call", json!({"name": tool, "arguments": args}))
            .await;
        assert_ne!(r["result"]["isError"], true, "{tool}: {r}");
        r
    }
}

/// Median latency (ms) of `tool` through [`LineClient`] and of `raw`, interleaved.
async fn ratio_line<F, Fut>(c: &mut LineClient, tool: &str, args: Value, raw: F) -> (f64, f64)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..20 {
        c.call(tool, &args).await;
        raw().await;
    }
    let (mut t, mut r) = (Vec::new(), Vec::new());
    for _ in 0..CALLS {
        let s = Instant::now();
        c.call(tool, &args).await;
        t.push(s.elapsed().as_secs_f64() * 1e3);
        let s = Instant::now();
        raw().await;
        r.push(s.elapsed().as_secs_f64() * 1e3);
    }
    (median(t), median(r))
}

/// A call refused before any AWS request: what MCP itself costs per call.
async fn mcp_overhead(c: &RunningService<RoleClient, ()>) -> f64 {
    let mut t = Vec::new();
    for _ in 0..CALLS {
        let args = json!({"bucket": ""}).as_object().cloned().unwrap();
        let s = Instant::now();
        let r = c
            .call_tool(CallToolRequestParams::new("list_objects").with_arguments(args))
            .await
            .unwrap();
        t.push(s.elapsed().as_secs_f64() * 1e3);
        assert_eq!(r.is_error, Some(true));
    }
    median(t)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Process spawn → initialize response, median over several starts (ms).
async fn startup(name: &str) -> f64 {
    let mut times = Vec::new();
    for _ in 0..STARTS {
        let t = Instant::now();
        let (c, _) = spawn(name, &[]).await;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        c.cancel().await.ok();
    }
    median(times)
}

/// Peak resident set (VmHWM) of a process, in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Median latency (ms) of `tool` and of `raw`, interleaved so drift hits both alike.
async fn ratio<F, Fut>(c: &RunningService<RoleClient, ()>, tool: &str, args: Value, raw: F) -> (f64, f64)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..20 {
        call(c, tool, args.clone()).await;
        raw().await;
    }
    let (mut t, mut r) = (Vec::new(), Vec::new());
    for _ in 0..CALLS {
        let s = Instant::now();
        call(c, tool, args.clone()).await;
        t.push(s.elapsed().as_secs_f64() * 1e3);
        let s = Instant::now();
        raw().await;
        r.push(s.elapsed().as_secs_f64() * 1e3);
    }
    (median(t), median(r))
}

struct Row {
    server: &'static str,
    init_ms: f64,
    rss_mb: f64,
    tool: &'static str,
    tool_ms: f64,
    raw_ms: f64,
    meta: &'static str,
    uncached_ms: f64,
    cached_ms: f64,
}

/// The raw SDK client, configured exactly as the servers configure theirs (`shared::aws::load`
/// with default flags), so the ratio compares the same call with the same retry and timeouts.
async fn server_sdk_config() -> aws_config::SdkConfig {
    use clap::Parser;
    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        common: shared::CommonArgs,
    }
    let flags = Flags::parse_from(["bench"]);
    shared::aws::load("bench", "0", &flags.common)
        .await
        .expect("AWS config from the emulator environment")
}

async fn bench_s3() -> Row {
    let s3 = if std::env::var_os("BENCH_PLAIN_SDK").is_some() {
        s3().await
    } else {
        let conf = aws_sdk_s3::config::Builder::from(&server_sdk_config().await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    };
    let bucket = unique("bench");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    futures::stream::iter(0..100)
        .map(|i| {
            let (s3, bucket) = (s3.clone(), bucket.clone());
            async move {
                s3.put_object()
                    .bucket(bucket)
                    .key(format!("obj/{i:04}"))
                    .body(b"x".to_vec().into())
                    .send()
                    .await
                    .unwrap()
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let init_ms = startup("aws-s3-mcp").await;

    let (c, pid) = spawn("aws-s3-mcp", &[]).await;
    let args = json!({"bucket": bucket, "page_size": 100});
    let raw = || async {
        s3.list_objects_v2().bucket(&bucket).max_keys(100).send().await.unwrap();
    };
    let (rmcp_ms, rmcp_raw_ms) = ratio(&c, "list_objects", args.clone(), raw).await;
    eprintln!(
        "aws-s3-mcp: list_objects through rmcp's client {rmcp_ms:.2} / {rmcp_raw_ms:.2} ms = {:.3}",
        rmcp_ms / rmcp_raw_ms
    );
    let mut line = LineClient::start("aws-s3-mcp").await;
    let (tool_ms, raw_ms) = ratio_line(&mut line, "list_objects", args, raw).await;

    // Metadata: get_bucket_info on buckets seen for the first time vs. the same bucket again.
    let mut fresh = Vec::new();
    for _ in 0..META {
        let b = unique("bench-meta");
        s3.create_bucket().bucket(&b).send().await.unwrap();
        fresh.push(b);
    }
    let mut uncached = Vec::new();
    for b in &fresh {
        let t = Instant::now();
        line.call("get_bucket_info", &json!({"bucket": b})).await;
        uncached.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut cached = Vec::new();
    for _ in 0..CALLS {
        let t = Instant::now();
        let v = line.call("get_bucket_info", &json!({"bucket": fresh[0]})).await["result"]["structuredContent"].clone();
        cached.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(v["from_cache"], true);
    }
    eprintln!(
        "aws-s3-mcp: MCP round trip without AWS (median) {:.3} ms",
        mcp_overhead(&c).await
    );
    let rss_mb = peak_rss_mb(pid);
    c.cancel().await.ok();
    Row {
        server: "aws-s3-mcp",
        init_ms,
        rss_mb,
        tool: "list_objects (100 keys)",
        tool_ms,
        raw_ms,
        meta: "get_bucket_info",
        uncached_ms: median(uncached),
        cached_ms: median(cached),
    }
}

async fn create_table(ddb: &aws_sdk_dynamodb::Client, name: &str) {
    ddb.create_table()
        .table_name(name)
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("sk")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("sk")
                .key_type(KeyType::Range)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

async fn bench_dynamodb() -> Row {
    let ddb = if std::env::var_os("BENCH_PLAIN_SDK").is_some() {
        dynamodb().await
    } else {
        aws_sdk_dynamodb::Client::new(&server_sdk_config().await)
    };
    let table = unique("bench");
    create_table(&ddb, &table).await;
    for i in 0..100 {
        ddb.put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S("p".into()))
            .item("sk", AttributeValue::N(i.to_string()))
            .item("v", AttributeValue::S(format!("value {i}")))
            .send()
            .await
            .unwrap();
    }
    let init_ms = startup("aws-dynamodb-mcp").await;
    let (c, pid) = spawn("aws-dynamodb-mcp", &[]).await;
    let args = json!({"table": table, "partition_key": "p", "page_size": 100});
    let raw = || async {
        ddb.query()
            .table_name(&table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_values(":pk", AttributeValue::S("p".into()))
            .limit(100)
            .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
            .send()
            .await
            .unwrap();
    };
    let (rmcp_ms, rmcp_raw_ms) = ratio(&c, "query", args.clone(), raw).await;
    eprintln!(
        "aws-dynamodb-mcp: query through rmcp's client {rmcp_ms:.2} / {rmcp_raw_ms:.2} ms = {:.3}",
        rmcp_ms / rmcp_raw_ms
    );
    let mut line = LineClient::start("aws-dynamodb-mcp").await;
    let (tool_ms, raw_ms) = ratio_line(&mut line, "query", args, raw).await;
    let mut fresh = Vec::new();
    for _ in 0..META {
        let t = unique("bench-meta");
        create_table(&ddb, &t).await;
        fresh.push(t);
    }
    let mut uncached = Vec::new();
    for t in &fresh {
        let s = Instant::now();
        line.call("describe_table", &json!({"table": t})).await;
        uncached.push(s.elapsed().as_secs_f64() * 1e3);
    }
    let mut cached = Vec::new();
    for _ in 0..CALLS {
        let s = Instant::now();
        let v = line.call("describe_table", &json!({"table": fresh[0]})).await["result"]["structuredContent"].clone();
        cached.push(s.elapsed().as_secs_f64() * 1e3);
        assert_eq!(v["from_cache"], true);
    }
    let rss_mb = peak_rss_mb(pid);
    c.cancel().await.ok();
    Row {
        server: "aws-dynamodb-mcp",
        init_ms,
        rss_mb,
        tool: "query (100 items)",
        tool_ms,
        raw_ms,
        meta: "describe_table",
        uncached_ms: median(uncached),
        cached_ms: median(cached),
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

#[tokio::main]
async fn main() {
    require_emulators();
    let which: Vec<String> = std::env::args().skip(1).collect();
    let wants = |s: &str| which.is_empty() || which.iter().any(|w| w == s);
    let mut rows = Vec::new();
    if wants("s3") {
        rows.push(bench_s3().await);
    }
    if wants("dynamodb") {
        rows.push(bench_dynamodb().await);
    }
    println!("| server | start → initialize | peak RSS | tool / raw SDK (median) | cached vs uncached metadata |");
    println!("|---|---|---|---|---|");
    for r in rows {
        let ratio = r.tool_ms / r.raw_ms;
        let speedup = r.uncached_ms / r.cached_ms;
        println!(
            "| {} | {:.1} ms ({}: < 20) | {:.1} MB ({}: < 20) | {}: {:.2} / {:.2} ms = {:.3} ({}: ≤ 1.10) | {}: {:.2} → {:.3} ms = {:.0}× ({}: ≥ 20×) |",
            r.server,
            r.init_ms,
            mark(r.init_ms < 20.0),
            r.rss_mb,
            mark(r.rss_mb < 20.0),
            r.tool,
            r.tool_ms,
            r.raw_ms,
            ratio,
            mark(ratio <= 1.10),
            r.meta,
            r.uncached_ms,
            r.cached_ms,
            speedup,
            mark(speedup >= 20.0),
        );
    }
}
