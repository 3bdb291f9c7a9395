//! Retrieval: ranking, metadata and locations of every source type, non-text results, every filter
//! operator (applied by the fake, so a wrong translation fails), data-source restriction, paging
//! through nextToken, clipping under the budget, and reranking.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::{
    args,
    rig::{self, RERANK_MODEL},
    setup,
};

/// Everything except the long archive chunk.
fn not_archive() -> Value {
    json!({"notEquals": {"key": "team", "value": "archive"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_ranked_with_scores_metadata_and_every_location_type() {
    let s = setup(&[]).await;
    let out = s
        .mcp
        .ok(
            "retrieve",
            args(&s.kb, json!({"number_of_results": 20, "filter": not_archive()})),
        )
        .await;
    let results = out["results"].as_array().unwrap();
    assert_eq!(
        rig::ids(results),
        rig::expected(&not_archive()),
        "ranked as the fixture scores them"
    );
    assert!(out.get("next_cursor").is_none());
    let scores: Vec<f64> = results.iter().map(|r| r["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    let first = &results[0];
    assert_eq!(first["type"], "TEXT");
    assert_eq!(first["text"], "Search ranking uses BM25 plus vectors.");
    assert_eq!(first["text_length"], 38);
    assert_eq!(first["document_id"], "doc-c01");
    assert_eq!(
        first["location"],
        json!({"type": "S3", "uri": "s3://kb-docs/search/ranking.md"})
    );
    // All metadata, with its JSON types.
    let m = &first["metadata"];
    assert_eq!(m["team"], "search");
    assert_eq!(m["year"], 2024);
    assert_eq!(m["tags"], json!(["howto", "api"]));
    assert_eq!(m["public"], true);
    assert_eq!(m["x-amz-bedrock-kb-data-source-id"], "DS1");
    assert_eq!(m["x-amz-bedrock-kb-source-uri"], "s3://kb-docs/search-ranking.md");

    let by_id = |id: &str| {
        results
            .iter()
            .find(|r| r["metadata"]["x-amz-bedrock-kb-chunk-id"] == id)
            .unwrap()
    };
    assert_eq!(
        by_id("c02")["location"],
        json!({"type": "WEB", "url": "https://docs.example.com/billing/invoices"})
    );
    assert_eq!(by_id("c03")["location"]["type"], "CONFLUENCE");
    assert_eq!(by_id("c04")["location"]["type"], "SALESFORCE");
    assert_eq!(by_id("c05")["location"]["type"], "SHAREPOINT");
    assert_eq!(
        by_id("c06")["location"],
        json!({"type": "CUSTOM", "id": "custom-doc-6"})
    );

    // Non-text results are kept and described.
    let image = by_id("img1");
    assert_eq!(image["type"], "IMAGE");
    assert_eq!(image["bytes"]["mime_type"], "image/png");
    assert!(image["bytes"]["size_bytes"].as_u64().unwrap() > 50);
    assert_eq!(image["location"]["uri"], "s3://kb-docs/infra/diagram.png");
    assert!(image.get("text").is_none());
    let row = by_id("row1");
    assert_eq!(row["type"], "ROW");
    assert_eq!(
        row["row"][0],
        json!({"column": "region", "value": "eu-west-1", "type": "STRING"})
    );
    assert_eq!(
        row["location"],
        json!({"type": "SQL", "query": "SELECT region, nodes FROM clusters"})
    );

    // The default is five results, with a cursor for more.
    let five = s.mcp.ok("retrieve", args(&s.kb, json!({}))).await;
    assert_eq!(five["results"].as_array().unwrap().len(), 5);
    assert!(five["next_cursor"].is_string());
    let sent = s.rig.bodies("Retrieve");
    let last = &sent[sent.len() - 1];
    assert_eq!(last["retrievalQuery"]["text"], "how does it work");
    assert_eq!(
        last["retrievalConfiguration"]["vectorSearchConfiguration"]["numberOfResults"],
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_filter_operator_selects_what_the_service_would() {
    let s = setup(&[]).await;
    let filters = [
        json!({"equals": {"key": "team", "value": "search"}}),
        json!({"equals": {"key": "public", "value": true}}),
        json!({"notEquals": {"key": "team", "value": "search"}}),
        json!({"greaterThan": {"key": "year", "value": 2022}}),
        json!({"greaterThanOrEquals": {"key": "year", "value": 2022}}),
        json!({"lessThan": {"key": "year", "value": 2021}}),
        json!({"lessThanOrEquals": {"key": "year", "value": 2021.5}}),
        json!({"in": {"key": "team", "value": ["billing", "infra"]}}),
        json!({"notIn": {"key": "team", "value": ["billing", "infra"]}}),
        json!({"in": {"key": "year", "value": [2019, 2020]}}),
        json!({"startsWith": {"key": "title", "value": "Search"}}),
        json!({"listContains": {"key": "tags", "value": "faq"}}),
        json!({"stringContains": {"key": "title", "value": "rules"}}),
        json!({"stringContains": {"key": "tags", "value": "back"}}),
        json!({"andAll": [
            {"equals": {"key": "team", "value": "search"}},
            {"orAll": [
                {"greaterThan": {"key": "year", "value": 2022}},
                {"listContains": {"key": "tags", "value": "api"}}
            ]}
        ]}),
        json!({"orAll": [
            {"andAll": [
                {"equals": {"key": "team", "value": "billing"}},
                {"lessThan": {"key": "year", "value": 2022}}
            ]},
            {"equals": {"key": "title", "value": "Backup schedule"}},
            {"notIn": {"key": "x-amz-bedrock-kb-data-source-id", "value": ["DS1", "DS2", "DS3"]}}
        ]}),
    ];
    let all = rig::corpus().len();
    for f in &filters {
        let want = rig::expected(f);
        assert!(
            !want.is_empty() && want.len() < all,
            "the filter {f} must select some chunks, not all"
        );
        let out = s
            .mcp
            .ok("retrieve", args(&s.kb, json!({"number_of_results": 100, "filter": f})))
            .await;
        assert_eq!(rig::ids(out["results"].as_array().unwrap()), want, "filter {f}");
        // The filter reached the service exactly as written.
        let sent = s.rig.bodies("Retrieve");
        assert_eq!(
            &sent[sent.len() - 1]["retrievalConfiguration"]["vectorSearchConfiguration"]["filter"],
            f
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_sources_and_search_type_narrow_the_request() {
    let s = setup(&[]).await;
    let out = s
        .mcp
        .ok(
            "retrieve",
            args(&s.kb, json!({"number_of_results": 100, "data_source_ids": ["DS2"]})),
        )
        .await;
    let got = rig::ids(out["results"].as_array().unwrap());
    assert_eq!(
        got,
        rig::expected(&json!({"equals": {"key": "x-amz-bedrock-kb-data-source-id", "value": "DS2"}}))
    );
    assert!(
        out["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["metadata"]["team"] == "billing")
    );

    let f = json!({"equals": {"key": "public", "value": true}});
    let out = s
        .mcp
        .ok(
            "retrieve",
            args(
                &s.kb,
                json!({"number_of_results": 100, "filter": f, "data_source_ids": ["DS1", "DS3"], "search_type": "HYBRID"}),
            ),
        )
        .await;
    let want = rig::expected(
        &json!({"andAll": [f, {"in": {"key": "x-amz-bedrock-kb-data-source-id", "value": ["DS1", "DS3"]}}]}),
    );
    assert_eq!(rig::ids(out["results"].as_array().unwrap()), want);
    let sent = s.rig.bodies("Retrieve");
    let vector = &sent[sent.len() - 1]["retrievalConfiguration"]["vectorSearchConfiguration"];
    assert_eq!(vector["overrideSearchType"], "HYBRID");
    assert_eq!(vector["filter"]["andAll"][0], f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_returns_each_chunk_once_through_next_token() {
    let s = setup(&[]).await;
    let (results, pages) = s
        .mcp
        .all_pages(
            "retrieve",
            args(&s.kb, json!({"number_of_results": 3, "filter": not_archive()})),
            "results",
        )
        .await;
    let got = rig::ids(&results);
    let want = rig::expected(&not_archive());
    assert_eq!(got, want, "every chunk once, in rank order");
    assert_eq!(pages.len(), want.len().div_ceil(3));
    let tokens: Vec<Value> = s
        .rig
        .bodies("Retrieve")
        .iter()
        .map(|b| b.get("nextToken").cloned().unwrap_or(Value::Null))
        .collect();
    assert_eq!(tokens, [json!(null), json!("tok-3"), json!("tok-6"), json!("tok-9")]);
    // A cursor is bound to its arguments.
    let cursor = pages[0]["next_cursor"].as_str().unwrap();
    let e = s
        .mcp
        .err(
            "retrieve",
            args(
                &s.kb,
                json!({"number_of_results": 3, "cursor": cursor, "query": "other"}),
            ),
        )
        .await;
    assert_eq!(e["kind"], "invalid_cursor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_chunks_are_clipped_to_share_the_budget() {
    let s = setup(&["--max-output-tokens", "2000"]).await;
    let f = json!({"in": {"key": "team", "value": ["archive", "search"]}});
    let r = s
        .mcp
        .call("retrieve", args(&s.kb, json!({"number_of_results": 10, "filter": f})))
        .await;
    let text: String = aws_mcp_tests::text(&r);
    assert!(text.len() <= 8_000, "{} bytes over a 2000-token budget", text.len());
    let out = r.structured_content.unwrap();
    let results = out["results"].as_array().unwrap();
    assert_eq!(rig::ids(results), rig::expected(&f), "no result dropped");
    let archive = results.iter().find(|r| r["metadata"]["team"] == "archive").unwrap();
    let full = "Archived design notes. ".repeat(3_000);
    assert_eq!(archive["text_clipped"], true);
    assert_eq!(archive["text_length"], full.chars().count());
    let kept = archive["text"].as_str().unwrap();
    assert!(full.starts_with(kept) && kept.len() > 500, "{} bytes kept", kept.len());
    for r in results.iter().filter(|r| r["metadata"]["team"] == "search") {
        assert!(r.get("text_clipped").is_none(), "short chunks stay whole: {r}");
    }
    let clipped = &out["truncated"]["clipped_strings"];
    assert_eq!(clipped[0]["original_bytes"], full.len());
    assert!(
        out["truncated"]["how_to_get_the_rest"]
            .as_str()
            .unwrap()
            .contains("number_of_results")
    );

    // Alone, the chunk gets all the room.
    let alone = s
        .mcp
        .ok(
            "retrieve",
            args(
                &s.kb,
                json!({"number_of_results": 1, "filter": {"equals": {"key": "team", "value": "archive"}}}),
            ),
        )
        .await;
    assert!(alone["results"][0]["text"].as_str().unwrap().len() > kept.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reranking_sends_the_model_for_the_call_region_and_keeps_its_count() {
    let s = setup(&[]).await;
    let out = s
        .mcp
        .ok(
            "retrieve",
            args(
                &s.kb,
                json!({"number_of_results": 20, "filter": not_archive(), "rerank_model": RERANK_MODEL,
                       "rerank_count": 2, "region": "eu-central-1"}),
            ),
        )
        .await;
    let mut want = rig::expected(&not_archive());
    want.reverse();
    want.truncate(2);
    assert_eq!(
        rig::ids(out["results"].as_array().unwrap()),
        want,
        "the fake's reranker order"
    );
    let sent = s.rig.bodies("Retrieve");
    let rr = &sent[sent.len() - 1]["retrievalConfiguration"]["vectorSearchConfiguration"]["rerankingConfiguration"];
    assert_eq!(rr["type"], "BEDROCK_RERANKING_MODEL");
    assert_eq!(
        rr["bedrockRerankingConfiguration"]["modelConfiguration"]["modelArn"],
        format!("arn:aws:bedrock:eu-central-1::foundation-model/{RERANK_MODEL}")
    );
    assert_eq!(rr["bedrockRerankingConfiguration"]["numberOfRerankedResults"], 2);
    let distinct: BTreeSet<String> = rig::ids(out["results"].as_array().unwrap()).into_iter().collect();
    assert_eq!(distinct.len(), 2);
}
