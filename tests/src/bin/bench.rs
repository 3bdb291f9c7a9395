//! Benchmark of the release server binaries against the local emulators: every server in one run,
//! the same measures for each, printed as one table. Asserts nothing (timings are measured, never
//! tested).
//!
//! ```text
//! cargo build --release -p aws-s3-mcp -p aws-dynamodb-mcp -p aws-lambda-mcp -p aws-logs-mcp
//! localstack/start.sh && cargo run --release -p aws-mcp-tests --bin bench [s3 dynamodb lambda logs …]
//! ```
//! Rows are chosen by key (`lambda`) or server name (`aws-lambda-mcp`); none: every row.
//! `AWS_MCP_BIN_DIR` (or `BENCH_BIN_DIR`) overrides where the server binaries are (default: this
//! binary's directory). `BENCH_PLAIN_SDK=1` builds the raw SDK clients with plain defaults instead
//! of the servers' own configuration.
//!
//! Adding a server: a `prepare_<x>` function (fixture data via `aws_mcp_tests::fixtures`, the raw
//! SDK call equal to the measured tool's, a fresh resource for the metadata tool if the server
//! has a cached one) and a row in [`cases`].

// Printing figures is what this binary is for.
#![allow(clippy::print_stdout)]

use std::{future::Future, pin::Pin, time::Instant};

use aws_mcp_tests::{
    Mcp, RawSession, Service,
    emulators::{require, services_of},
    fixtures, unique,
};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use serde_json::{Value, json};

const STARTS: usize = 30;
const CALLS: usize = 200;
const META: usize = 40;

type Fut<T> = Pin<Box<dyn Future<Output = T>>>;

/// What a case sets up before measuring.
struct Prepared {
    /// Arguments of the measured tool call.
    args: Value,
    /// The same request with the raw SDK client (configured as the server configures its own).
    raw: Box<dyn Fn() -> Fut<()>>,
    /// Make a resource the server has not seen; the metadata tool's arguments for it (`None`
    /// when the server has no cached metadata tool).
    fresh: Option<Box<dyn Fn() -> Fut<Value>>>,
}

/// A metadata tool with a cache (uncached on fresh resources vs. cached on one).
struct Meta {
    tool: &'static str,
    /// The result field that is `true` when the answer came from the cache.
    cached_field: &'static str,
}

/// One row of the table.
struct BenchCase {
    /// Command-line filter (`bench s3`).
    key: &'static str,
    server: &'static str,
    /// The measured tool and a label for the table.
    tool: &'static str,
    label: &'static str,
    /// `None`: the server has no cached metadata tool (the table says n/a).
    meta: Option<Meta>,
    /// A call the server refuses before any AWS request: the MCP round trip alone.
    refused: fn() -> (&'static str, Value),
    prepare: fn() -> Fut<Prepared>,
}

fn cases() -> Vec<BenchCase> {
    vec![
        BenchCase {
            key: "s3",
            server: "aws-s3-mcp",
            tool: "list_objects",
            label: "list_objects (100 keys)",
            meta: Some(Meta {
                tool: "get_bucket_info",
                cached_field: "from_cache",
            }),
            refused: || ("list_objects", json!({"bucket": ""})),
            prepare: || Box::pin(prepare_s3()),
        },
        BenchCase {
            key: "dynamodb",
            server: "aws-dynamodb-mcp",
            tool: "query",
            label: "query (100 items)",
            meta: Some(Meta {
                tool: "describe_table",
                cached_field: "from_cache",
            }),
            refused: || ("query", json!({"table": ""})),
            prepare: || Box::pin(prepare_dynamodb()),
        },
        BenchCase {
            key: "lambda",
            server: "aws-lambda-mcp",
            tool: "list_functions",
            label: "list_functions (50 functions)",
            meta: Some(Meta {
                tool: "get_function",
                cached_field: "cached",
            }),
            refused: || ("get_function", json!({"function": ""})),
            prepare: || Box::pin(prepare_lambda()),
        },
        BenchCase {
            key: "logs",
            server: "aws-logs-mcp",
            tool: "filter_log_events",
            label: "filter_log_events (100 events)",
            // Logs has no metadata tool with a cache.
            meta: None,
            refused: || ("filter_log_events", json!({"log_groups": []})),
            prepare: || Box::pin(prepare_logs()),
        },
    ]
}

/// The `SdkConfig` the servers build (`shared::aws::load` with default flags), pointed at
/// `service`'s emulator, so the raw call retries and times out like the tool's.
async fn server_sdk_config(service: Service) -> aws_config::SdkConfig {
    if std::env::var_os("BENCH_PLAIN_SDK").is_some() {
        return aws_mcp_tests::sdk_config(service).await;
    }
    use clap::Parser;
    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        common: shared::CommonArgs,
    }
    let flags = Flags::parse_from(["bench", "--region", &aws_mcp_tests::region()]);
    let conf = shared::aws::load("bench", "0", &flags.common)
        .await
        .expect("AWS config from the emulator environment");
    conf.into_builder()
        .endpoint_url(service.endpoint())
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
            aws_sdk_s3::config::Credentials::new("test", "test", None, None, "bench"),
        ))
        .build()
}

