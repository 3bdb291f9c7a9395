//! Errors: missing tables, ValidationException, keys checked against the schema before any call,
//! failed conditions, bad placeholders, the allowlist on every path (batch gets, PartiQL, ARNs).

use std::collections::HashMap;

use aws_mcp_tests::{
    Mcp, dynamodb,
    fixtures::dynamodb::{create_orders, create_simple, drop_table, order, s, seed},
    unique,
};
use rmcp::model::ReadResourceRequestParams;
use serde_json::{Value, json};

use crate::BIN;

#[tokio::test]
async fn errors_are_clear_tool_errors() {
    let db = dynamodb().await;
    let table = unique("ddb-err");
    create_orders(&db, &table).await;
    seed(&db, &table, (0..5).map(order).collect()).await;
    let mcp = Mcp::start(BIN, &["--allow-writes"]).await;

    // A table that does not exist.
    let missing = unique("ddb-missing");
    for (tool, args) in [
        ("describe_table", json!({"table": missing})),
        (
            "query",
            json!({"table": missing, "key_condition_expression": "pk = :p",
                         "expression_attribute_values": {":p": "a"}}),
        ),
        ("scan", json!({"table": missing})),
        ("get_item", json!({"table": missing, "key": {"pk": "a"}})),
    ] {
        let e = mcp.err(tool, args).await;
        assert_eq!(e["kind"], "aws", "{tool}: {e}");
        assert_eq!(e["code"], "ResourceNotFoundException", "{tool}: {e}");
        // The hint names the region the table was looked for in.
        let hint = e["hint"].as_str().unwrap();
        assert!(
            hint.contains("region") || hint.contains(&aws_mcp_tests::region()),
            "{e}"
        );
    }

    // Malformed expressions: DynamoDB's ValidationException with its own message.
    let e = mcp
        .err(
            "update_item",
            json!({"table": table, "key": {"pk": "p1", "sk": 1}, "update_expression": "SET"}),
        )
        .await;
    assert_eq!(e["code"], "ValidationException", "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("UpdateExpression"), "{e}");
    assert!(e["summary"].as_str().unwrap().contains(message));
    assert!(e["hint"].as_str().unwrap().contains("expression"));
    let e = mcp
        .err("scan", json!({"table": table, "filter_expression": "amount = = 1"}))
        .await;
    assert_eq!(e["code"], "ValidationException", "{e}");
    assert!(!e["message"].as_str().unwrap().is_empty());
    let e = mcp
        .err(
            "query",
            json!({"table": table, "partition_key": "p1", "expression_attribute_names": {"#unused": "x"}}),
        )
        .await;
    assert_eq!(e["code"], "ValidationException", "{e}");
    assert!(e["message"].as_str().unwrap().contains("#unused"), "{e}");

    // Keys that do not match the key schema: named, typed, and refused before GetItem is sent.
    for (tool, args, field, needle) in [
        (
            "get_item",
            json!({"table": table, "key": {"pk": 5, "sk": 1}}),
            "key",
            "\"pk\" must be a string (S)",
        ),
        (
            "get_item",
            json!({"table": table, "key": {"pk": "p1"}}),
            "key",
            "missing key attribute \"sk\" (type N, number)",
        ),
        (
            "get_item",
            json!({"table": table, "key": {"pk": "p1", "sk": "one"}}),
            "key",
            "\"one\" is not a valid DynamoDB number",
        ),
        (
            "get_item",
            json!({"table": table, "key": {"pk": "p1", "sk": 1, "x": 1}}),
            "key",
            "unexpected attribute(s) \"x\"",
        ),
        (
            "delete_item",
            json!({"table": table, "key": {"pk": "p1", "sk": true}}),
            "key",
            "\"sk\" must be a number (N)",
        ),
        (
            "put_item",
            json!({"table": table, "item": {"pk": "p1", "other": 1}}),
            "item",
            "missing key attribute \"sk\"",
        ),
        (
            "query",
            json!({"table": table, "partition_key": 3}),
            "partition_key",
            "\"pk\" must be a string (S)",
        ),
        (
            "query",
            json!({"table": table, "index": "by-g", "partition_key": "g1", "sort_key": {"op": "=", "value": 3}}),
            "sort_key",
            "\"gsi_sk\" must be a string (S)",
        ),
    ] {
        let e = mcp.err(tool, args).await;
        assert_eq!(e["kind"], "invalid_argument", "{tool}: {e}");
        assert_eq!(e["field"], field, "{tool}: {e}");
        assert!(e["summary"].as_str().unwrap().contains(needle), "{tool}: {e}");
        assert!(
            e.get("request_id").is_none() && e.get("code").is_none(),
            "no AWS call answered: {e}"
        );
    }
    // The item is still there: nothing was deleted by the refused call.
    let r = mcp
        .ok("get_item", json!({"table": table, "key": {"pk": "p1", "sk": 1}}))
        .await;
    assert_eq!(r["found"], true);

    // A condition that fails.
    let e = mcp
        .err(
            "put_item",
            json!({"table": table, "item": {"pk": "p1", "sk": 1}, "condition_expression": "attribute_not_exists(pk)"}),
        )
        .await;
    assert_eq!(e["kind"], "aws");
    assert_eq!(e["code"], "ConditionalCheckFailedException", "{e}");
    assert!(e["hint"].as_str().unwrap().contains("nothing was written"));
    let e = mcp
        .err(
            "delete_item",
            json!({"table": table, "key": {"pk": "p1", "sk": 1}, "condition_expression": "amount > :n",
                   "expression_attribute_values": {":n": 1000}}),
        )
        .await;
    assert_eq!(e["code"], "ConditionalCheckFailedException", "{e}");

    // Bad placeholders and values are refused with the argument named.
    let e = mcp
        .err(
            "scan",
            json!({"table": table, "filter_expression": "a = :v", "expression_attribute_values": {"v": 1}}),
        )
        .await;
    assert_eq!(e["field"], "expression_attribute_values");
    let e = mcp
        .err(
            "scan",
            json!({"table": table, "filter_expression": "a = :v", "expression_attribute_values": {":v": {"$SS": []}}}),
        )
        .await;
    assert!(e["summary"].as_str().unwrap().contains("cannot be empty"), "{e}");
    // Arguments the tool does not take, and malformed table names.
    let e = mcp.err("scan", json!({"table": table, "limit": 5})).await;
    assert_eq!(e["field"], "limit");
    let e = mcp.err("scan", json!({"table": "no such table"})).await;
    assert_eq!(e["field"], "table");
    drop_table(&db, &table).await;
}

#[tokio::test]
async fn the_allowlist_applies_everywhere() {
    let db = dynamodb().await;
    let prefix = unique("allowed");
    let allowed = format!("{prefix}-a");
    let other = unique("denied");
    create_simple(&db, &allowed).await;
    create_simple(&db, &other).await;
    seed(&db, &allowed, vec![HashMap::from([("pk".to_owned(), s("x"))])]).await;
    seed(&db, &other, vec![HashMap::from([("pk".to_owned(), s("x"))])]).await;
    let pattern = format!("{prefix}-*");
    let mcp = Mcp::start(BIN, &["--allow-writes", "--table", &pattern]).await;

    let not_allowed = |e: &Value| {
        assert_eq!(e["kind"], "not_allowed", "{e}");
        assert_eq!(e["name"], other);
        assert!(e["summary"].as_str().unwrap().contains("--table"), "{e}");
    };
    // Every tool taking `table` is checked by the contract; here, the other paths to a table name
    // (and what the refusal says).
    for (tool, args) in [
        ("describe_table", json!({"table": other})),
        (
            "batch_get_items",
            json!({"requests": {allowed.clone(): {"keys": [{"pk": "x"}]}, other.clone(): {"keys": [{"pk": "x"}]}}}),
        ),
        (
            "execute_partiql",
            json!({"statement": format!("SELECT * FROM \"{other}\"")}),
        ),
        (
            "execute_partiql",
            json!({"statement": format!("/* FROM \"{allowed}\" */ delete from \"{other}\" where pk = 'x'")}),
        ),
        (
            "describe_table",
            json!({"table": format!("arn:aws:dynamodb:us-east-1:000000000000:table/{other}")}),
        ),
    ] {
        let e = mcp.err(tool, args.clone()).await;
        if tool == "describe_table" && args["table"].as_str().unwrap().starts_with("arn:") {
            assert_eq!(e["kind"], "not_allowed", "{e}");
        } else {
            not_allowed(&e);
        }
    }
    // A statement whose table cannot be read with certainty is refused when tables are restricted.
    let e = mcp
        .err(
            "execute_partiql",
            json!({"statement": format!("SELECT * FROM {other}")}),
        )
        .await;
    assert_eq!(e["kind"], "invalid_argument", "{e}");
    assert!(e["summary"].as_str().unwrap().contains("double quotes"), "{e}");
    // Nothing was deleted from the other table.
    let raw = db.scan().table_name(&other).send().await.unwrap();
    assert_eq!(raw.count(), 1);

    // The allowed table works, and listings show only it.
    let r = mcp.ok("scan", json!({"table": allowed})).await;
    assert_eq!(r["count"], 1);
    let names: Vec<String> = mcp
        .pages("list_tables", json!({"page_size": 1000}), "tables")
        .await
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&allowed), "{names:?}");
    assert!(names.iter().all(|n| n.starts_with(&prefix)), "{names:?}");
    let resources = mcp.client.list_all_resources().await.unwrap();
    assert!(resources.iter().any(|r| r.name == allowed));
    assert!(resources.iter().all(|r| r.name.starts_with(&prefix)));
    let read = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!("dynamodb://{other}/schema")))
        .await;
    assert!(read.is_err(), "reading a table outside the allowlist fails");
    let c = mcp
        .client
        .complete_resource_argument("dynamodb://{table}/schema", "table", "", None)
        .await
        .unwrap();
    assert!(
        c.values.contains(&allowed) && !c.values.contains(&other),
        "{:?}",
        c.values
    );
    drop_table(&db, &allowed).await;
    drop_table(&db, &other).await;
}
