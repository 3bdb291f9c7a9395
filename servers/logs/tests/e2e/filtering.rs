//! `filter_log_events` against moto's server, which applies simple filter patterns (LocalStack's
//! community build returns every event whatever the pattern).

use std::collections::BTreeSet;

use aws_mcp_tests::assert_each_once;
use serde_json::{Value, json};

use crate::fixtures::{self, At, Made, PASSWORD, SECRET};

fn messages(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["message"].as_str().expect("message").to_owned())
        .collect()
}

/// The message as the server must return it with redaction on: the fake secrets masked.
fn masked(m: &str) -> bool {
    !m.contains(SECRET) && !m.contains(PASSWORD)
}

#[tokio::test]
async fn paging_returns_every_event_exactly_once_with_secrets_masked() {
    let (group, made) = fixtures::group_at(At::Moto, "flt-all", 3, 700).await;
    let mcp = crate::server(At::Moto, &[]).await;
    let (events, pages) = mcp
        .all_pages(
            "filter_log_events",
            json!({"log_groups": [group], "start": "2h", "page_size": 250}),
            "events",
        )
        .await;
    assert!(pages.len() >= 9, "{} pages for 2100 events at 250 a page", pages.len());
    let got = messages(&events);
    assert!(got.iter().all(|m| masked(m)), "a secret came through");
    let redacted: u64 = pages.iter().map(|p| p["redacted"].as_u64().unwrap()).sum();
    let with_secrets = made.iter().filter(|m| m.message.contains(SECRET)).count() as u64;
    assert!(
        redacted >= with_secrets,
        "{redacted} masked for {with_secrets} secret-bearing events"
    );
    // Every event once: compare with the secrets masked out of both sides.
    let want: BTreeSet<String> = made.iter().map(|m| prefix(&m.message)).collect();
    let got: Vec<String> = got.iter().map(|m| prefix(m)).collect();
    assert_each_once(&got, &want);
    assert!(pages.iter().all(|p| p["scan_complete"].is_boolean()));
    assert_eq!(pages.last().unwrap()["scan_complete"], true);
    let first = &events[0];
    assert!(first["time"].as_str().unwrap().ends_with('Z'), "{first}");
    assert!(first["stream"].as_str().unwrap().starts_with("stream-"));
    assert!(first.get("group").is_none(), "one group: events do not repeat its name");
}

/// `INFO event 00042 of stream 0` without whatever follows (the secrets).
fn prefix(m: &str) -> String {
    m.split(" key=").next().unwrap_or(m).to_owned()
}

#[tokio::test]
async fn a_filter_pattern_selects_events_and_no_redact_shows_secrets() {
    let (group, made) = fixtures::group_at(At::Moto, "flt-err", 2, 100).await;
    let errors: BTreeSet<String> = made
        .iter()
        .filter(|m| m.message.starts_with("ERROR"))
        .map(|m| prefix(&m.message))
        .collect();
    let args = json!({"log_groups": [group], "filter_pattern": "ERROR", "start": "2h", "page_size": 7});
    let mcp = crate::server(At::Moto, &[]).await;
    let events = mcp.pages("filter_log_events", args.clone(), "events").await;
    assert_each_once(
        &messages(&events).iter().map(|m| prefix(m)).collect::<Vec<_>>(),
        &errors,
    );
    assert!(messages(&events).iter().all(|m| masked(m)));
    assert!(messages(&events).iter().any(|m| m.contains("[REDACTED")));

    let open = crate::server(At::Moto, &["--no-redact"]).await;
    let first = open.ok("filter_log_events", args).await;
    assert_eq!(first["redacted"], 0);
    assert!(
        messages(first["events"].as_array().unwrap())
            .iter()
            .any(|m| m.contains(PASSWORD))
    );
}

