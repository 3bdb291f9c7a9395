//! `describe_log_groups`, `describe_log_streams`, the `logs://{group}` resource and completions
//! (LocalStack).

use aws_mcp_tests::assert_each_once;
use rmcp::model::{ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

use crate::fixtures::{self, At, SECRET};

#[tokio::test]
async fn groups_and_streams_page_with_their_details() {
    let prefix = aws_mcp_tests::unique("grp");
    let mut made = std::collections::BTreeSet::new();
    for i in 0..7 {
        let (g, _) = fixtures::group_at(At::LocalStack, &format!("{prefix}-{i}"), if i == 0 { 5 } else { 1 }, 2).await;
        made.insert(g);
    }
    let mcp = crate::server(At::LocalStack, &[]).await;
    let groups = mcp
        .pages(
            "describe_log_groups",
            json!({"prefix": prefix, "page_size": 3}),
            "log_groups",
        )
        .await;
    let names: Vec<String> = groups.iter().map(|g| g["name"].as_str().unwrap().to_owned()).collect();
    assert_each_once(&names, &made);
    assert!(groups[0]["created"].as_str().unwrap().ends_with('Z'), "{}", groups[0]);

    let busy = made.iter().next().unwrap().clone();
    let by_name = mcp
        .pages(
            "describe_log_streams",
            json!({"log_group": busy, "order": "name", "page_size": 2}),
            "log_streams",
        )
        .await;
    let streams: Vec<&str> = by_name.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(streams, ["stream-0", "stream-1", "stream-2", "stream-3", "stream-4"]);
    assert!(by_name[0]["last_event"].is_string(), "{}", by_name[0]);
    let e = mcp
        .err("describe_log_streams", json!({"log_group": busy, "prefix": "stream-"}))
        .await;
    assert_eq!(e["field"], "prefix", "{e}");
    let e = mcp
        .err("describe_log_streams", json!({"log_group": "no-such-group-here"}))
        .await;
    assert_eq!(e["code"], "ResourceNotFoundException", "{e}");
}

#[tokio::test]
async fn the_group_resource_shows_recent_events_masked_and_names_complete() {
    let (group, _) = fixtures::group_at(At::LocalStack, "res", 1, 30).await;
    let mcp = crate::server(At::LocalStack, &[]).await;
    let uri = format!("logs://{group}");
    let read = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(uri.clone()))
        .await
        .expect("resources/read");
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("not text: {read:?}");
    };
    let body: Value = serde_json::from_str(text).unwrap();
    assert_eq!(body["events"].as_array().unwrap().len(), 30, "{body}");
    assert!(!text.contains(SECRET));
    assert!(body["redacted"].as_u64().unwrap() > 0);

    let typed = &group[..group.len() - 2];
    let done = mcp
        .client
        .complete_resource_simple("logs://{group}", "group", typed)
        .await
        .expect("completion/complete");
    assert_eq!(done, std::slice::from_ref(&group));

    let missing = mcp
        .client
        .read_resource(ReadResourceRequestParams::new("logs://no-such-group-at-all"))
        .await;
    assert!(missing.is_err(), "{missing:?}");
}