async fn prepare_s3() -> Prepared {
    let conf = aws_sdk_s3::config::Builder::from(&server_sdk_config(Service::S3).await)
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(conf);
    let bucket = fixtures::s3::bucket_named("bench", &[]).await;
    fixtures::s3::fill(&bucket, "obj/", 100).await;
    let (c, b) = (s3.clone(), bucket.clone());
    Prepared {
        args: json!({"bucket": bucket, "page_size": 100}),
        raw: Box::new(move || {
            let (c, b) = (c.clone(), b.clone());
            Box::pin(async move {
                c.list_objects_v2().bucket(b).max_keys(100).send().await.unwrap();
            })
        }),
        fresh: Some(Box::new(|| {
            Box::pin(async {
                let b = fixtures::s3::bucket_named("bench-meta", &[]).await;
                json!({"bucket": b})
            })
        })),
    }
}

async fn prepare_dynamodb() -> Prepared {
    let db = aws_sdk_dynamodb::Client::new(&server_sdk_config(Service::DynamoDb).await);
    let table = unique("bench");
    fixtures::dynamodb::create_keyed(&db, &table).await;
    let items = (0..100)
        .map(|i| {
            std::collections::HashMap::from([
                ("pk".to_owned(), fixtures::dynamodb::s("p")),
                ("sk".to_owned(), fixtures::dynamodb::n(i)),
                ("v".to_owned(), fixtures::dynamodb::s(&format!("value {i}"))),
            ])
        })
        .collect();
    fixtures::dynamodb::seed(&db, &table, items).await;
    let (c, t) = (db.clone(), table.clone());
    let fresh_db = db.clone();
    Prepared {
        args: json!({"table": table, "partition_key": "p", "page_size": 100}),
        raw: Box::new(move || {
            let (c, t) = (c.clone(), t.clone());
            Box::pin(async move {
                c.query()
                    .table_name(t)
                    .key_condition_expression("#pk = :pk")
                    .expression_attribute_names("#pk", "pk")
                    .expression_attribute_values(":pk", AttributeValue::S("p".into()))
                    .limit(100)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .unwrap();
            })
        }),
        fresh: Some(Box::new(move || {
            let db = fresh_db.clone();
            Box::pin(async move {
                let t = unique("bench-meta");
                fixtures::dynamodb::create_keyed(&db, &t).await;
                json!({"table": t})
            })
        })),
    }
}

/// ListFunctions' page as the server reads it (50), and the tool's page size to match.
const LAMBDA_PAGE: i32 = 50;

async fn prepare_lambda() -> Prepared {
    let lambda = aws_sdk_lambda::Client::new(&server_sdk_config(Service::Lambda).await);
    // At least one full page, so the tool and the raw call both read exactly one ListFunctions page
    // (LocalStack's account is shared by every run: only the missing functions are made).
    let have = lambda
        .list_functions()
        .max_items(LAMBDA_PAGE)
        .send()
        .await
        .expect("ListFunctions")
        .functions()
        .len();
    let missing = (LAMBDA_PAGE as usize).saturating_sub(have);
    if missing > 0 {
        fixtures::lambda::create_many(&unique("bench-fn"), missing).await;
    }
    let c = lambda.clone();
    Prepared {
        args: json!({"page_size": LAMBDA_PAGE}),
        raw: Box::new(move || {
            let c = c.clone();
            Box::pin(async move {
                c.list_functions().max_items(LAMBDA_PAGE).send().await.unwrap();
            })
        }),
        fresh: Some(Box::new(|| {
            Box::pin(async {
                let f = unique("bench-meta");
                fixtures::lambda::create_function(&f, fixtures::lambda::Spec::default()).await;
                json!({"function": f})
            })
        })),
    }
}