#[tokio::test]
async fn several_groups_are_read_in_turn_and_each_event_names_its_group() {
    let (g1, m1) = fixtures::group_at(At::Moto, "flt-g1", 1, 30).await;
    let (g2, m2) = fixtures::group_at(At::Moto, "flt-g2", 2, 20).await;
    let mcp = crate::server(At::Moto, &[]).await;
    let events = mcp
        .pages(
            "filter_log_events",
            json!({"log_groups": [g1, g2], "start": "2h", "page_size": 25}),
            "events",
        )
        .await;
    let got: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["group"].as_str().unwrap().to_owned(),
                prefix(e["message"].as_str().unwrap()),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = m1
        .iter()
        .map(|m| (g1.clone(), prefix(&m.message)))
        .chain(m2.iter().map(|m| (g2.clone(), prefix(&m.message))))
        .collect();
    assert_each_once(&got, &want);
}

#[tokio::test]
async fn the_budget_clips_a_page_of_long_messages_and_the_cursor_resumes() {
    let logs = fixtures::client_at(At::Moto).await;
    let group = aws_mcp_tests::unique("flt-long");
    fixtures::create_group(&logs, &group).await;
    let base = shared::time::now_ms() - 60_000;
    let made: Vec<Made> = (0..40)
        .map(|i| Made {
            stream: "s".into(),
            ts: base + i,
            message: format!("{i:03} {}", "x".repeat(3_000)),
        })
        .collect();
    fixtures::put(&logs, &group, "s", &made).await;
    // 2,000 tokens is about 8 KB: two of these messages a page.
    let mcp = crate::server(At::Moto, &["--max-output-tokens", "2000"]).await;
    let (events, pages) = mcp
        .all_pages(
            "filter_log_events",
            json!({"log_groups": [group], "start": "1h", "page_size": 40}),
            "events",
        )
        .await;
    assert!(pages.len() >= 10, "{} pages", pages.len());
    assert!(pages[0]["truncated"]["dropped_items"].is_array(), "{}", pages[0]);
    for p in &pages {
        assert!(p.to_string().len() <= 8_000, "a page of {} bytes", p.to_string().len());
    }
    let want: BTreeSet<String> = made.iter().map(|m| m.message.clone()).collect();
    assert_each_once(&messages(&events), &want);
}

#[tokio::test]
async fn bad_times_and_missing_groups_are_clear_errors() {
    let (group, _) = fixtures::group_at(At::Moto, "flt-errs", 1, 3).await;
    let mcp = crate::server(At::Moto, &[]).await;
    let e = mcp
        .err(
            "filter_log_events",
            json!({"log_groups": [group], "start": "yesterday"}),
        )
        .await;
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_argument"), Some("start")),
        "{e}"
    );
    assert!(e["summary"].as_str().unwrap().contains("ISO 8601"), "{e}");
    let e = mcp
        .err(
            "filter_log_events",
            json!({"log_groups": [group], "start": "1h", "end": "2h"}),
        )
        .await;
    assert_eq!(e["field"], "end", "{e}");
    let e = mcp
        .err("filter_log_events", json!({"log_groups": ["no-such-group-anywhere"]}))
        .await;
    assert_eq!(e["code"], "ResourceNotFoundException", "{e}");
    assert!(e["hint"].as_str().unwrap().contains("describe_log_groups"), "{e}");
    let e = mcp.err("filter_log_events", json!({"log_groups": ["bad name!"]})).await;
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_argument"), Some("log_groups"))
    );
    // Absolute times, ISO and epoch milliseconds, select the same events.
    let now = shared::time::now_ms();
    let iso = mcp
        .ok(
            "filter_log_events",
            json!({"log_groups": [group], "start": shared::time::rfc3339_ms(now - 3_600_000), "end": shared::time::rfc3339_ms(now)}),
        )
        .await;
    let ms = mcp
        .ok(
            "filter_log_events",
            json!({"log_groups": [group], "start": (now - 3_600_000).to_string(), "end": now.to_string()}),
        )
        .await;
    assert_eq!(iso["events"].as_array().unwrap().len(), 3);
    assert_eq!(iso["events"], ms["events"]);
    assert_eq!(iso["start"], shared::time::rfc3339_ms(now - 3_600_000));
}
