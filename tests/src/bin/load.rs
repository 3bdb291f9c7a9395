//! Load benchmark (issue 13): many tool calls from concurrent MCP clients to one `aws-s3-mcp`
//! over Streamable HTTP, then invocations of the same server in Lambda mode under cargo-lambda's
//! runtime emulator. Prints failures, p50/p99 latency and the server's resident memory after
//! warm-up and at the end (flat means final ≤ 1.2 × warm-up), as a markdown table. Asserts
//! nothing: it measures; the exit status is 1 when a check fails (a failure, or memory growth).
//!
//! ```text
//! localstack/start.sh            # only for --target localstack, and for cargo-lambda
//! cargo run -p aws-mcp-tests --bin load -- --calls 500 --lambda-calls 100    # a quick debug run
//! cargo build --release -p aws-s3-mcp -p aws-mcp-tests --bins
//! target/release/load                # the real figures: 10,000 calls at 64 clients, 1,000 Lambda invocations
//! ```
//! `AWS_MCP_BIN_DIR` chooses the server binary's directory (default: this binary's).
//! `--target fake` (the default) serves S3 from the rig's fake endpoint in this process, so the
//! figures are the server's; `--target localstack` measures server and emulator together.
//! Loopback only; bounded in count and in time (`--deadline-secs`).

// Printing figures is what this binary is for.
#![allow(clippy::print_stdout)]

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use aws_mcp_tests::{
    LambdaEmulator, Proc, Service, emulators,
    fake::{Fake, Reply},
    fixtures, server_bin,
};
use clap::{Parser, ValueEnum};
use rmcp::{ServiceExt, model::CallToolRequestParams, transport::StreamableHttpClientTransport};
use serde_json::{Value, json};

const BIN: &str = "aws-s3-mcp";
const BUCKET: &str = "load-bench";
/// Fraction of the calls made before the warm-up memory sample.
const WARMUP_SHARE: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Target {
    /// The rig's fake S3 endpoint, in this process (measures the server).
    Fake,
    /// LocalStack (measures server and emulator).
    Localstack,
}

#[derive(Parser, Debug)]
#[command(about = "Load benchmark of aws-s3-mcp over Streamable HTTP and in Lambda mode")]
struct Args {
    /// Tool calls over Streamable HTTP.
    #[arg(long, default_value_t = 10_000)]
    calls: usize,
    /// Concurrent MCP clients (sessions) over Streamable HTTP.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Invocations in Lambda mode (0 skips it).
    #[arg(long, default_value_t = 1_000)]
    lambda_calls: usize,
    /// Concurrent invocations in Lambda mode (the emulator queues what one function process cannot take).
    #[arg(long, default_value_t = 8)]
    lambda_clients: usize,
    /// Where the server's S3 calls go.
    #[arg(long, value_enum, default_value_t = Target::Fake)]
    target: Target,
    /// Give up on a phase after this long (its unfinished calls count as failures).
    #[arg(long, default_value_t = 900)]
    deadline_secs: u64,
}

/// One measured phase.
struct Row {
    mode: String,
    calls: usize,
    clients: usize,
    failures: usize,
    latencies: Vec<Duration>,
    warm_rss_kb: Option<u64>,
    final_rss_kb: Option<u64>,
    peak_rss_kb: Option<u64>,
    wall: Duration,
}

impl Row {
    fn flat(&self) -> Option<bool> {
        Some(self.final_rss_kb? as f64 <= 1.2 * self.warm_rss_kb? as f64)
    }
}

