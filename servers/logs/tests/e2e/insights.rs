//! Logs Insights against LocalStack: rows as plain objects, the row cap decided from the rows
//! returned, secrets masked, reading a query's results again, and the allowlist on queries.

use serde_json::json;

use crate::fixtures::{self, At, PASSWORD, SECRET};

#[tokio::test]
async fn a_query_returns_plain_rows_capped_and_masked() {
    let (group, _) = fixtures::group_at(At::LocalStack, "ins", 2, 60).await;
    let mcp = crate::server(At::LocalStack, &[]).await;
    let r = mcp
        .ok(
            "run_insights_query",
            json!({"log_groups": [group], "query": "fields @timestamp, @message", "start": "2h", "max_rows": 200}),
        )
        .await;
    assert_eq!(r["status"], "Complete", "{r}");
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 120, "{r}");
    assert!(
        rows.iter()
            .all(|row| row.get("@ptr").is_none() && row["@message"].is_string())
    );
    let text = r.to_string();
    assert!(
        !text.contains(SECRET) && !text.contains(PASSWORD),
        "a secret came through"
    );
    assert!(r["redacted"].as_u64().unwrap() > 0);
    let id = r["query_id"].as_str().unwrap().to_owned();

    // The cap counts the rows CloudWatch returned.
    let capped = mcp
        .ok(
            "run_insights_query",
            json!({"log_groups": [group], "query": "fields @message | limit 50", "start": "2h", "max_rows": 10}),
        )
        .await;
    assert_eq!(capped["rows"].as_array().unwrap().len(), 10);
    assert_eq!(capped["rows_returned"], 50, "{capped}");
    assert!(capped["rows_capped"].is_string());

    let again = mcp.ok("get_insights_results", json!({"query_id": id})).await;
    assert_eq!(again["status"], "Complete");
    assert_eq!(again["rows"].as_array().unwrap().len(), 120);
}

#[tokio::test]
async fn the_allowlist_covers_insights_queries() {
    let (group, _) = fixtures::group_at(At::LocalStack, "ins-allow", 1, 5).await;
    let pattern = format!("{group}*");
    let mcp = crate::server(At::LocalStack, &["--log-group", &pattern]).await;
    let r = mcp
        .ok(
            "run_insights_query",
            json!({"log_groups": [group], "query": "fields @message", "start": "2h"}),
        )
        .await;
    assert_eq!(r["rows"].as_array().unwrap().len(), 5);
    let e = mcp
        .err(
            "run_insights_query",
            json!({"log_groups": [group], "query": "SOURCE logGroups(namePrefix: [\"/\"]) | fields @message"}),
        )
        .await;
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_argument"), Some("query")),
        "{e}"
    );
    let e = mcp
        .err(
            "run_insights_query",
            json!({"log_groups": [group, "someone-elses"], "query": "fields @message"}),
        )
        .await;
    assert_eq!(
        (e["kind"].as_str(), e["name"].as_str()),
        (Some("not_allowed"), Some("someone-elses")),
        "{e}"
    );
    // A query this server did not start cannot be read through it.
    let e = mcp.err("get_insights_results", json!({"query_id": "not-ours"})).await;
    assert_eq!(e["kind"], "not_allowed", "{e}");
    // Listings show only allowed groups.
    let groups = mcp.pages("describe_log_groups", json!({}), "log_groups").await;
    assert!(!groups.is_empty());
    assert!(groups.iter().all(|g| g["name"] == group.as_str()), "{groups:?}");
    // `contains` beside the allowlist's prefix is matched by the server, case-insensitively.
    let tail = group[group.len() - 6..].to_uppercase();
    let found = mcp.ok("describe_log_groups", json!({"contains": tail})).await;
    assert_eq!(found["log_groups"][0]["name"], group.as_str(), "{found}");
    let none = mcp.ok("describe_log_groups", json!({"contains": "no-such-part"})).await;
    assert_eq!(none["log_groups"], json!([]));
}
