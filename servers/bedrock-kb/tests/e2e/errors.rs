//! Errors, each a tool error with its code, message, request id and a hint: a malformed filter
//! (before any AWS call), an unknown knowledge base, access denied naming the action, throttling
//! after retries, and a model that is not enabled (reranking and generation).

use aws_mcp_tests::fake::Reply;
use serde_json::json;

use crate::{BIN, args, rig::Rig, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_filter_is_named_before_any_call() {
    let s = setup(&[]).await;
    let cases = [
        (
            json!({"andAll": [{"equals": {"key": "team", "value": "search"}}, {"equals": {"key": "year", "value": null}}]}),
            "filter.andAll[1].equals.value",
            "null",
        ),
        (
            json!({"equal": {"key": "team", "value": "x"}}),
            "filter",
            "did you mean `equals`",
        ),
        (
            json!({"greaterThan": {"key": "year", "value": "2020"}}),
            "filter.greaterThan.value",
            "a number",
        ),
        (
            json!({"orAll": [{"in": {"key": "team", "value": []}}, {"equals": {"key": "a", "value": 1}}]}),
            "filter.orAll[0].in.value",
            "at least one",
        ),
        (
            json!({"andAll": [{"equals": {"key": "team", "value": "x"}}]}),
            "filter.andAll",
            "at least 2",
        ),
        (
            json!({"equals": {"key": "team", "value": "x"}, "notEquals": {"key": "t", "value": "y"}}),
            "filter",
            "2 operators",
        ),
    ];
    for (filter, field, says) in cases {
        let e = s.mcp.err("retrieve", args(&s.kb, json!({"filter": filter}))).await;
        assert_eq!(e["kind"], "invalid_argument", "{e}");
        assert_eq!(e["field"], field, "{e}");
        assert!(e["summary"].as_str().unwrap().contains(says), "{e}");
    }
    let e = s
        .mcp
        .err("retrieve", args(&s.kb, json!({"data_source_ids": ["../etc"]})))
        .await;
    assert_eq!(e["field"], "data_source_ids[0]");
    let e = s
        .mcp
        .err("retrieve", args(&s.kb, json!({"data_source_ids": ["DS1", "DS9"]})))
        .await;
    assert_eq!(e["field"], "data_source_ids[1]");
    assert!(e["summary"].as_str().unwrap().contains("DS4 (archive)"), "{e}");
    let e = s.mcp.err("retrieve", args(&s.kb, json!({"rerank_count": 3}))).await;
    assert_eq!(e["field"], "rerank_count");
    let e = s.mcp.err("retrieve", args(&s.kb, json!({"query": "  "}))).await;
    assert_eq!(e["field"], "query");
    assert!(s.rig.fake.requests_for("Retrieve").is_empty(), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_knowledge_base_says_where_to_find_the_ids() {
    let rig = Rig::start().await;
    // Unrestricted: the service's answer, with a hint naming list_knowledge_bases.
    let mcp = rig.server(BIN).start().await;
    let e = mcp.err("retrieve", args("NOSUCHKB01", json!({}))).await;
    assert_eq!(e["code"], "ResourceNotFoundException");
    assert_eq!(e["http_status"], 404);
    assert!(e["request_id"].as_str().unwrap().starts_with("FAKE-"), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("list_knowledge_bases"), "{e}");
    let e = mcp.err("retrieve", args("bad/../id", json!({}))).await;
    assert_eq!(e["field"], "knowledge_base_id");
    assert_eq!(rig.fake.requests_for("Retrieve").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_names_the_action() {
    let s = setup(&[]).await;
    s.rig.fake.on_json(
        "Retrieve",
        "POST /knowledgebases/{kbId}/retrieve",
        Reply::access_denied(true, "bedrock:Retrieve"),
    );
    let e = s.mcp.err("retrieve", args(&s.kb, json!({}))).await;
    assert_eq!(e["code"], "AccessDeniedException");
    assert_eq!(e["operation"], "Retrieve");
    assert!(e["message"].as_str().unwrap().contains("bedrock:Retrieve"));
    assert!(e["hint"].as_str().unwrap().contains("bedrock:Retrieve"), "{e}");
    assert!(e["request_id"].is_string());
    assert_eq!(e["retryable"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_reported_after_the_retries() {
    let s = setup(&[]).await;
    s.rig
        .fake
        .on_json("Retrieve", "POST /knowledgebases/{kbId}/retrieve", Reply::throttled());
    let e = s.mcp.err("retrieve", args(&s.kb, json!({}))).await;
    assert_eq!(e["code"], "ThrottlingException");
    assert_eq!(e["http_status"], 429);
    assert_eq!(e["retryable"], true);
    assert!(e["hint"].as_str().unwrap().contains("3 times"), "{e}");
    assert_eq!(
        s.rig.fake.requests_for("Retrieve").len(),
        3,
        "the standard retry tried three times"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_is_not_enabled_is_the_services_own_error() {
    let s = setup(&["--allow-generate"]).await;
    let e = s
        .mcp
        .err(
            "retrieve",
            args(
                &s.kb,
                json!({"rerank_model": "cohere.rerank-v3-5:0", "region": "ap-southeast-2"}),
            ),
        )
        .await;
    assert_eq!(e["code"], "ValidationException");
    assert!(e["message"].as_str().unwrap().contains("not enabled"), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("model access"), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("ap-southeast-2"), "{e}");
    let e = s
        .mcp
        .err(
            "retrieve_and_generate",
            args(&s.kb, json!({"model": "amazon.titan-text-express-v1"})),
        )
        .await;
    assert_eq!(e["code"], "ValidationException");
    assert_eq!(e["operation"], "RetrieveAndGenerate");
    assert!(
        e["message"].as_str().unwrap().contains("amazon.titan-text-express-v1"),
        "{e}"
    );
}
