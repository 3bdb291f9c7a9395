//! Benchmark of the server binaries (release, for the figures) against the local emulators and
//! the rig's fake endpoint: all six servers side by side in one Markdown table, then the shared
//! redaction throughput and the STS inventory fan-out over 50 accounts. Asserts nothing (timings
//! are measured, never tested); a figure that misses its target is marked ✗.
//!
//! ```text
//! localstack/start.sh && source localstack/env.sh
//! cargo build --release -p aws-s3-mcp -p aws-dynamodb-mcp -p aws-lambda-mcp -p aws-logs-mcp \
//!     -p aws-bedrock-kb-mcp -p aws-sts-mcp -p aws-mcp-tests --bins
//! target/release/bench                      # everything (about 5 minutes)
//! target/release/bench s3 bedrock-kb        # some columns; `inventory` for the fan-out alone
//! ```
//! Columns and sections are chosen by key (`s3`, `dynamodb`, `lambda`, `logs`, `bedrock-kb`, `sts`,
//! `inventory`) or server name (`aws-lambda-mcp`); none: all of them. `AWS_MCP_BIN_DIR` (or
//! `BENCH_BIN_DIR`) overrides where the server binaries are (default: this binary's directory).
//! `BENCH_QUICK=1` runs a few calls of each kind (to check the bench itself, e.g. against debug
//! binaries); `BENCH_PLAIN_SDK=1` builds the raw SDK clients with plain defaults instead of the
//! servers' own configuration.
//!
//! Adding a server: a `BenchCase` in `cases.rs` (fixture data, the raw SDK call equal to the
//! measured tool's, the cached metadata tool and how to miss its cache).

// Printing figures is what this binary is for.
#![allow(clippy::print_stdout)]

mod cases;
mod inventory;

use std::{future::Future, pin::Pin, time::Instant};

use aws_mcp_tests::{Mcp, McpBuilder, RawSession, emulators::require};
use serde_json::json;

use cases::{BenchCase, Prepared, Uncached};

type Fut<T> = Pin<Box<dyn Future<Output = T>>>;

/// How many of each measurement (fewer with `BENCH_QUICK`).
#[derive(Clone, Copy)]
struct Counts {
    /// Server starts (spawn → initialize answer).
    starts: usize,
    /// Measured tool calls, and as many raw SDK calls.
    calls: usize,
    /// Uncached metadata calls.
    meta: usize,
}

