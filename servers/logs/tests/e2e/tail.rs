//! `tail_log_stream`: the last events of a stream read backwards to the first, and forwards from a
//! start time to the last, each event once (moto's server, which has GetLogEvents' tokens).

use aws_mcp_tests::Mcp;
use serde_json::{Value, json};

use crate::fixtures::{self, At};

/// Follow `which` cursor from `first` until a page has no events or no such cursor.
async fn follow(mcp: &Mcp, args: &Value, first: Value, which: &str) -> Vec<Vec<String>> {
    let mut pages = vec![first];
    loop {
        let last = pages.last().unwrap();
        let Some(c) = last[which].as_str() else { break };
        if last["events"].as_array().unwrap().is_empty() {
            break;
        }
        let mut a = args.clone();
        a["cursor"] = json!(c);
        pages.push(mcp.ok("tail_log_stream", a).await);
        assert!(pages.len() < 100, "tail did not end");
    }
    pages
        .iter()
        .map(|p| {
            p["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["message"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn tailing_backwards_and_forwards_reads_each_event_once_in_order() {
    let (group, made) = fixtures::group_at(At::Moto, "tail", 1, 230).await;
    let want: Vec<String> = made
        .iter()
        .map(|m| m.message.split(" key=").next().unwrap().to_owned())
        .collect();
    let strip = |pages: Vec<Vec<String>>| -> Vec<Vec<String>> {
        pages
            .into_iter()
            .map(|p| {
                p.into_iter()
                    .map(|m| m.split(" key=").next().unwrap().to_owned())
                    .collect()
            })
            .collect()
    };
    let mcp = crate::server(At::Moto, &[]).await;

    let args = json!({"log_group": group, "log_stream": "stream-0", "page_size": 50});
    let first = mcp.ok("tail_log_stream", args.clone()).await;
    assert_eq!(first["events"].as_array().unwrap().len(), 50);
    assert!(first["newer_cursor"].is_string(), "a tail can be followed: {first}");
    let back = strip(follow(&mcp, &args, first, "older_cursor").await);
    // The first page is the newest events; each older page comes before it.
    assert_eq!(back[0], want[180..]);
    let mut all: Vec<String> = back.into_iter().rev().flatten().collect();
    assert_eq!(all, want);

    let start = shared::time::rfc3339_ms(made[0].ts);
    let args = json!({"log_group": group, "log_stream": "stream-0", "start": start, "page_size": 60});
    let first = mcp.ok("tail_log_stream", args.clone()).await;
    let fwd = strip(follow(&mcp, &args, first, "newer_cursor").await);
    assert_eq!(fwd[0], want[..60]);
    all = fwd.into_iter().flatten().collect();
    assert_eq!(all, want);
}

#[tokio::test]
async fn a_tail_cut_by_the_budget_keeps_the_newest_and_the_older_cursor_returns_the_rest() {
    let logs = fixtures::client_at(At::Moto).await;
    let group = aws_mcp_tests::unique("tail-long");
    fixtures::create_group(&logs, &group).await;
    let base = shared::time::now_ms() - 60_000;
    let made: Vec<fixtures::Made> = (0..12)
        .map(|i| fixtures::Made {
            stream: "s".into(),
            ts: base + i,
            message: format!("{i:03} {}", "y".repeat(3_000)),
        })
        .collect();
    fixtures::put(&logs, &group, "s", &made).await;
    let mcp = crate::server(At::Moto, &["--max-output-tokens", "2000"]).await;
    let args = json!({"log_group": group, "log_stream": "s", "page_size": 12});
    let first = mcp.ok("tail_log_stream", args.clone()).await;
    assert!(first["truncated"].is_object(), "{first}");
    let pages = follow(&mcp, &args, first, "older_cursor").await;
    assert_eq!(pages[0].last().unwrap(), &made[11].message, "the newest event is kept");
    let all: Vec<String> = pages.into_iter().rev().flatten().collect();
    let want: Vec<String> = made.iter().map(|m| m.message.clone()).collect();
    assert_eq!(all, want);
}

#[tokio::test]
async fn a_missing_stream_is_a_clear_error() {
    let (group, _) = fixtures::group_at(At::Moto, "tail-miss", 1, 1).await;
    let mcp = crate::server(At::Moto, &[]).await;
    let e = mcp
        .err("tail_log_stream", json!({"log_group": group, "log_stream": "nope"}))
        .await;
    assert_eq!(e["code"], "ResourceNotFoundException", "{e}");
    assert!(e["hint"].as_str().unwrap().contains("describe_log_streams"), "{e}");
}
