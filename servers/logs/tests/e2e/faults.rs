//! What no emulator here does, on the rig's fake endpoint (AWS JSON 1.1, `Logs_20140328.<Op>`):
//! CloudWatch's empty scan pages, StopQuery on a timeout, GetLogRecord restoring a clipped
//! message, the `pattern` command, and the error answers (throttling, the concurrent-query limit,
//! malformed queries and filter patterns).

use aws_mcp_tests::fake::{Fake, Reply, Request, throttle};
use serde_json::{Value, json};

use crate::fixtures::SECRET;

fn target(op: &str) -> String {
    format!("Logs_20140328.{op}")
}

fn event(n: u32) -> Value {
    json!({"logStreamName": "s", "timestamp": 1_796_040_000_000u64 + u64::from(n), "message": format!("event {n}\n"),
           "ingestionTime": 1_796_040_000_000u64, "eventId": format!("e{n}")})
}

#[tokio::test]
async fn empty_scan_pages_are_followed_and_the_scan_says_when_it_is_done() {
    let fake = Fake::start().await;
    // Pages: [], [], [0 1], [], [2], as CloudWatch answers while it scans.
    fake.on_target(&target("FilterLogEvents"), |req: &Request| {
        let page = match req.json()["nextToken"].as_str() {
            None => json!({"events": [], "nextToken": "t1"}),
            Some("t1") => json!({"events": [], "nextToken": "t2"}),
            Some("t2") => json!({"events": [event(0), event(1)], "nextToken": "t3"}),
            Some("t3") => json!({"events": [], "nextToken": "t4"}),
            _ => json!({"events": [event(2)]}),
        };
        Reply::json(page)
    });
    let mcp = crate::against(&fake.url(), &[]).await;
    let r = mcp
        .ok("filter_log_events", json!({"log_groups": ["g"], "page_size": 10}))
        .await;
    let msgs: Vec<&str> = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(msgs, ["event 0", "event 1", "event 2"]);
    assert_eq!(
        (r["scan_complete"].as_bool(), r["aws_pages"].as_u64()),
        (Some(true), Some(5)),
        "{r}"
    );
    assert!(r.get("next_cursor").is_none());

    // A scan that never finds anything stops at its cap and hands back a cursor.
    let endless = Fake::start().await;
    endless.on_target(
        &target("FilterLogEvents"),
        Reply::json(json!({"events": [], "nextToken": "again"})),
    );
    let mcp = crate::against(&endless.url(), &[]).await;
    let r = mcp.ok("filter_log_events", json!({"log_groups": ["g"]})).await;
    assert_eq!(r["scan_complete"], false, "{r}");
    assert!(r["next_cursor"].is_string() && r["note"].is_string(), "{r}");
    let calls = endless.requests_for("FilterLogEvents").len();
    assert!((1..=20).contains(&calls), "{calls} calls");
    // The cursor continues from CloudWatch's token with the same pinned window.
    let first = endless.requests_for("FilterLogEvents")[0].json().clone();
    let again = mcp
        .ok(
            "filter_log_events",
            json!({"log_groups": ["g"], "cursor": r["next_cursor"]}),
        )
        .await;
    assert_eq!(again["start"], r["start"]);
    let later = endless.requests_for("FilterLogEvents");
    let resumed = later[calls].json();
    assert_eq!(resumed["nextToken"], "again");
    assert_eq!(resumed["startTime"], first["startTime"]);
}

/// Answers StartQuery with `q-1` and GetQueryResults with `results` (status `status`).
fn insights(fake: &Fake, status: &'static str, results: Value) {
    fake.on_target(&target("StartQuery"), Reply::json(json!({"queryId": "q-1"})));
    fake.on_target(
        &target("GetQueryResults"),
        Reply::json(json!({"status": status, "results": results,
            "statistics": {"recordsMatched": 1.0, "recordsScanned": 10.0, "bytesScanned": 100.0}})),
    );
    fake.on_target(&target("StopQuery"), Reply::json(json!({"success": true})));
}