fn counts() -> Counts {
    if std::env::var_os("BENCH_QUICK").is_some() {
        Counts {
            starts: 5,
            calls: 20,
            meta: 5,
        }
    } else {
        Counts {
            starts: 30,
            calls: 200,
            meta: 40,
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
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

/// Median latency (ms) of the tool and of the raw call, interleaved so drift hits both alike.
/// `tool` runs one call.
async fn interleaved<F, Fut2>(n: usize, mut tool: F, raw: &dyn Fn() -> Fut<()>) -> (f64, f64)
where
    F: FnMut() -> Fut2,
    Fut2: Future<Output = ()>,
{
    for _ in 0..20 {
        tool().await;
        raw().await;
    }
    let (mut t, mut r) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let s = Instant::now();
        tool().await;
        t.push(ms(s));
        let s = Instant::now();
        raw().await;
        r.push(ms(s));
    }
    (median(t), median(r))
}

/// One column of the table.
struct Column {
    server: &'static str,
    init_ms: f64,
    rss_mb: f64,
    label: &'static str,
    tool_ms: f64,
    raw_ms: f64,
    /// MCP round trip of a call refused before any AWS request.
    refused_ms: f64,
    /// The metadata tool, its uncached and cached medians.
    meta: Option<(&'static str, f64, f64)>,
    tools_list_bytes: usize,
    tools: usize,
    largest_tool: (String, usize),
}

fn session(builder: &McpBuilder) -> McpBuilder {
    builder.clone().env("RUST_LOG", "warn")
}

async fn run(case: &BenchCase, n: Counts) -> Column {
    require(case.services);
    let p: Prepared = (case.prepare)().await;

    // Process spawn → initialize response (rmcp's client), median over several starts.
    let mut starts = Vec::new();
    for _ in 0..n.starts {
        let t = Instant::now();
        let mcp = session(&p.server).start().await;
        starts.push(ms(t));
        mcp.close().await;
    }

    // The same ratio through rmcp's client (printed aside), then the MCP round trip alone; the
    // peak RSS is this session's after all that.
    let mcp: Mcp = session(&p.server).start().await;
    let (m, args, tool) = (&mcp, &p.args, case.tool);
    let (rmcp_ms, rmcp_raw_ms) = interleaved(
        n.calls,
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
    for _ in 0..n.calls {
        let (tool, args) = (case.refused)();
        let s = Instant::now();
        mcp.err(tool, args).await;
        overhead.push(ms(s));
    }
    let refused_ms = median(overhead);
    let rss_mb = peak_rss_mb(mcp.pid);
    mcp.close().await;

    // Latency as a client sees it: JSON-RPC lines, each answer parsed once.
    let mut line: RawSession = session(&p.server).start_raw().await;
    let list = line.request("tools/list", json!({})).await;
    let tools_list_bytes = list["result"].to_string().len();
    let each: Vec<(String, usize)> = list["result"]["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .map(|t| (t["name"].as_str().unwrap_or("?").to_owned(), t.to_string().len()))
                .collect()
        })
        .unwrap_or_default();
    let largest_tool = each.iter().max_by_key(|(_, b)| *b).cloned().unwrap_or_default();
    let line = tokio::sync::Mutex::new(line);
    let l = &line;
    let (tool_ms, raw_ms) = interleaved(
        n.calls,
        move || async move {
            l.lock().await.call(tool, args).await;
        },
        &*p.raw,
    )
    .await;
    let mut line = line.into_inner();

    // Metadata: answers the server has not cached vs. the same one again.
    let meta = match &p.meta {
        Some((meta, uncached_how)) => {
            let mut uncached = Vec::new();
            let cached_args = match uncached_how {
                Uncached::Fresh(make) => {
                    let mut fresh = Vec::new();
                    for _ in 0..n.meta {
                        fresh.push(make().await);
                    }
                    for args in &fresh {
                        let t = Instant::now();
                        line.call(meta.tool, args).await;
                        uncached.push(ms(t));
                    }
                    fresh.swap_remove(0)
                }
                Uncached::Refresh(args) => {
                    let mut refresh = args.clone();
                    refresh["refresh"] = json!(true);
                    for _ in 0..n.meta {
                        let t = Instant::now();
                        line.call(meta.tool, &refresh).await;
                        uncached.push(ms(t));
                    }
                    args.clone()
                }
            };
            let mut cached = Vec::new();
            for _ in 0..n.calls {
                let t = Instant::now();
                let v = line.call(meta.tool, &cached_args).await["result"]["structuredContent"].clone();
                cached.push(ms(t));
                assert!((meta.cached)(&v), "{}: not from the cache: {v}", meta.tool);
            }
            Some((meta.tool, median(uncached), median(cached)))
        }
        None => None,
    };
    drop(line);
    drop(p);
    Column {
        server: case.server,
        init_ms: median(starts),
        rss_mb,
        label: case.label,
        tool_ms,
        raw_ms,
        refused_ms,
        meta,
        tools_list_bytes,
        tools: each.len(),
        largest_tool,
    }
}

/// Targets (issue 13; the ratio and speed-up from the servers' issues).
const INIT_MS: f64 = 10.0;
const RSS_MB: f64 = 15.0;
const RATIO: f64 = 1.10;
const SPEEDUP: f64 = 20.0;
const LIST_BYTES: usize = 8_192;
const TOOL_BYTES: usize = 700;

/// ` ✗` after a figure that misses its target.
fn miss(ok: bool) -> &'static str {
    if ok { "" } else { " ✗" }
}

/// 5330 → "5,330".
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn print_table(cols: &[Column]) {
    let mut header = String::from("| |");
    let mut rule = String::from("|---|");
    for c in cols {
        header.push_str(&format!(" `{}` |", c.server));
        rule.push_str("---|");
    }
    header.push_str(" target |");
    rule.push_str("---|");
    println!("{header}\n{rule}");
    let row = |name: &str, cells: Vec<String>, target: &str| {
        println!("| {name} | {} | {target} |", cells.join(" | "));
    };
    row(
        "start → initialize (median)",
        cols.iter()
            .map(|c| format!("{:.1} ms{}", c.init_ms, miss(c.init_ms < INIT_MS)))
            .collect(),
        "< 10 ms",
    );
    row(
        "peak RSS (short session)",
        cols.iter()
            .map(|c| format!("{:.1} MB{}", c.rss_mb, miss(c.rss_mb < RSS_MB)))
            .collect(),
        "< 15 MB",
    );
    row("measured tool", cols.iter().map(|c| c.label.to_owned()).collect(), "");
    row(
        "tool / same raw SDK call (medians)",
        cols.iter()
            .map(|c| {
                let r = c.tool_ms / c.raw_ms;
                format!("{:.2} / {:.2} ms = **{r:.3}**{}", c.tool_ms, c.raw_ms, miss(r <= RATIO))
            })
            .collect(),
        "≤ 1.10",
    );
    row(
        "tool − raw SDK call",
        cols.iter()
            .map(|c| format!("{:+.2} ms", c.tool_ms - c.raw_ms))
            .collect(),
        "",
    );
    row(
        "MCP round trip, no AWS call",
        cols.iter().map(|c| format!("{:.3} ms", c.refused_ms)).collect(),
        "",
    );
    row(
        "cached metadata tool",
        cols.iter()
            .map(|c| c.meta.map_or("n/a (none)".to_owned(), |(t, _, _)| format!("`{t}`")))
            .collect(),
        "",
    );
    row(
        "uncached → cached (medians)",
        cols.iter()
            .map(|c| match c.meta {
                Some((_, u, k)) => {
                    let s = u / k;
                    format!("{u:.2} → {k:.3} ms = **{s:.0}×**{}", miss(s >= SPEEDUP))
                }
                None => "n/a".to_owned(),
            })
            .collect(),
        "≥ 20×",
    );
    row(
        "tools/list bytes, per server (default flags)",
        cols.iter()
            .map(|c| {
                format!(
                    "{} ({} tools){}",
                    thousands(c.tools_list_bytes),
                    c.tools,
                    miss(c.tools_list_bytes <= LIST_BYTES)
                )
            })
            .collect(),
        "≤ 8,192",
    );
    row(
        "tools/list bytes per tool: mean, largest",
        cols.iter()
            .map(|c| {
                let mean = c.tools_list_bytes / c.tools.max(1);
                format!(
                    "{}{}, {} (`{}`)",
                    thousands(mean),
                    miss(mean <= TOOL_BYTES),
                    thousands(c.largest_tool.1),
                    c.largest_tool.0,
                )
            })
            .collect(),
        "mean ≤ 700",
    );
}

/// The shared redaction every log and payload text passes through, in MB/s over a realistic sample
/// (log lines, some of them carrying secrets).
fn redaction_throughput() {
    let sample = shared::redact::throughput_sample();
    let redactor = shared::Redactor::new(true);
    let masked_once = redactor.text(&sample).1;
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(redactor.text(std::hint::black_box(&sample)));
    }
    let secs = started.elapsed().as_secs_f64();
    let mb = (sample.len() * rounds) as f64 / 1_000_000.0;
    println!(
        "\nShared redaction: **{:.1} MB/s** over a {:.2} MB log-like sample with {masked_once} secrets.",
        mb / secs,
        sample.len() as f64 / 1_000_000.0
    );
}

/// Where the server binaries come from (as `aws_mcp_tests::server_bin` finds them).
fn bin_dir() -> String {
    std::env::var_os("AWS_MCP_BIN_DIR")
        .or_else(|| std::env::var_os("BENCH_BIN_DIR"))
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::current_exe().ok()?.parent().map(|d| d.to_path_buf()))
        .map_or("?".into(), |d| d.display().to_string())
}

/// `uptime`'s load averages, for the record of the run.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

#[tokio::main]
async fn main() {
    let which: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |key: &str, server: &str| which.is_empty() || which.iter().any(|w| w == key || w == server);
    let n = counts();
    let cases: Vec<BenchCase> = cases::all().into_iter().filter(|c| wanted(c.key, c.server)).collect();
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let load_before = load_average();
    let mut cols = Vec::new();
    for c in &cases {
        eprintln!("bench: {} …", c.server);
        cols.push(run(c, n).await);
    }
    let inventory = if wanted("inventory", "aws-sts-mcp") {
        eprintln!("bench: inventory over 50 accounts …");
        Some(inventory::measure().await)
    } else {
        None
    };
    println!(
        "\nBench ({profile} bench binary; servers from {}), load average {load_before} at the start, {} at the end:\n",
        bin_dir(),
        load_average()
    );
    if !cols.is_empty() {
        print_table(&cols);
    }
    redaction_throughput();
    if let Some(inv) = inventory {
        inventory::print(&inv);
    }
    println!(
        "\n✗: misses its target. Latencies are what a client sees over stdio (JSON-RPC lines, each answer parsed once); \
         the raw SDK call uses the servers' own AWS configuration against the same endpoint."
    );
}
