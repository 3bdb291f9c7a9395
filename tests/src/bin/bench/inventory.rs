//! The STS server's inventory over many configured accounts (issue 11): wall time at the default
//! concurrency against the same calls made one after another (`--concurrency 1`), and how it
//! grows from 10 to 50 accounts. Two backends:
//! - the rig's fake endpoint answering every listing after 50 ms (a real AWS round trip) and
//!   AssumeRole at once: it measures the fan-out, since the calls cost the endpoint nothing;
//! - LocalStack (any 12-digit account works), where each call costs a few ms of LocalStack's own
//!   CPU on the same 2 cores, so its throughput sets the wall time as much as the fan-out does.
//!
//! Every run lists 2 regions × 3 types (S3, Lambda, Logs) per account with sessions already up
//! (one warm-up call assumes the roles) and `refresh`, and must come back complete.

use std::time::{Duration, Instant, SystemTime};

use aws_mcp_tests::{
    Mcp,
    fake::{Fake, Reply, Request},
    fixtures::accounts::{AccountsFile, accounts, two_regions},
};
use serde_json::json;

use crate::cases::sts_server;

const BIN: &str = "aws-sts-mcp";
/// The latency the fake endpoint adds to every listing call.
const ROUND_TRIP: Duration = Duration::from_millis(50);
/// Target: the default concurrency takes at most 1/8 of the one-after-another time.
const SPEEDUP: f64 = 8.0;

/// One inventory call.
struct Timed {
    wall: Duration,
    /// CPU time of the server process, and of this process (the fake endpoint), during the call.
    server_cpu_ms: u64,
    /// `None` when the endpoint is another process (LocalStack).
    bench_cpu_ms: Option<u64>,
}

/// The four runs of one backend.
pub(crate) struct Backend {
    name: &'static str,
    sequential: Timed,
    default: Timed,
    ten: Timed,
}

pub(crate) struct Inventory {
    backends: Vec<Backend>,
}

/// An AssumeRole answer whose access key id is the role's account (so LocalStack would place the
/// session's calls there; the fake does not care).
fn assume_role(req: &Request) -> Reply {
    let role = req.form_field("RoleArn").unwrap_or_default().to_owned();
    let account = role.split(':').nth(4).unwrap_or("000000000000").to_owned();
    let expires = aws_smithy_types::DateTime::from(SystemTime::now() + Duration::from_secs(3600))
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default();
    Reply::query_result(
        "AssumeRole",
        format!(
            "<Credentials><AccessKeyId>{account}</AccessKeyId><SecretAccessKey>bench</SecretAccessKey>\
             <SessionToken>bench</SessionToken><Expiration>{expires}</Expiration></Credentials>\
             <AssumedRoleUser><AssumedRoleId>AROABENCH:aws-mcp</AssumedRoleId>\
             <Arn>arn:aws:sts::{account}:assumed-role/McpReadOnly/aws-mcp</Arn></AssumedRoleUser>"
        ),
    )
}

/// A fake AWS answering S3, Lambda and Logs listings (one resource each) after [`ROUND_TRIP`].
async fn slow_aws() -> Fake {
    let fake = Fake::start().await;
    fake.on_action("AssumeRole", assume_role);
    fake.on_xml("ListBuckets", "GET /", |req: &Request| {
        let region = req.query_param("bucket-region").unwrap_or("us-east-1").to_owned();
        Reply::delay(
            ROUND_TRIP,
            Reply::xml(format!(
                "<ListAllMyBucketsResult><Buckets><Bucket><Name>b-{region}</Name><BucketRegion>{region}</BucketRegion>\
                 </Bucket></Buckets></ListAllMyBucketsResult>"
            )),
        )
    });
    fake.on_json(
        "ListFunctions",
        "GET /2015-03-31/functions",
        Reply::delay(
            ROUND_TRIP,
            Reply::json(json!({ "Functions": [{ "FunctionName": "f" }] })),
        ),
    );
    fake.on_target(
        "Logs_20140328.DescribeLogGroups",
        Reply::delay(
            ROUND_TRIP,
            Reply::json(json!({ "logGroups": [{ "logGroupName": "/g" }] })),
        ),
    );
    fake
}

