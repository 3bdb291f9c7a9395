//! Query and scan paging: every item exactly once, parallel scans, read caps, budget cuts.

use aws_mcp_tests::{
    Mcp, assert_each_once, dynamodb,
    fixtures::dynamodb::{create_orders, drop_table, order, s, seed, seeded_orders},
    unique,
};
use serde_json::{Value, json};

use crate::{BIN, all_pages, sks};

#[tokio::test]
async fn query_and_scan_page_through_500_items_exactly_once() {
    let db = dynamodb().await;
    let table = seeded_orders(&db, "ddb-pages", 500).await;
    let mcp = Mcp::start(BIN, &[]).await;

    // One partition (100 items) in pages of 7: every sort key once, in order.
    let (items, pages) = all_pages(
        &mcp,
        "query",
        json!({"table": table, "partition_key": "p3", "page_size": 7}),
    )
    .await;
    let got = sks(&json!(items));
    let want: Vec<u64> = (0..500).filter(|i| i % 5 == 3).collect();
    assert_eq!(got, want, "query pages in sort key order");
    assert_eq!(pages.len(), 15, "100 items in pages of 7");
    for p in &pages {
        assert!(p["count"].as_u64().unwrap() <= 7);
        assert_eq!(p["count"], json!(p["items"].as_array().unwrap().len()));
        assert_eq!(p["scanned_count"], p["count"], "no filter: everything read is returned");
        assert!(p["consumed_capacity"].as_f64().unwrap() > 0.0, "{p}");
        assert!(p.get("truncated").is_none());
    }

    // Descending, with page size changed between pages (allowed: only the cursor carries state).
    let first = mcp
        .ok(
            "query",
            json!({"table": table, "partition_key": "p3", "page_size": 3, "descending": true}),
        )
        .await;
    assert_eq!(sks(&first["items"]), [498, 493, 488]);
    let second = mcp
        .ok(
            "query",
            json!({"table": table, "partition_key": "p3", "page_size": 2, "descending": true,
                   "cursor": first["next_cursor"]}),
        )
        .await;
    assert_eq!(sks(&second["items"]), [483, 478]);
    // The cursor belongs to these arguments: another partition is refused.
    let e = mcp
        .err(
            "query",
            json!({"table": table, "partition_key": "p4", "cursor": first["next_cursor"]}),
        )
        .await;
    assert_eq!(e["kind"], "invalid_cursor", "{e}");

    // The whole table in pages of 64: every (pk, sk) once.
    let (items, pages) = all_pages(&mcp, "scan", json!({"table": table, "page_size": 64})).await;
    let got: Vec<u64> = sks(&json!(items));
    assert_each_once(&got, &(0..500).collect());
    assert!(pages.len() >= 8, "{} pages", pages.len());
    for i in &items {
        let sk = i["sk"].as_u64().unwrap();
        assert_eq!(i["pk"], format!("p{}", sk % 5));
        assert_eq!(i["amount"], sk * 10, "numbers come back as JSON numbers");
    }

    // A parallel scan: two segments together hold every item once.
    let mut both = Vec::new();
    for segment in 0..2 {
        let (items, _) = all_pages(
            &mcp,
            "scan",
            json!({"table": table, "segment": segment, "total_segments": 2, "page_size": 100}),
        )
        .await;
        both.extend(sks(&json!(items)));
    }
    assert_each_once(&both, &(0..500).collect());

    // A filter with a cap on items read: few matches per call, every match once in the end.
    let (items, pages) = all_pages(
        &mcp,
        "scan",
        json!({"table": table, "filter_expression": "amount < :max", "expression_attribute_values": {":max": 200},
               "max_items_read": 100, "page_size": 50}),
    )
    .await;
    assert_each_once(&sks(&json!(items)), &(0..20).collect());
    for p in &pages {
        assert!(
            p["scanned_count"].as_u64().unwrap() <= 100,
            "max_items_read caps reads: {p}"
        );
    }
    assert!(
        pages
            .iter()
            .any(|p| p["note"].as_str().is_some_and(|n| n.contains("max_items_read"))),
        "a page stopped by the cap says so"
    );
    drop_table(&db, &table).await;
}