#[tokio::test]
async fn a_query_past_its_timeout_is_stopped_and_reported() {
    let fake = Fake::start().await;
    insights(&fake, "Running", json!([]));
    let mcp = crate::against(&fake.url(), &[]).await;
    let started = std::time::Instant::now();
    let e = mcp
        .err(
            "run_insights_query",
            json!({"log_groups": ["g"], "query": "fields @message", "timeout_secs": 1}),
        )
        .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let summary = e["summary"].as_str().unwrap();
    assert!(summary.contains("q-1") && summary.contains("stopped"), "{e}");
    let stops = fake.requests_for("StopQuery");
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].json()["queryId"], "q-1");
    assert!(fake.requests_for("GetQueryResults").len() >= 2, "it polled");

    // Left running on request, then stopped by hand.
    let r = mcp
        .ok(
            "run_insights_query",
            json!({"log_groups": ["g"], "query": "fields @message", "timeout_secs": 1, "keep_running": true}),
        )
        .await;
    assert_eq!(
        (r["query_id"].as_str(), r["status"].as_str()),
        (Some("q-1"), Some("Running")),
        "{r}"
    );
    assert_eq!(fake.requests_for("StopQuery").len(), 1);
    let partial = mcp.ok("get_insights_results", json!({"query_id": "q-1"})).await;
    assert_eq!(partial["status"], "Running");
    assert!(partial["note"].is_string());
    let stopped = mcp.ok("stop_insights_query", json!({"query_id": "q-1"})).await;
    assert_eq!(stopped["stopped"], true);
    assert_eq!(fake.requests_for("StopQuery").len(), 2);
}

#[tokio::test]
async fn a_clipped_message_is_restored_through_get_log_record() {
    let fake = Fake::start().await;
    let full = format!("{} key={SECRET} end-of-message", "m".repeat(3_000));
    let clipped: String = full.chars().take(1_000).collect();
    insights(
        &fake,
        "Complete",
        json!([
            [{"field": "@ptr", "value": "ptr-1"}, {"field": "@message", "value": clipped}],
            [{"field": "@ptr", "value": "ptr-2"}, {"field": "@message", "value": "short"}],
        ]),
    );
    let record = full.clone();
    fake.on_target(&target("GetLogRecord"), move |_: &Request| {
        Reply::json(json!({"logRecord": {"@message": record, "@ptr": "ptr-1"}}))
    });
    let mcp = crate::against(&fake.url(), &[]).await;
    let args = json!({"log_groups": ["g"], "query": "fields @message"});
    let plain = mcp.ok("run_insights_query", args.clone()).await;
    assert_eq!(plain["rows"][0]["@message"].as_str().unwrap().len(), 1_000);
    assert!(fake.requests_for("GetLogRecord").is_empty(), "restoring is asked for");
    let mut asked = args;
    asked["restore_messages"] = json!(true);
    let r = mcp.ok("run_insights_query", asked).await;
    assert_eq!(r["restored_messages"], 1, "{r}");
    let msg = r["rows"][0]["@message"].as_str().unwrap();
    assert!(msg.ends_with("end-of-message") && !msg.contains(SECRET), "{msg}");
    assert_eq!(r["rows"][1], json!({"@message": "short"}));
    let gets = fake.requests_for("GetLogRecord");
    assert_eq!(gets.len(), 1, "only the long message is re-read");
    assert_eq!(gets[0].json()["logRecordPointer"], "ptr-1");
}

#[tokio::test]
async fn top_error_patterns_runs_a_pattern_query() {
    let fake = Fake::start().await;
    insights(
        &fake,
        "Complete",
        json!([[
            {"field": "@pattern", "value": "ERROR <*> timed out after <*> ms"},
            {"field": "@sampleCount", "value": "42"},
            {"field": "@severityLabel", "value": "ERROR"},
            {"field": "@logSamples", "value": "[{\"@message\":\"ERROR db timed out after 300 ms\"}]"},
        ]]),
    );
    let mcp = crate::against(&fake.url(), &[]).await;
    let r = mcp
        .ok("top_error_patterns", json!({"log_groups": ["g"], "start": "2h"}))
        .await;
    assert_eq!(
        r["patterns"][0],
        json!({"pattern": "ERROR <*> timed out after <*> ms", "count": 42, "severity": "ERROR",
               "sample": "ERROR db timed out after 300 ms"})
    );
    let start = fake.requests_for("StartQuery");
    let q = start[0].json()["queryString"].as_str().unwrap();
    assert!(
        q.contains("| pattern @message") && q.contains("filter @message like /"),
        "{q}"
    );
}

