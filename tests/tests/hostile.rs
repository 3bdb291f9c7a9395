//! Hostile input against every tool of every server (issue 13), generated from each server's live
//! `tools/list` by `aws_mcp_tests::hostile`: every case must get, within 10 s, a result or a tool
//! error naming what was wrong (a JSON-RPC error for raw lines that do not parse), never a panic,
//! a JSON-RPC internal error or silence, and the same process must answer a normal call afterwards.
//!
//! Every AWS call goes to one fake endpoint with no handlers, which answers each request at once
//! with a 400 `UnknownOperationException`: an AWS error is an acceptable answer for a valid but
//! non-existent name, writes reach nothing, and the suite needs no emulator. All capability flags
//! are on so write, invoke and generate tools are attacked too. The six servers run side by side,
//! one process each (plus one for raw lines). `aws-sts-mcp` is included when its binary is built.
//!
//! Run `cargo test -p aws-mcp-tests --test hostile -- --nocapture` to see the outcome table.

use aws_mcp_tests::{
    Mcp,
    fake::{Fake, Reply, Request},
    hostile, server_bin,
};
use serde_json::json;

const FLAGS: &[&str] = &[
    "--allow-writes",
    "--allow-invoke",
    "--allow-generate",
    "--region",
    "us-east-1",
    "--max-attempts",
    "1",
    "--operation-timeout-secs",
    "5",
];

/// Defects found by this suite and reported, not yet fixed: (server, tool, case) substrings of the
/// failure line. They are printed but do not fail the run; a known defect that no longer occurs
/// does fail it, so this list is emptied as fixes land.
const KNOWN: &[(&str, &str, &str)] = &[];

fn is_known(failure: &str) -> bool {
    KNOWN
        .iter()
        .any(|(bin, tool, case)| failure.starts_with(&format!("{bin} {tool} {case}")))
}

/// Listings that answer one item and a next token (only to a first request), so each server issues
/// a real cursor for the cut, edited and replayed cursor cases. Every other operation is an AWS
/// error at once.
fn listings(fake: &Fake) {
    fake.on_target("DynamoDB_20120810.ListTables", |req: &Request| {
        Reply::json(match req.json().get("ExclusiveStartTableName") {
            None => json!({"TableNames": ["t-a"], "LastEvaluatedTableName": "t-a"}),
            Some(_) => json!({"TableNames": ["t-b"]}),
        })
    });
    fake.on_target("Logs_20140328.DescribeLogGroups", |req: &Request| {
        Reply::json(match req.json().get("nextToken") {
            None => json!({"logGroups": [{"logGroupName": "/g/a"}], "nextToken": "n1"}),
            Some(_) => json!({"logGroups": [{"logGroupName": "/g/b"}]}),
        })
    });
    fake.on_json("ListFunctions", "GET /2015-03-31/functions", |req: &Request| {
        Reply::json(match req.query_param("Marker") {
            None => json!({"Functions": [{"FunctionName": "f-a"}], "NextMarker": "m1"}),
            Some(_) => json!({"Functions": [{"FunctionName": "f-b"}]}),
        })
    });
    fake.on_xml("ListBuckets", "GET /", |req: &Request| {
        let token = match req.query_param("continuation-token") {
            None => "<ContinuationToken>c1</ContinuationToken>",
            Some(_) => "",
        };
        Reply::xml(format!(
            "<ListAllMyBucketsResult><Buckets><Bucket><Name>b-a</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate>\
             </Bucket></Buckets>{token}</ListAllMyBucketsResult>"
        ))
    });
    fake.on_json("ListKnowledgeBases", "POST /knowledgebases/", |req: &Request| {
        let kb = |id: &str| json!({"knowledgeBaseId": id, "name": id, "status": "ACTIVE", "updatedAt": "2026-01-01T00:00:00Z"});
        Reply::json(match req.json().get("nextToken") {
            None => json!({"knowledgeBaseSummaries": [kb("KBA0000001")], "nextToken": "k1"}),
            Some(_) => json!({"knowledgeBaseSummaries": [kb("KBB0000002")]}),
        })
    });
}

/// Whether the binary is built (`server_bin` panics with instructions when it is not).
fn built(bin: &str) -> bool {
    std::panic::catch_unwind(|| server_bin(bin)).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_a_named_answer_from_every_tool_of_every_server() {
    let fake = Fake::start().await;
    listings(&fake);
    let url = fake.url();
    // Every server of the rig's registry.
    let all = aws_mcp_tests::emulators::SERVERS.iter().map(|(bin, _)| *bin);
    let present: Vec<&str> = all.clone().filter(|b| built(b)).collect();
    let missing: Vec<&str> = all.filter(|b| !present.contains(b)).collect();
    // Only the STS server (written last) may be absent; the other five must be tested.
    assert!(
        missing.iter().all(|m| *m == "aws-sts-mcp"),
        "server binaries missing: {missing:?} (cargo build --workspace --bins)"
    );
    let reports = futures::future::join_all(present.iter().map(|bin| {
        let launch = Mcp::builder(bin).args(FLAGS).everything_at(&url);
        async move { hostile::run(bin, launch).await }
    }))
    .await;
    let total: usize = reports.iter().map(|r| r.cases).sum();
    let issued: usize = reports.iter().map(|r| r.issued_cursor_cases).sum();
    let failures: Vec<&String> = reports.iter().flat_map(|r| &r.failures).collect();
    eprintln!(
        "hostile input: {total} cases on {} servers{}\n{}",
        reports.len(),
        if missing.is_empty() {
            String::new()
        } else {
            format!(" ({missing:?} not built)")
        },
        hostile::table(&reports)
    );
    for f in &failures {
        let known = if is_known(f) { " (known)" } else { "" };
        eprintln!("- {f}{known}");
    }
    let fixed: Vec<String> = KNOWN
        .iter()
        .filter(|(bin, tool, case)| {
            present.contains(bin) && !failures.iter().any(|f| f.starts_with(&format!("{bin} {tool} {case}")))
        })
        .map(|k| format!("{k:?}"))
        .collect();
    assert!(
        fixed.is_empty(),
        "known defects no longer occur; remove them from KNOWN: {fixed:?}"
    );
    let failures: Vec<&String> = failures.into_iter().filter(|f| !is_known(f)).collect();
    assert!(total >= 500, "only {total} cases");
    assert!(
        issued > 0,
        "no server issued a cursor from the fake listings: the real-cursor cases did not run"
    );
    for r in &reports {
        assert!(
            r.cases >= 50,
            "{}: only {} cases: is tools/list empty?",
            r.server,
            r.cases
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {total} hostile cases failed:\n- {}",
        failures.len(),
        failures.iter().map(|f| f.as_str()).collect::<Vec<_>>().join("\n- ")
    );
}
