//! Write tools: hidden without `--allow-writes`, put/get/update/delete with it.

use aws_mcp_tests::{
    Mcp, dynamodb,
    fixtures::dynamodb::{create_orders, create_simple, drop_table, n, s},
    unique,
};
use serde_json::{Value, json};

use crate::BIN;

#[tokio::test]
async fn write_tools_are_listed_only_with_allow_writes() {
    let ro = Mcp::start(BIN, &[]).await;
    let names = ro.tool_names().await;
    for write in ["delete_item", "put_item", "update_item"] {
        assert!(
            !names.iter().any(|n| n == write),
            "{write} listed without --allow-writes"
        );
    }
    // Calling a write tool that is not listed is refused.
    ro.assert_not_enabled(
        "put_item",
        json!({"table": "t-x", "item": {"pk": "a"}}),
        "--allow-writes",
    )
    .await;
    let partiql = |tools: &[rmcp::model::Tool]| {
        tools
            .iter()
            .find(|t| t.name == "execute_partiql")
            .and_then(|t| t.annotations.clone())
            .unwrap()
    };
    let a = partiql(&ro.client.list_all_tools().await.unwrap());
    assert_eq!((a.read_only_hint, a.destructive_hint), (Some(true), Some(false)));

    let rw = Mcp::start(BIN, &["--allow-writes"]).await;
    let names = rw.tool_names().await;
    for w in ["put_item", "update_item", "delete_item", "execute_partiql"] {
        assert!(names.contains(&w.to_owned()), "{w} in {names:?}");
    }
    let tools = rw.client.list_all_tools().await.unwrap();
    let a = partiql(&tools);
    assert_eq!(
        (a.read_only_hint, a.destructive_hint),
        (Some(false), Some(true)),
        "with writes allowed, PartiQL can delete"
    );
    let delete = tools.iter().find(|t| t.name == "delete_item").unwrap();
    assert_eq!(delete.annotations.as_ref().unwrap().destructive_hint, Some(true));
}

#[tokio::test]
async fn put_get_update_delete_through_mcp() {
    let db = dynamodb().await;
    let table = unique("ddb-rw");
    create_orders(&db, &table).await;
    let mcp = Mcp::start(BIN, &["--allow-writes"]).await;
    let k = json!({"pk": "cust-1", "sk": 7});

    // A sort key given as a numeric string is stored as a number (the key schema says N).
    let r = mcp
        .ok(
            "put_item",
            json!({"table": table, "item": {"pk": "cust-1", "sk": "7", "status": "new", "tags": {"$SS": ["a", "b"]},
                   "blob": {"$B": "AP8="}, "nested": {"l": [1, "x", null, true]}}, "return_old": true}),
        )
        .await;
    assert_eq!(r["written"], true);
    assert_eq!(r["key"], k);
    assert_eq!(r["old_item"], Value::Null);
    let r = mcp.ok("get_item", json!({"table": table, "key": k})).await;
    assert_eq!(r["found"], true);
    assert_eq!(
        r["item"],
        json!({"pk": "cust-1", "sk": 7, "status": "new", "tags": {"$SS": ["a", "b"]}, "blob": {"$B": "AP8="},
               "nested": {"l": [1, "x", null, true]}})
    );
    let raw = db
        .get_item()
        .table_name(&table)
        .key("pk", s("cust-1"))
        .key("sk", n(7))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.item().unwrap()["sk"], n(7), "stored as N");

    // Update with a reserved word through names, ADD on a counter; ALL_NEW by default.
    let r = mcp
        .ok(
            "update_item",
            json!({"table": table, "key": k, "update_expression": "SET #s = :s ADD hits :one REMOVE nested",
                   "expression_attribute_names": {"#s": "status"},
                   "expression_attribute_values": {":s": "paid", ":one": 1},
                   "condition_expression": "attribute_exists(pk)"}),
        )
        .await;
    assert_eq!(r["return_values"], "ALL_NEW");
    assert_eq!(r["attributes"]["status"], "paid");
    assert_eq!(r["attributes"]["hits"], 1);
    assert!(r["attributes"].get("nested").is_none());
    let r = mcp
        .ok(
            "update_item",
            json!({"table": table, "key": k, "update_expression": "ADD hits :one",
                   "expression_attribute_values": {":one": 1}, "return_values": "UPDATED_OLD"}),
        )
        .await;
    assert_eq!(r["attributes"], json!({"hits": 1}));
    let r = mcp
        .ok(
            "get_item",
            json!({"table": table, "key": k, "projection": ["hits", "status"], "consistent_read": true}),
        )
        .await;
    assert_eq!(r["item"], json!({"hits": 2, "status": "paid"}));

    // Overwrite, returning the old item.
    let r = mcp
        .ok(
            "put_item",
            json!({"table": table, "item": {"pk": "cust-1", "sk": 7, "v": 2}, "return_old": true}),
        )
        .await;
    assert_eq!(r["old_item"]["hits"], 2);

    let r = mcp.ok("delete_item", json!({"table": table, "key": k})).await;
    assert_eq!(r["deleted"], true);
    assert_eq!(r["old_item"], json!({"pk": "cust-1", "sk": 7, "v": 2}));
    let r = mcp.ok("get_item", json!({"table": table, "key": k})).await;
    assert_eq!(r["found"], false);
    assert_eq!(r["item"], Value::Null);
    let r = mcp.ok("delete_item", json!({"table": table, "key": k})).await;
    assert_eq!(r["deleted"], false, "nothing to delete");
    drop_table(&db, &table).await;
}

#[tokio::test]
async fn writes_are_refused_in_read_only_mode() {
    let db = dynamodb().await;
    let table = unique("ddb-ro");
    create_simple(&db, &table).await;
    let mcp = Mcp::start(BIN, &[]).await;
    for tool in ["put_item", "update_item", "delete_item"] {
        mcp.assert_not_enabled(tool, json!({"table": table, "item": {"pk": "a"}}), "--allow-writes")
            .await;
    }
    let e = mcp
        .err(
            "execute_partiql",
            json!({"statement": format!("INSERT INTO \"{table}\" VALUE {{'pk': 'a'}}")}),
        )
        .await;
    assert_eq!(e["kind"], "read_only");
    let r = mcp.ok("scan", json!({"table": table})).await;
    assert_eq!(r["count"], 0);
    drop_table(&db, &table).await;
}
