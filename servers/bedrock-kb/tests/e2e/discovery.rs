//! Discovery: the tag filter, the cache and its refresh, data sources, the allowlist by name,
//! resources with a cursor, and completions.

use std::collections::BTreeSet;

use rmcp::model::{ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

use crate::{BIN, args, rig::Rig};

fn ids(v: &Value) -> BTreeSet<String> {
    v["knowledge_bases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tag_filter_selects_bases_and_the_cache_serves_until_refresh() {
    let rig = Rig::start().await;
    let p = crate::rig::prefix("disc");
    let a = rig
        .kb(
            &format!("{p}_a"),
            &[("team", "search"), ("env", "prod")],
            &[("DSA1", "docs"), ("DSA2", "faq")],
        )
        .await;
    let _b = rig.kb(&format!("{p}_b"), &[("team", "billing")], &[]).await;
    let _c = rig.kb(&format!("{p}_c"), &[], &[]).await;
    let pattern = format!("{p}*");
    let mcp = rig
        .server(BIN)
        .args(&["--kb", &pattern, "--kb-tag", "team=search"])
        .start()
        .await;

    let first = mcp.ok("list_knowledge_bases", json!({})).await;
    assert_eq!(ids(&first), BTreeSet::from([a.clone()]), "{first}");
    assert_eq!(first["cached"], false);
    assert_eq!(first["tag_filter"], json!(["team=search"]));
    let base = &first["knowledge_bases"][0];
    assert_eq!(base["name"], format!("{p}_a"));
    assert_eq!(base["description"], format!("{p}_a for tests"));
    assert_eq!(base["tags"]["env"], "prod");
    assert!(base["updated_at"].as_str().unwrap().ends_with('Z'), "{base}");
    let sources: Vec<&str> = base["data_sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["DSA1", "DSA2"]);
    assert_eq!(base["data_sources"][1]["name"], "faq");
    assert_eq!(base["data_sources"][0]["status"], "AVAILABLE");

    // Cached: no further discovery calls, even when a matching base appears meanwhile.
    let listed = rig.fake.requests_for("ListKnowledgeBases").len();
    let d = rig.kb(&format!("{p}_d"), &[("team", "search")], &[]).await;
    let second = mcp.ok("list_knowledge_bases", json!({})).await;
    assert_eq!(second["cached"], true);
    assert_eq!(ids(&second), BTreeSet::from([a.clone()]));
    assert_eq!(rig.fake.requests_for("ListKnowledgeBases").len(), listed);

    let fresh = mcp.ok("list_knowledge_bases", json!({"refresh": true})).await;
    assert_eq!(fresh["cached"], false);
    assert_eq!(ids(&fresh), BTreeSet::from([a, d]));
    assert!(rig.fake.requests_for("ListKnowledgeBases").len() > listed);
    // Tags are read per base only because --kb-tag asks for them.
    assert!(!rig.fake.requests_for("ListTagsForResource").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_tag_filter_no_tags_are_read_and_pages_follow_a_cursor() {
    let rig = Rig::start().await;
    let p = crate::rig::prefix("page");
    let mut made = BTreeSet::new();
    for i in 0..5 {
        made.insert(rig.kb(&format!("{p}_{i}"), &[], &[("DS1", "docs")]).await);
    }
    let pattern = format!("{p}*");
    let mcp = rig.server(BIN).args(&["--kb", &pattern]).start().await;
    let all = mcp
        .pages("list_knowledge_bases", json!({"page_size": 2}), "knowledge_bases")
        .await;
    let got: Vec<String> = all.iter().map(|b| b["id"].as_str().unwrap().to_owned()).collect();
    aws_mcp_tests::assert_each_once(&got, &made);
    assert!(rig.fake.requests_for("ListTagsForResource").is_empty());
    assert!(rig.fake.requests_for("GetKnowledgeBase").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allowlist_matches_names_and_tags_and_names_unknown_bases() {
    let rig = Rig::start().await;
    let p = crate::rig::prefix("names");
    let allowed = rig.kb(&format!("{p}_docs"), &[("team", "search")], &[]).await;
    let other = rig.kb(&format!("{p}_other"), &[("team", "search")], &[]).await;
    let untagged = rig.kb(&format!("{p}_docs2"), &[], &[]).await;
    // Exact names and a tag: the ids (name + suffix) match no pattern, so discovery decides.
    let (docs, docs2) = (format!("{p}_docs"), format!("{p}_docs2"));
    let mcp = rig
        .server(BIN)
        .args(&["--kb", &docs, "--kb", &docs2, "--kb-tag", "team=search"])
        .start()
        .await;
    mcp.ok("retrieve", args(&allowed, json!({}))).await;
    for refused in [&other, &untagged] {
        let e = mcp.err("retrieve", args(refused, json!({}))).await;
        assert_eq!(e["kind"], "not_allowed", "{e}");
        assert_eq!(e["name"], refused.as_str());
    }
    let e = mcp.err("retrieve", args(&format!("{p}NOSUCH"), json!({}))).await;
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_argument"), Some("knowledge_base_id"))
    );
    assert!(e["summary"].as_str().unwrap().contains("list_knowledge_bases"), "{e}");
    // Only the allowed base reached the runtime.
    let sent: Vec<String> = rig
        .fake
        .requests_for("Retrieve")
        .iter()
        .map(|r| r.param("kbId").unwrap().to_owned())
        .collect();
    assert_eq!(sent, [allowed]);
}

fn text_of(r: &rmcp::model::ReadResourceResult) -> Value {
    match &r.contents[0] {
        ResourceContents::TextResourceContents { text, .. } => serde_json::from_str(text).unwrap(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_page_with_a_cursor_and_complete_ids() {
    let rig = Rig::start().await;
    let p = crate::rig::prefix("res");
    let mut made = BTreeSet::new();
    for i in 0..30 {
        made.insert(rig.kb(&format!("{p}_{i:02}"), &[], &[("DS1", "docs")]).await);
    }
    let first = made.iter().next().unwrap().clone();
    let pattern = format!("{p}*");
    let mcp = rig
        .server(BIN)
        .args(&["--kb", &pattern, "--max-output-tokens", "500"])
        .start()
        .await;
    let (mut uris, mut pages, mut cursor) = (Vec::new(), 0, None);
    loop {
        let params = rmcp::model::PaginatedRequestParams::default().with_cursor(cursor.clone());
        let page = mcp.client.list_resources(Some(params)).await.expect("resources/list");
        pages += 1;
        uris.extend(page.resources.iter().map(|r| r.uri.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 50, "resources/list did not end");
    }
    assert!(pages >= 2, "30 bases under a 500-token budget fit one page");
    let mut want: BTreeSet<String> = made.iter().map(|id| format!("bedrock-kb://{id}")).collect();
    want.insert("bedrock-kb://knowledge-bases".into());
    aws_mcp_tests::assert_each_once(&uris, &want);

    let catalog = mcp
        .client
        .read_resource(ReadResourceRequestParams::new("bedrock-kb://knowledge-bases"))
        .await
        .unwrap();
    assert_eq!(text_of(&catalog)["count"], 30);

    let one = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!("bedrock-kb://{first}")))
        .await
        .unwrap();
    let one = text_of(&one);
    assert_eq!(one["id"], first.as_str());
    assert!(
        one["arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!("knowledge-base/{first}"))
    );
    assert_eq!(one["type"], "VECTOR");
    assert_eq!(one["storage_type"], "OPENSEARCH_SERVERLESS");
    assert_eq!(one["data_sources"][0]["id"], "DS1");

    let missing = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!("bedrock-kb://{p}_zz_missing")))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("ResourceNotFoundException"), "{missing}");

    let typed = format!("{p}_0");
    let values = mcp
        .client
        .complete_resource_simple("bedrock-kb://{kb_id}", "kb_id", &typed)
        .await
        .unwrap();
    let want: Vec<String> = made.iter().filter(|id| id.starts_with(&typed)).cloned().collect();
    assert_eq!(values.len(), 10, "{values:?}");
    assert_eq!(values.into_iter().collect::<BTreeSet<_>>(), want.into_iter().collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_whose_data_sources_cannot_be_read_is_listed_and_not_cached() {
    let rig = Rig::start().await;
    let p = crate::rig::prefix("dserr");
    let kb = rig.kb(&format!("{p}_a"), &[], &[("DS1", "docs")]).await;
    rig.fake.on_json(
        "ListDataSources",
        "POST /knowledgebases/{kbId}/datasources/",
        aws_mcp_tests::fake::Reply::access_denied(true, "bedrock:ListDataSources"),
    );
    let pattern = format!("{p}*");
    let mcp = rig.server(BIN).args(&["--kb", &pattern]).start().await;
    for _ in 0..2 {
        let out = mcp.ok("list_knowledge_bases", json!({})).await;
        assert_eq!(ids(&out), BTreeSet::from([kb.clone()]));
        let base = &out["knowledge_bases"][0];
        assert!(base.get("data_sources").is_none(), "{base}");
        let why = base["data_sources_error"].as_str().unwrap();
        assert!(
            why.contains("AccessDeniedException") && why.contains("bedrock:ListDataSources"),
            "{why}"
        );
        assert_eq!(out["cached"], false, "an incomplete catalog is not cached");
    }
}