#[tokio::test]
async fn aws_errors_are_tool_errors_with_code_message_and_hint() {
    let fake = Fake::start().await;
    fake.on_target(&target("FilterLogEvents"), throttle(usize::MAX, Reply::json(json!({}))));
    fake.on_target(
        &target("StartQuery"),
        Reply::error(
            400,
            "LimitExceededException",
            "Account maximum query concurrency limit of [30] reached.",
        ),
    );
    fake.on_target(
        &target("DescribeLogStreams"),
        Reply::error(
            400,
            "ResourceNotFoundException",
            "The specified log group does not exist.",
        ),
    );
    let mcp = crate::against(&fake.url(), &[]).await;
    let e = mcp.err("filter_log_events", json!({"log_groups": ["g"]})).await;
    assert_eq!(
        (e["code"].as_str(), e["retryable"].as_bool()),
        (Some("ThrottlingException"), Some(true)),
        "{e}"
    );
    assert!(e["hint"].as_str().unwrap().contains("3 times"), "{e}");
    assert!(e["request_id"].is_string(), "{e}");
    let e = mcp
        .err(
            "run_insights_query",
            json!({"log_groups": ["g"], "query": "fields @message"}),
        )
        .await;
    assert_eq!(e["code"], "LimitExceededException", "{e}");
    assert!(e["message"].as_str().unwrap().contains("concurrency"), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("stop_insights_query"), "{e}");
    let e = mcp.err("describe_log_streams", json!({"log_group": "gone"})).await;
    assert!(e["hint"].as_str().unwrap().contains("describe_log_groups"), "{e}");

    let bad = Fake::start().await;
    bad.on_target(
        &target("StartQuery"),
        Reply::error(
            400,
            "MalformedQueryException",
            "unexpected symbol found bogus at line 1 and position 1",
        ),
    );
    bad.on_target(
        &target("FilterLogEvents"),
        Reply::error(400, "InvalidParameterException", "Invalid filter pattern"),
    );
    let mcp = crate::against(&bad.url(), &[]).await;
    let e = mcp
        .err("run_insights_query", json!({"log_groups": ["g"], "query": "bogus"}))
        .await;
    assert_eq!(e["code"], "MalformedQueryException", "{e}");
    assert!(e["message"].as_str().unwrap().contains("position 1"), "{e}");
    let e = mcp
        .err(
            "filter_log_events",
            json!({"log_groups": ["g"], "filter_pattern": "{ $.x = "}),
        )
        .await;
    assert_eq!(e["code"], "InvalidParameterException", "{e}");
    assert!(e["hint"].as_str().unwrap().contains("filter_pattern"), "{e}");
}

#[tokio::test]
async fn rows_cut_by_the_budget_continue_through_get_insights_results() {
    let fake = Fake::start().await;
    let rows: Vec<Value> = (0..30)
        .map(|i| json!([{"field": "@ptr", "value": format!("p{i}")}, {"field": "@message", "value": format!("{i:02} {}", "r".repeat(900))}]))
        .collect();
    insights(&fake, "Complete", Value::Array(rows));
    let mcp = crate::against(&fake.url(), &["--max-output-tokens", "2000"]).await;
    let first = mcp
        .ok(
            "run_insights_query",
            json!({"log_groups": ["g"], "query": "fields @message", "max_rows": 100}),
        )
        .await;
    assert!(first["truncated"].is_object(), "{first}");
    let call = &first["next_call"];
    assert_eq!(call["tool"], "get_insights_results", "{first}");
    let mut got: Vec<String> = first["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["@message"].as_str().unwrap()[..2].to_owned())
        .collect();
    let rest = mcp
        .pages("get_insights_results", call["arguments"].clone(), "rows")
        .await;
    got.extend(rest.iter().map(|r| r["@message"].as_str().unwrap()[..2].to_owned()));
    let want: Vec<String> = (0..30).map(|i| format!("{i:02}")).collect();
    assert_eq!(got, want);
}
