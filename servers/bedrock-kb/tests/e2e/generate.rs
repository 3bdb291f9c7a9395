//! `retrieve_and_generate`: hidden without `--allow-generate`; with it, an answer with citations
//! (cited text, span, sources with location and metadata), the session id, follow-ups, filters.

use serde_json::json;

use crate::{args, rig::GEN_MODEL, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generation_is_absent_without_its_flag() {
    let s = setup(&[]).await;
    assert_eq!(s.mcp.tool_names().await, ["list_knowledge_bases", "retrieve"]);
    s.mcp
        .assert_not_enabled(
            "retrieve_and_generate",
            args(&s.kb, json!({"model": GEN_MODEL})),
            "--allow-generate",
        )
        .await;
    assert!(s.rig.fake.requests_for("RetrieveAndGenerate").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_comes_with_citations_a_session_and_follow_ups() {
    let s = setup(&["--allow-generate"]).await;
    let billing = json!({"equals": {"key": "team", "value": "billing"}});
    let out = s
        .mcp
        .ok(
            "retrieve_and_generate",
            args(&s.kb, json!({"model": GEN_MODEL, "filter": billing})),
        )
        .await;
    let answer = out["answer"].as_str().unwrap();
    assert!(answer.starts_with("Turn 1. Invoices are issued"), "{answer}");
    let session = out["session_id"].as_str().unwrap().to_owned();
    let citations = out["citations"].as_array().unwrap();
    assert_eq!(citations.len(), 2);
    let c = &citations[0];
    assert_eq!(c["text"], "Invoices are issued on the first of the month.");
    let span = c["span"].as_array().unwrap();
    let (start, end) = (span[0].as_u64().unwrap() as usize, span[1].as_u64().unwrap() as usize);
    assert_eq!(&answer[start..=end], c["text"].as_str().unwrap());
    let source = &c["references"][0];
    assert_eq!(source["location"]["url"], "https://docs.example.com/billing/invoices");
    assert_eq!(source["metadata"]["team"], "billing");
    assert_eq!(source["text"], "Invoices are issued on the first of the month.");
    for c in citations {
        assert_eq!(
            c["references"][0]["metadata"]["team"], "billing",
            "the filter reached retrieval"
        );
    }
    let sent = s.rig.bodies("RetrieveAndGenerate");
    let kbc = &sent[0]["retrieveAndGenerateConfiguration"]["knowledgeBaseConfiguration"];
    assert_eq!(kbc["knowledgeBaseId"], s.kb.as_str());
    assert_eq!(kbc["modelArn"], GEN_MODEL);
    assert_eq!(
        kbc["retrievalConfiguration"]["vectorSearchConfiguration"]["filter"],
        billing
    );
    assert!(sent[0].get("sessionId").is_none());

    let follow = s
        .mcp
        .ok(
            "retrieve_and_generate",
            args(&s.kb, json!({"model": GEN_MODEL, "session_id": session})),
        )
        .await;
    assert_eq!(follow["session_id"], session.as_str());
    assert!(follow["answer"].as_str().unwrap().starts_with("Turn 2."));
    let e = s
        .mcp
        .err(
            "retrieve_and_generate",
            args(&s.kb, json!({"model": GEN_MODEL, "session_id": "sess-unknown"})),
        )
        .await;
    assert_eq!(e["code"], "ResourceNotFoundException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_arn_and_a_data_source_restriction_reach_generation() {
    let s = setup(&["--allow-generate"]).await;
    let arn = format!("arn:aws:bedrock:us-east-1::foundation-model/{GEN_MODEL}");
    let out = s
        .mcp
        .ok(
            "retrieve_and_generate",
            args(
                &s.kb,
                json!({"model": arn, "data_source_ids": ["DS2"], "number_of_results": 3}),
            ),
        )
        .await;
    let citations = out["citations"].as_array().unwrap();
    assert!(!citations.is_empty(), "{out}");
    for c in citations {
        assert_eq!(
            c["references"][0]["metadata"]["x-amz-bedrock-kb-data-source-id"], "DS2",
            "only DS2's chunks were used: {out}"
        );
    }
    let sent = s.rig.bodies("RetrieveAndGenerate");
    let kbc = &sent[0]["retrieveAndGenerateConfiguration"]["knowledgeBaseConfiguration"];
    assert_eq!(kbc["modelArn"], arn.as_str(), "the ARN is sent as given");
    assert_eq!(
        kbc["retrievalConfiguration"]["vectorSearchConfiguration"]["numberOfResults"],
        3
    );
}