/// CPU time (user + system) a process has used, in ms (Linux `/proc`).
fn cpu_ms(pid: Option<u32>) -> u64 {
    let stat = pid
        .and_then(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .unwrap_or_default();
    // After the command name (in parentheses) come state, ppid, … : utime and stime, fields 14
    // and 15 of proc(5), are the 12th and 13th there. In USER_HZ ticks: 100 a second on Linux.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    (tick(11) + tick(12)) * 10
}

/// One inventory of `n` fresh accounts × 2 regions × 3 types, sessions already up, at
/// `concurrency` (`None`: the server's default).
async fn timed(n: usize, concurrency: Option<&str>, fake: Option<&Fake>) -> Timed {
    let aliases: Vec<String> = (0..n).map(|i| format!("a{i:02}")).collect();
    let refs: Vec<&str> = aliases.iter().map(String::as_str).collect();
    let accts = accounts(&refs);
    let regions = two_regions();
    let file = AccountsFile::for_accounts(&accts, &[&regions[0], &regions[1]]);
    // No deadline cuts a run short: under load LocalStack can take seconds per call.
    let mut args = vec!["--item-deadline-ms", "600000", "--deadline-ms", "900000"];
    if let Some(c) = concurrency {
        args.extend(["--concurrency", c]);
    }
    let builder = match fake {
        Some(f) => Mcp::builder(BIN)
            .args(&["--accounts", &file.arg()])
            .everything_at(&f.url()),
        None => sts_server(&file),
    };
    let mcp = builder.args(&args).env("RUST_LOG", "warn").start().await;
    // Sessions first: one AssumeRole per account, and an S3 listing in one region.
    let warm = mcp
        .ok("inventory", json!({ "types": ["s3"], "regions": [regions[0].clone()] }))
        .await;
    assert_eq!(warm["complete"], true, "warm-up inventory incomplete: {warm}");
    let (server_before, bench_before) = (cpu_ms(mcp.pid), cpu_ms(Some(std::process::id())));
    let started = Instant::now();
    let inv = mcp
        .ok(
            "inventory",
            json!({ "types": ["s3", "lambda", "logs"], "refresh": true }),
        )
        .await;
    let wall = started.elapsed();
    let (server_cpu_ms, bench_cpu_ms) = (
        cpu_ms(mcp.pid).saturating_sub(server_before),
        fake.map(|_| cpu_ms(Some(std::process::id())).saturating_sub(bench_before)),
    );
    mcp.close().await;
    assert_eq!(inv["complete"], true, "inventory incomplete: {inv}");
    let items = inv["counts"]["items"]["ok"].as_u64().unwrap_or(0);
    assert_eq!(items as usize, n * 2 * 3, "listings done: {inv}");
    Timed {
        wall,
        server_cpu_ms,
        bench_cpu_ms,
    }
}

async fn backend(name: &'static str, fake: Option<&Fake>) -> Backend {
    let sequential = timed(50, Some("1"), fake).await;
    let default = timed(50, None, fake).await;
    let ten = timed(10, None, fake).await;
    Backend {
        name,
        sequential,
        default,
        ten,
    }
}

pub(crate) async fn measure() -> Inventory {
    aws_mcp_tests::require(&[
        aws_mcp_tests::Service::Sts,
        aws_mcp_tests::Service::S3,
        aws_mcp_tests::Service::Lambda,
        aws_mcp_tests::Service::Logs,
    ]);
    let fake = slow_aws().await;
    let mut backends = vec![backend("fake endpoint, 50 ms per call", Some(&fake)).await];
    drop(fake);
    backends.push(backend("LocalStack", None).await);
    Inventory { backends }
}

fn opt_ms(v: Option<u64>) -> String {
    v.map_or("n/a".into(), |ms| format!("{ms} ms"))
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub(crate) fn print(inv: &Inventory) {
    println!(
        "\n`aws-sts-mcp` inventory, sessions up, `refresh`: 50 accounts × 2 regions × 3 types = 300 listings \
         (10 accounts: 60), default `--concurrency 16`:\n"
    );
    println!(
        "| backend | one after another (`--concurrency 1`) | default concurrency | speed-up (target ≥ 8×) | 10 accounts | 10 → 50 accounts | server CPU, 300 listings (1 / 16) | bench process (the fake) CPU (1 / 16) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for b in &inv.backends {
        let speedup = b.sequential.wall.as_secs_f64() / b.default.wall.as_secs_f64();
        let growth = b.default.wall.as_secs_f64() / b.ten.wall.as_secs_f64();
        println!(
            "| {} | {} | {} | **{speedup:.1}×** (1/{speedup:.1}){} | {} | {growth:.1}× the time for 5× the listings | {} / {} ms | {} / {} |",
            b.name,
            secs(b.sequential.wall),
            secs(b.default.wall),
            crate::miss(speedup >= SPEEDUP),
            secs(b.ten.wall),
            b.sequential.server_cpu_ms,
            b.default.server_cpu_ms,
            opt_ms(b.sequential.bench_cpu_ms),
            opt_ms(b.default.bench_cpu_ms),
        );
    }
}