/// `VmRSS` of `pid` in kB.
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Sample `pid`'s RSS every 50 ms; the peak so far.
fn watch_peak(pid: u32) -> (Arc<Mutex<u64>>, tokio::task::JoinHandle<()>) {
    let peak = Arc::new(Mutex::new(0u64));
    let p = peak.clone();
    let task = tokio::spawn(async move {
        while let Some(kb) = rss_kb(pid) {
            {
                let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
                *p = (*p).max(kb);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    (peak, task)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A fake S3 answering the measured call: a 20-key listing.
async fn fake_s3() -> Fake {
    let f = Fake::start().await;
    f.on_xml(
        "HeadBucket",
        "HEAD /{bucket}",
        Reply::empty(200).header("x-amz-bucket-region", "us-east-1"),
    );
    let contents: String = (0..20)
        .map(|i| {
            format!(
                "<Contents><Key>data/object-{i:03}.json</Key><Size>{}</Size><StorageClass>STANDARD</StorageClass>\
                 <LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>\"e{i}\"</ETag></Contents>",
                100 + i
            )
        })
        .collect();
    f.on_xml(
        "ListObjectsV2",
        "GET /{bucket}?list-type=2",
        Reply::xml(format!(
            "<ListBucketResult><Name>{BUCKET}</Name><KeyCount>20</KeyCount><MaxKeys>1000</MaxKeys>\
             <IsTruncated>false</IsTruncated>{contents}</ListBucketResult>"
        )),
    );
    f
}

/// Where the server's S3 calls go, and the bucket to list there.
async fn prepare(target: Target) -> (Option<Fake>, String, String) {
    match target {
        Target::Fake => {
            let f = fake_s3().await;
            let url = f.url();
            (Some(f), url, BUCKET.to_owned())
        }
        Target::Localstack => {
            emulators::require(&[Service::S3]);
            let bucket = aws_mcp_tests::unique("load");
            fixtures::s3::create_bucket(&bucket).await;
            fixtures::s3::fill(&bucket, "data/", 20).await;
            (None, Service::S3.endpoint(), bucket)
        }
    }
}

/// The server process with its S3 calls at `s3_url` and nothing else reachable.
fn server(args: &[&str], s3_url: &str, extra_env: &[(&str, &str)]) -> Proc {
    let mut cmd = tokio::process::Command::new(server_bin(BIN));
    emulators::clear_aws_env(&mut cmd);
    cmd.args(args)
        .envs(emulators::aws_env(
            &[(Service::S3, s3_url.to_owned())],
            emulators::NOWHERE,
        ))
        .env(
            "RUST_LOG",
            "info,rmcp=warn,aws_config=warn,aws_smithy_runtime=warn,aws_runtime=warn",
        )
        .env("RUST_BACKTRACE", "0");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    Proc::spawn(BIN, cmd)
}

/// Failures as they happen: counted, the first few printed.
#[derive(Default)]
struct Failures {
    count: AtomicUsize,
}

impl Failures {
    fn record(&self, what: &str) {
        let n = self.count.fetch_add(1, Ordering::SeqCst);
        if n < 10 {
            eprintln!("failure {}: {what:.400}", n + 1);
        }
    }
}

/// `calls` tool calls from `clients` concurrent MCP sessions over Streamable HTTP.
async fn http_phase(args: &Args, s3_url: &str, bucket: &str) -> Row {
    let mut proc = server(&["--transport", "http", "--bind", "127.0.0.1:0"], s3_url, &[]);
    let line = proc
        .wait_for_line(Duration::from_secs(60), |l| l.contains("listening on http://"))
        .await;
    let url = line
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    let pid = proc.child.id().unwrap_or(0);
    let (peak, watcher) = watch_peak(pid);
    let failures = Arc::new(Failures::default());
    let tool_args = json!({"bucket": bucket}).as_object().cloned().unwrap_or_default();

    let mut sessions = Vec::new();
    for _ in 0..args.clients {
        match ().serve(StreamableHttpClientTransport::from_uri(url.as_str())).await {
            Ok(c) => sessions.push(Arc::new(c)),
            Err(e) => failures.record(&format!("initialize: {e}")),
        }
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.deadline_secs);
    let warm = args.calls / WARMUP_SHARE;
    let mut latencies = Vec::with_capacity(args.calls);
    let mut warm_rss = None;
    for (phase, n) in [(0, warm), (1, args.calls - warm)] {
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for client in &sessions {
            let (client, next, failures, tool_args) =
                (client.clone(), next.clone(), failures.clone(), tool_args.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                while next.fetch_add(1, Ordering::SeqCst) < n {
                    if Instant::now() > deadline {
                        failures.record("deadline passed");
                        continue;
                    }
                    let t = Instant::now();
                    let r = client
                        .call_tool(CallToolRequestParams::new("list_objects").with_arguments(tool_args.clone()))
                        .await;
                    lat.push(t.elapsed());
                    match r {
                        Ok(r) if r.is_error != Some(true) => {}
                        Ok(r) => failures.record(&format!("tool error: {:?}", r.content)),
                        Err(e) => failures.record(&format!("protocol: {e}")),
                    }
                }
                lat
            }));
        }
        if sessions.is_empty() {
            for _ in 0..n {
                failures.record("no session");
            }
        }
        for t in tasks {
            match t.await {
                Ok(l) => latencies.extend(l),
                Err(e) => failures.record(&format!("client task: {e}")),
            }
        }
        if phase == 0 {
            warm_rss = rss_kb(pid);
        }
    }
    let wall = started.elapsed();
    let final_rss = rss_kb(pid);
    for s in sessions {
        if let Ok(c) = Arc::try_unwrap(s) {
            let _ = c.cancel().await;
        }
    }
    watcher.abort();
    let peak = *peak.lock().unwrap_or_else(|e| e.into_inner());
    proc.assert_running();
    proc.kill().await;
    Row {
        mode: "Streamable HTTP".into(),
        calls: args.calls,
        clients: args.clients,
        failures: failures.count.load(Ordering::SeqCst),
        latencies,
        warm_rss_kb: warm_rss,
        final_rss_kb: final_rss,
        peak_rss_kb: Some(peak),
        wall,
    }
}

/// One JSON-RPC request through the function URL; Ok when it is a successful tool result.
async fn invoke(http: &reqwest::Client, url: &str, id: usize, bucket: &str) -> Result<(), String> {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                      "params": {"name": "list_objects", "arguments": {"bucket": bucket}}});
    let resp = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string())
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .map_err(|e| format!("POST: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp.text().await.map_err(|e| format!("body: {e}"))?;
    // Stateless JSON mode answers a JSON body; accept an SSE frame too.
    let json_text = text
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .unwrap_or(text.as_str());
    let v: Value = serde_json::from_str(json_text).map_err(|e| format!("HTTP {status}, not JSON ({e}): {text}"))?;
    if status != 200 || v.get("error").is_some() || v["result"]["isError"] == true {
        return Err(format!("HTTP {status}: {text}"));
    }
    Ok(())
}

/// `lambda_calls` invocations of the server as a Lambda function through its function URL.
async fn lambda_phase(args: &Args, s3_url: &str, bucket: &str) -> Row {
    let mut emulator = LambdaEmulator::start().await;
    let runtime_api = emulator.runtime_api();
    let mut function = server(
        &[],
        s3_url,
        &[
            ("AWS_LAMBDA_RUNTIME_API", &runtime_api),
            ("AWS_LAMBDA_FUNCTION_NAME", LambdaEmulator::FUNCTION),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ],
    );
    let pid = function.child.id().unwrap_or(0);
    let (peak, watcher) = watch_peak(pid);
    let url = emulator.function_url("/mcp");
    let http = reqwest::Client::new();
    let failures = Arc::new(Failures::default());
    // The first invocation waits for the function to register with the emulator.
    let ready = Instant::now() + Duration::from_secs(60);
    while let Err(e) = invoke(&http, &url, 0, bucket).await {
        if Instant::now() > ready {
            failures.record(&format!("the function never answered: {e}\n{}", function.drain()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.deadline_secs);
    let warm = args.lambda_calls / WARMUP_SHARE;
    let mut latencies = Vec::with_capacity(args.lambda_calls);
    let mut warm_rss = None;
    for (phase, n) in [(0, warm), (1, args.lambda_calls - warm)] {
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..args.lambda_clients.max(1) {
            let (http, url, next, failures, bucket) = (
                http.clone(),
                url.clone(),
                next.clone(),
                failures.clone(),
                bucket.to_owned(),
            );
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        break lat;
                    }
                    if Instant::now() > deadline {
                        failures.record("deadline passed");
                        continue;
                    }
                    let t = Instant::now();
                    let r = invoke(&http, &url, i + 1, &bucket).await;
                    lat.push(t.elapsed());
                    if let Err(e) = r {
                        failures.record(&e);
                    }
                }
            }));
        }
        for t in tasks {
            match t.await {
                Ok(l) => latencies.extend(l),
                Err(e) => failures.record(&format!("client task: {e}")),
            }
        }
        if phase == 0 {
            warm_rss = rss_kb(pid);
        }
    }
    let wall = started.elapsed();
    let final_rss = rss_kb(pid);
    watcher.abort();
    let peak = *peak.lock().unwrap_or_else(|e| e.into_inner());
    function.assert_running();
    function.kill().await;
    emulator.proc.kill().await;
    Row {
        mode: "Lambda (cargo-lambda)".into(),
        calls: args.lambda_calls,
        clients: args.lambda_clients,
        failures: failures.count.load(Ordering::SeqCst),
        latencies,
        warm_rss_kb: warm_rss,
        final_rss_kb: final_rss,
        peak_rss_kb: Some(peak),
        wall,
    }
}

