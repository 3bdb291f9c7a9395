//! list_tables paging, MCP resources (table schemas) and completions.

use aws_mcp_tests::{
    Mcp, dynamodb,
    fixtures::dynamodb::{create_simple, drop_table},
    unique,
};
use rmcp::model::{ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

use crate::BIN;

#[tokio::test]
async fn list_tables_resources_and_completions() {
    let db = dynamodb().await;
    let prefix = unique("ddb-list");
    let names: Vec<String> = (0..5).map(|i| format!("{prefix}-{i}")).collect();
    futures::future::join_all(names.iter().map(|n| create_simple(&db, n))).await;
    let mcp = Mcp::start(BIN, &[]).await;

    // A prefix, in pages of 2: every table once, in order, and no cursor after the last page.
    let (tables, pages) = mcp
        .all_pages("list_tables", json!({"prefix": prefix, "page_size": 2}), "tables")
        .await;
    for p in &pages {
        assert!(p["tables"].as_array().unwrap().len() <= 2);
    }
    let pages = pages.len();
    let mut got: Vec<String> = tables.iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    // moto lists tables in creation order (these were created concurrently); AWS by name.
    got.sort();
    assert_eq!(got, names);
    assert!(pages >= 3, "{pages} pages");

    // Resources: every table, and its schema as JSON.
    let resources = mcp.client.list_all_resources().await.unwrap();
    for n in &names {
        let r = resources
            .iter()
            .find(|r| &r.name == n)
            .unwrap_or_else(|| panic!("{n} not listed"));
        assert_eq!(r.uri, format!("dynamodb://{n}/schema"));
    }
    let templates = mcp.client.list_all_resource_templates().await.unwrap();
    assert_eq!(templates[0].uri_template, "dynamodb://{table}/schema");
    let read = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!(
            "dynamodb://{}/schema",
            names[2]
        )))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents { text, mime_type, .. } = &read.contents[0] else {
        panic!("text contents expected");
    };
    assert_eq!(mime_type.as_deref(), Some("application/json"));
    let schema: Value = serde_json::from_str(text).unwrap();
    assert_eq!(schema["table"], names[2]);
    assert_eq!(
        schema["key_schema"]["partition_key"],
        json!({"name": "pk", "type": "S"})
    );
    let missing = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!(
            "dynamodb://{prefix}-nope/schema"
        )))
        .await;
    assert!(missing.is_err());

    // Completion of the table argument by prefix.
    let c = mcp
        .client
        .complete_resource_argument("dynamodb://{table}/schema", "table", &prefix, None)
        .await
        .unwrap();
    let mut values = c.values.clone();
    values.sort();
    assert_eq!(values, names);
    let c = mcp
        .client
        .complete_resource_argument("dynamodb://{table}/schema", "table", &format!("{prefix}-3"), None)
        .await
        .unwrap();
    assert_eq!(c.values, [names[3].clone()]);
    futures::future::join_all(names.iter().map(|n| drop_table(&db, n))).await;
}