#[tokio::test]
async fn budget_clips_a_page_of_large_items_and_the_cursor_continues() {
    let db = dynamodb().await;
    let table = unique("ddb-budget");
    create_orders(&db, &table).await;
    let big = |i: u32| {
        let mut item = order(i * 5); // all in partition p0
        item.insert("body".into(), s(&format!("{i:04}{}", "x".repeat(20_000))));
        item
    };
    seed(&db, &table, (0..24).map(big).collect()).await;
    // About 100 KB of output: four or five 20 KB items per result.
    let mcp = Mcp::start(BIN, &["--max-output-tokens", "25000"]).await;

    let first = mcp
        .ok("query", json!({"table": table, "partition_key": "p0", "page_size": 10}))
        .await;
    let n = first["items"].as_array().unwrap().len();
    assert!((1..10).contains(&n), "the budget cut the page of 10 to {n}");
    assert_eq!(first["count"], n);
    let t = &first["truncated"];
    assert_eq!(t["dropped_items"][0]["path"], "/items");
    assert_eq!(t["dropped_items"][0]["kept"], n);
    assert!(
        t["how_to_get_the_rest"].as_str().unwrap().contains("next_cursor"),
        "{t}"
    );
    assert!(first["next_cursor"].is_string());

    for (tool, args) in [
        ("query", json!({"table": table, "partition_key": "p0", "page_size": 10})),
        ("scan", json!({"table": table, "page_size": 7})),
    ] {
        let (items, pages) = all_pages(&mcp, tool, args).await;
        assert_each_once(&sks(&json!(items)), &(0..24).map(|i| i * 5).collect());
        for item in &items {
            let body = item["body"].as_str().unwrap();
            assert_eq!(body.len(), 20_004, "items are whole, never clipped");
            assert_eq!(body[..4].parse::<u64>().unwrap() * 5, item["sk"].as_u64().unwrap());
        }
        assert!(pages.len() >= 5, "{tool}: {} pages", pages.len());
        assert!(pages.iter().filter(|p| p.get("truncated").is_some()).count() >= 3);
    }

    // PartiQL pages are cut the same way and resume from the same statement page.
    let (items, _) = all_pages(
        &mcp,
        "execute_partiql",
        json!({"statement": format!("SELECT * FROM \"{table}\" WHERE \"pk\" = ?"), "parameters": ["p0"]}),
    )
    .await;
    assert_each_once(&sks(&json!(items)), &(0..24).map(|i| i * 5).collect());

    // batch_get_items lists the keys of the items it had to leave out.
    let keys: Vec<Value> = (0..8).map(|i| json!({"pk": "p0", "sk": i * 5})).collect();
    let r = mcp
        .ok("batch_get_items", json!({"requests": {table.clone(): {"keys": keys}}}))
        .await;
    let returned = r["items"][&table].as_array().unwrap().len();
    let withheld = r["withheld"][&table].as_array().unwrap().len();
    assert_eq!(returned + withheld, 8, "{r}");
    assert!(withheld > 0 && r["truncated"].is_object());

    // An item bigger than the whole budget is clipped, and the clip is reported.
    let small = Mcp::start(BIN, &["--max-output-tokens", "2000"]).await;
    let r = small
        .ok("get_item", json!({"table": table, "key": {"pk": "p0", "sk": 0}}))
        .await;
    assert!(r["item"]["body"].as_str().unwrap().len() < 20_000);
    assert_eq!(
        r["truncated"]["clipped_strings"][0]["path"], "/item/body",
        "{}",
        r["truncated"]
    );
    drop_table(&db, &table).await;
}