fn mb(kb: Option<u64>) -> String {
    kb.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0))
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let (_fake, s3_url, bucket) = prepare(args.target).await;
    let mut rows = Vec::new();
    if args.calls > 0 {
        rows.push(http_phase(&args, &s3_url, &bucket).await);
    }
    if args.lambda_calls > 0 {
        rows.push(lambda_phase(&args, &s3_url, &bucket).await);
    }
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    println!(
        "\n{BIN} `list_objects` (20 keys) against {:?}; server {}, {profile} load binary; load average {load} at the end\n",
        args.target,
        server_bin(BIN).display()
    );
    println!(
        "| mode | calls | clients | failures | p50 ms | p99 ms | calls/s | RSS after warm-up MB | RSS final MB | peak MB | final ≤ 1.2 × warm-up |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut ok = true;
    for r in &mut rows {
        r.latencies.sort();
        let flat = r.flat();
        ok &= r.failures == 0 && flat != Some(false);
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.0} | {} | {} | {} | {} |",
            r.mode,
            r.calls,
            r.clients,
            r.failures,
            ms(percentile(&r.latencies, 0.50)),
            ms(percentile(&r.latencies, 0.99)),
            r.latencies.len() as f64 / r.wall.as_secs_f64().max(1e-9),
            mb(r.warm_rss_kb),
            mb(r.final_rss_kb),
            mb(r.peak_rss_kb),
            match flat {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "not measured",
            }
        );
    }
    if !ok {
        println!("\nA check failed: see the failures above and the table.");
        std::process::exit(1);
    }
}
