//! Listing and searching: every key exactly once across pages, budget cuts, folders, cursors.

use std::collections::BTreeSet;

use aws_mcp_tests::{
    Mcp,
    fixtures::s3::{bucket_with, fill},
};
use serde_json::{Value, json};

use crate::{BIN, list_keys};

#[tokio::test]
async fn paging_through_more_than_1000_objects_returns_every_key_exactly_once() {
    let bucket = bucket_with(&[]).await;
    let expected = fill(&bucket, "k/", 1_050).await;

    // A budget large enough for a full page of 1,000 (the default ~20k tokens holds about 800).
    let mcp = Mcp::start(BIN, &["--max-output-tokens", "40000"]).await;
    let (keys, calls) = list_keys(&mcp, json!({"bucket": bucket, "page_size": 1000})).await;
    assert_eq!(calls, 2, "1,050 keys at 1,000 a page");
    assert_eq!(keys.len(), 1_050, "no key twice");
    assert_eq!(keys.iter().cloned().collect::<BTreeSet<_>>(), expected);

    // A tight output budget cuts AWS pages into several calls; still every key exactly once.
    let tight = Mcp::start(BIN, &["--max-output-tokens", "2000"]).await;
    let (keys, calls) = list_keys(&tight, json!({"bucket": bucket, "page_size": 1000})).await;
    assert!(calls > 2, "the budget should have forced more calls, got {calls}");
    assert_eq!(keys.len(), 1_050);
    assert_eq!(keys.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn a_budget_cut_page_says_so_and_how_to_continue() {
    let bucket = bucket_with(&[]).await;
    fill(&bucket, "deep/path/to/a/longish/key/name/", 300).await;
    let mcp = Mcp::start(BIN, &["--max-output-tokens", "2000"]).await;
    let page = mcp
        .ok("list_objects", json!({"bucket": bucket, "page_size": 300}))
        .await;
    let n = page["objects"].as_array().unwrap().len();
    assert!(n > 0 && n < 300);
    let note = &page["truncated"];
    assert_eq!(note["dropped_items"][0]["kept"], n);
    assert_eq!(note["dropped_items"][0]["dropped"], 300 - n);
    assert!(note["how_to_get_the_rest"].as_str().unwrap().contains("cursor"));
    assert!(page["next_cursor"].is_string());
}

#[tokio::test]
async fn a_delimiter_groups_keys_into_folders() {
    let bucket = bucket_with(&[
        ("a/1.txt", b"1", "text/plain"),
        ("a/2.txt", b"2", "text/plain"),
        ("b/c/3.txt", b"3", "text/plain"),
        ("top.txt", b"t", "text/plain"),
    ])
    .await;
    let mcp = Mcp::start(BIN, &[]).await;
    let page = mcp
        .ok("list_objects", json!({"bucket": bucket, "delimiter": "/"}))
        .await;
    assert_eq!(page["folders"], json!(["a/", "b/"]));
    let objects = page["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["key"], "top.txt");
    assert_eq!(objects[0]["size"], 5 - 4);
    assert_eq!(objects[0]["storage_class"], "STANDARD");
    assert!(objects[0]["last_modified"].as_str().unwrap().ends_with('Z'));

    let inner = mcp
        .ok(
            "list_objects",
            json!({"bucket": bucket, "delimiter": "/", "prefix": "b/"}),
        )
        .await;
    assert_eq!(inner["folders"], json!(["b/c/"]));
    assert_eq!(inner["objects"], json!([]));
}

#[tokio::test]
async fn a_forged_or_replayed_cursor_is_refused() {
    let bucket = bucket_with(&[]).await;
    fill(&bucket, "p/", 30).await;
    let mcp = Mcp::start(BIN, &[]).await;
    let page = mcp.ok("list_objects", json!({"bucket": bucket, "page_size": 10})).await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();

    // Edited: flip a character of the payload.
    let mut forged = cursor.clone().into_bytes();
    forged[2] = if forged[2] == b'A' { b'B' } else { b'A' };
    let e = mcp
        .err(
            "list_objects",
            json!({"bucket": bucket, "page_size": 10, "cursor": String::from_utf8(forged).unwrap()}),
        )
        .await;
    assert_eq!(e["kind"], "invalid_cursor");
    assert!(e["summary"].as_str().unwrap().contains("modified"));
    // Replayed with different arguments.
    let e = mcp
        .err(
            "list_objects",
            json!({"bucket": bucket, "prefix": "q/", "cursor": cursor}),
        )
        .await;
    assert_eq!(e["kind"], "invalid_cursor");
    assert!(e["summary"].as_str().unwrap().contains("different arguments"));
    // Given to another tool.
    let e = mcp
        .err(
            "find_objects",
            json!({"bucket": bucket, "pattern": "*", "cursor": cursor}),
        )
        .await;
    assert_eq!(e["kind"], "invalid_cursor");
    // The genuine cursor still works, and page size may change.
    let next = mcp
        .ok(
            "list_objects",
            json!({"bucket": bucket, "page_size": 20, "cursor": cursor}),
        )
        .await;
    assert_eq!(next["objects"].as_array().unwrap().len(), 20);
    assert_eq!(next["objects"][0]["key"], "p/00010");
}

#[tokio::test]
async fn find_objects_globs_caps_the_scan_and_resumes() {
    let bucket = bucket_with(&[
        ("data/2024/a.csv", b"1", "text/csv"),
        ("data/2024/b.json", b"1", "application/json"),
        ("data/2025/c.csv", b"1", "text/csv"),
        ("other/d.csv", b"1", "text/csv"),
    ])
    .await;
    fill(&bucket, "data/2024/z-", 50).await;
    let mcp = Mcp::start(BIN, &[]).await;
    let keys = |v: &Value| {
        v["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["key"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    let all = mcp
        .ok("find_objects", json!({"bucket": bucket, "pattern": "*.csv"}))
        .await;
    assert_eq!(keys(&all), ["data/2024/a.csv", "data/2025/c.csv", "other/d.csv"]);
    assert_eq!(all["scan_complete"], true);
    assert!(all["next_cursor"].is_null());

    let scoped = mcp
        .ok("find_objects", json!({"bucket": bucket, "pattern": "data/*/*.csv"}))
        .await;
    assert_eq!(keys(&scoped), ["data/2024/a.csv", "data/2025/c.csv"]);
    assert!(scoped["keys_scanned"].as_u64().unwrap() < 56, "narrowed to data/");

    // A small scan cap: several calls, the scan resumes where it stopped, nothing repeated.
    let (found, pages) = mcp
        .all_pages(
            "find_objects",
            json!({"bucket": bucket, "pattern": "*.csv", "max_keys_scanned": 10}),
            "matches",
        )
        .await;
    let calls = pages.len();
    for (i, r) in pages.iter().enumerate() {
        assert!(r["keys_scanned"].as_u64().unwrap() <= 10);
        let last = i + 1 == calls;
        assert_eq!(r["scan_complete"], last, "only the last call completes the scan: {r}");
        assert_eq!(
            r["next_cursor"].is_string(),
            !last,
            "unfinished scans give a cursor: {r}"
        );
    }
    let found: Vec<String> = found.iter().map(|m| m["key"].as_str().unwrap().to_owned()).collect();
    assert!(calls >= 6, "54 keys at 10 per call, got {calls}");
    assert_eq!(found, ["data/2024/a.csv", "data/2025/c.csv", "other/d.csv"]);
}