async fn prepare_logs() -> Prepared {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&server_sdk_config(Service::Logs).await);
    let group = fixtures::logs::group_with_events("bench-logs", 100).await;
    let (c, g) = (logs.clone(), group.clone());
    Prepared {
        // The tool's default window is the last hour, as the raw call's below.
        args: json!({"log_groups": [group], "page_size": 100}),
        raw: Box::new(move || {
            let (c, g) = (c.clone(), g.clone());
            Box::pin(async move {
                let now = shared::time::now_ms();
                c.filter_log_events()
                    .log_group_name(g)
                    .start_time(now - 3_600_000)
                    .end_time(now)
                    .limit(100)
                    .send()
                    .await
                    .unwrap();
            })
        }),
        fresh: None,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// Peak resident set (VmHWM) of a process, in MB.
fn peak_rss_mb(pid: Option<u32>) -> f64 {
    let status = pid
        .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn session(server: &str) -> aws_mcp_tests::McpBuilder {
    Mcp::builder(server).env("RUST_LOG", "warn")
}

/// Median latency (ms) of the tool and of the raw call, interleaved so drift hits both alike.
/// `tool` runs one call.
async fn interleaved<F, Fut2>(mut tool: F, raw: &dyn Fn() -> Fut<()>) -> (f64, f64)
where
    F: FnMut() -> Fut2,
    Fut2: Future<Output = ()>,
{
    for _ in 0..20 {
        tool().await;
        raw().await;
    }
    let (mut t, mut r) = (Vec::new(), Vec::new());
    for _ in 0..CALLS {
        let s = Instant::now();
        tool().await;
        t.push(ms(s));
        let s = Instant::now();
        raw().await;
        r.push(ms(s));
    }
    (median(t), median(r))
}

struct Row {
    server: &'static str,
    init_ms: f64,
    rss_mb: f64,
    label: &'static str,
    tool_ms: f64,
    raw_ms: f64,
    /// The metadata tool and its uncached and cached medians, when the server has one.
    meta: Option<(&'static str, f64, f64)>,
    tools_list_bytes: usize,
    tools: usize,
}

async fn run(case: &BenchCase) -> Row {
    let p = (case.prepare)().await;

    // Process spawn → initialize response (rmcp's client), median over several starts.
    let mut starts = Vec::new();
    for _ in 0..STARTS {
        let t = Instant::now();
        let mcp = session(case.server).start().await;
        starts.push(ms(t));
        mcp.close().await;
    }

    // The same ratio through rmcp's client (printed aside), then the MCP round trip alone; the
    // peak RSS is this session's after all that.
    let mcp = session(case.server).start().await;
    let (m, args, tool) = (&mcp, &p.args, case.tool);
    let (rmcp_ms, rmcp_raw_ms) = interleaved(
        move || async move {
            m.ok(tool, args.clone()).await;
        },
        &*p.raw,
    )
    .await;
    eprintln!(
        "{}: {} through rmcp's client {rmcp_ms:.2} / {rmcp_raw_ms:.2} ms = {:.3}",
        case.server,
        case.tool,
        rmcp_ms / rmcp_raw_ms
    );
    let mut overhead = Vec::new();
    for _ in 0..CALLS {
        let (tool, args) = (case.refused)();
        let s = Instant::now();
        mcp.err(tool, args).await;
        overhead.push(ms(s));
    }
    eprintln!(
        "{}: MCP round trip without AWS (median) {:.3} ms",
        case.server,
        median(overhead)
    );
    let rss_mb = peak_rss_mb(mcp.pid);
    mcp.close().await;

    // Latency as a client sees it: JSON-RPC lines, each answer parsed once.
    let line: RawSession = session(case.server).start_raw().await;
    let mut line = line;
    let list = line.request("tools/list", json!({})).await;
    let tools_list_bytes = list["result"].to_string().len();
    let tools = list["result"]["tools"].as_array().map_or(0, Vec::len);
    let line = tokio::sync::Mutex::new(line);
    let l = &line;
    let (tool_ms, raw_ms) = interleaved(
        move || async move {
            l.lock().await.call(tool, args).await;
        },
        &*p.raw,
    )
    .await;
    let mut line = line.into_inner();

    // Metadata: resources seen for the first time vs. the same one again.
    let meta = match (&case.meta, &p.fresh) {
        (Some(meta), Some(make)) => {
            let mut fresh = Vec::new();
            for _ in 0..META {
                fresh.push(make().await);
            }
            let mut uncached = Vec::new();
            for args in &fresh {
                let t = Instant::now();
                line.call(meta.tool, args).await;
                uncached.push(ms(t));
            }
            let mut cached = Vec::new();
            for _ in 0..CALLS {
                let t = Instant::now();
                let v = line.call(meta.tool, &fresh[0]).await["result"]["structuredContent"].clone();
                cached.push(ms(t));
                assert_eq!(v[meta.cached_field], true, "{}: {v}", meta.tool);
            }
            Some((meta.tool, median(uncached), median(cached)))
        }
        _ => None,
    };
    Row {
        server: case.server,
        init_ms: median(starts),
        rss_mb,
        label: case.label,
        tool_ms,
        raw_ms,
        meta,
        tools_list_bytes,
        tools,
    }
}

fn mark(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

#[tokio::main]
async fn main() {
    let which: Vec<String> = std::env::args().skip(1).collect();
    let cases: Vec<BenchCase> = cases()
        .into_iter()
        .filter(|c| which.is_empty() || which.iter().any(|w| w == c.key || w == c.server))
        .collect();
    for c in &cases {
        require(services_of(c.server));
    }
    let mut rows = Vec::new();
    for c in &cases {
        rows.push(run(c).await);
    }
    println!(
        "| server | start → initialize | peak RSS | tool / raw SDK (median) | cached vs uncached metadata | tools/list |"
    );
    println!("|---|---|---|---|---|---|");
    for r in rows {
        let ratio = r.tool_ms / r.raw_ms;
        let meta = match r.meta {
            Some((tool, uncached, cached)) => {
                let speedup = uncached / cached;
                format!(
                    "{tool}: {uncached:.2} → {cached:.3} ms = {speedup:.0}× ({}: ≥ 20×)",
                    mark(speedup >= 20.0)
                )
            }
            None => "n/a (no cached metadata tool)".to_owned(),
        };
        println!(
            "| {} | {:.1} ms ({}: < 20) | {:.1} MB ({}: < 20) | {}: {:.2} / {:.2} ms = {:.3} ({}: ≤ 1.10) | {} | {} bytes, {} tools ({}: ≤ 8192) |",
            r.server,
            r.init_ms,
            mark(r.init_ms < 20.0),
            r.rss_mb,
            mark(r.rss_mb < 20.0),
            r.label,
            r.tool_ms,
            r.raw_ms,
            ratio,
            mark(ratio <= 1.10),
            meta,
            r.tools_list_bytes,
            r.tools,
            mark(r.tools_list_bytes <= 8192),
        );
    }
    redaction_throughput();
}

/// The shared redaction every log and payload text passes through, in MB/s over a realistic sample
/// (log lines, some of them carrying secrets).
fn redaction_throughput() {
    let sample = shared::redact::throughput_sample();
    let redactor = shared::Redactor::new(true);
    let (masked_once, _) = (redactor.text(&sample).1, ());
    let rounds = 20;
    let started = Instant::now();
    let mut masked = 0;
    for _ in 0..rounds {
        masked += redactor.text(std::hint::black_box(&sample)).1;
    }
    let secs = started.elapsed().as_secs_f64();
    let mb = (sample.len() * rounds) as f64 / 1_000_000.0;
    println!(
        "\nredaction: {:.1} MB/s over a {:.2} MB sample ({masked_once} values masked per pass, {masked} in {rounds} passes)",
        mb / secs,
        sample.len() as f64 / 1_000_000.0
    );
}
