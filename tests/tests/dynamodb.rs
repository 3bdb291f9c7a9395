//! End-to-end tests of `aws-dynamodb-mcp`: the real binary over MCP (stdio), against moto's
//! DynamoDB server. Every test makes its own uniquely named tables with the SDK and deletes them.

use std::collections::{BTreeSet, HashMap};

use aws_mcp_tests::{Mcp, dynamodb, unique};
use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        LocalSecondaryIndex, Projection, ProjectionType, PutRequest, ScalarAttributeType, StreamSpecification,
        StreamViewType, TimeToLiveSpecification, WriteRequest,
    },
};
use futures::StreamExt;
use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

const BIN: &str = "aws-dynamodb-mcp";

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn attr(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(t)
        .build()
        .unwrap()
}

fn key(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(t)
        .build()
        .unwrap()
}

/// A table keyed by `pk` (S) and `sk` (N) with a GSI `by-g` on `gsi_pk` (S) / `gsi_sk` (S).
async fn create_orders(db: &Client, name: &str) {
    db.create_table()
        .table_name(name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .attribute_definitions(attr("gsi_pk", ScalarAttributeType::S))
        .attribute_definitions(attr("gsi_sk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-g")
                .key_schema(key("gsi_pk", KeyType::Hash))
                .key_schema(key("gsi_sk", KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

/// A table keyed by `pk` (S) only.
async fn create_simple(db: &Client, name: &str) {
    db.create_table()
        .table_name(name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

async fn drop_table(db: &Client, name: &str) {
    let _ = db.delete_table().table_name(name).send().await;
}

/// Item `i` of the seeded data: 5 partitions `p0..p4` of sort keys `i`; on the GSI, 4 partitions
/// `g0..g3` sorted by a date-like string.
fn order(i: u32) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), s(&format!("p{}", i % 5))),
        ("sk".to_owned(), n(i)),
        ("gsi_pk".to_owned(), s(&format!("g{}", i % 4))),
        ("gsi_sk".to_owned(), s(&format!("2024-{:02}-{i:04}", 1 + i % 12))),
        ("status".to_owned(), s(["open", "done"][i as usize % 2])),
        ("amount".to_owned(), n(i * 10)),
    ])
}

/// Write items with BatchWriteItem, 25 at a time, several batches at once.
async fn seed(db: &Client, table: &str, items: Vec<HashMap<String, AttributeValue>>) {
    let batches: Vec<Vec<HashMap<String, AttributeValue>>> = items.chunks(25).map(<[_]>::to_vec).collect();
    futures::stream::iter(batches)
        .for_each_concurrent(4, |batch| async move {
            let mut pending: Vec<WriteRequest> = batch
                .into_iter()
                .map(|item| {
                    WriteRequest::builder()
                        .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                        .build()
                })
                .collect();
            while !pending.is_empty() {
                let out = db
                    .batch_write_item()
                    .request_items(table, pending.clone())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("seed {table}: {e:?}"));
                pending = out
                    .unprocessed_items()
                    .and_then(|u| u.get(table).cloned())
                    .unwrap_or_default();
            }
        })
        .await;
}

async fn seeded_orders(db: &Client, prefix: &str, count: u32) -> String {
    let table = unique(prefix);
    create_orders(db, &table).await;
    seed(db, &table, (0..count).map(order).collect()).await;
    table
}

fn sks(items: &Value) -> Vec<u64> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sk"].as_u64().unwrap_or_else(|| panic!("no numeric sk in {i}")))
        .collect()
}

/// Follow `tool`'s cursors to the end: every item, and the results of each call.
async fn all_pages(mcp: &Mcp, tool: &str, args: Value) -> (Vec<Value>, Vec<Value>) {
    let (mut items, mut pages) = (Vec::new(), Vec::new());
    let mut args = args;
    for _ in 0..1000 {
        let page = mcp.ok(tool, args.clone()).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        let next = page["next_cursor"].clone();
        pages.push(page);
        match next.as_str() {
            Some(c) => args["cursor"] = json!(c),
            None => return (items, pages),
        }
    }
    panic!("{tool} did not finish in 1000 pages");
}

/// Every element once: the list and the set have the same size.
fn assert_each_once<T: Ord + Clone + std::fmt::Debug>(got: &[T], want: &BTreeSet<T>) {
    let set: BTreeSet<T> = got.iter().cloned().collect();
    assert_eq!(set.len(), got.len(), "duplicates among {} items", got.len());
    assert_eq!(&set, want);
}

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
async fn key_conditions_and_the_gsi() {
    let db = dynamodb().await;
    let table = seeded_orders(&db, "ddb-cond", 500).await;
    let mcp = Mcp::start(BIN, &[]).await;

    // between on a number sort key (inclusive), given as JSON numbers and numeric strings.
    let r = mcp
        .ok(
            "query",
            json!({"table": table, "partition_key": "p1", "sort_key": {"op": "between", "value": [101, "131"]}}),
        )
        .await;
    assert_eq!(sks(&r["items"]), [101, 106, 111, 116, 121, 126, 131]);
    let r = mcp
        .ok(
            "query",
            json!({"table": table, "partition_key": "p1", "sort_key": {"op": "<", "value": 16}}),
        )
        .await;
    assert_eq!(sks(&r["items"]), [1, 6, 11]);
    let r = mcp
        .ok(
            "query",
            json!({"table": table, "partition_key": "p0", "sort_key": {"op": "=", "value": 250}}),
        )
        .await;
    assert_eq!(sks(&r["items"]), [250]);

    // The GSI, with begins_with on its string sort key; its key schema types the values.
    let (items, _) = all_pages(
        &mcp,
        "query",
        json!({"table": table, "index": "by-g", "partition_key": "g2",
               "sort_key": {"op": "begins_with", "value": "2024-03-"}, "page_size": 4}),
    )
    .await;
    let want: BTreeSet<u64> = (0..500u64).filter(|i| i % 4 == 2 && 1 + i % 12 == 3).collect();
    assert!(!want.is_empty());
    assert_each_once(&sks(&json!(items)), &want);
    for i in &items {
        assert!(i["gsi_sk"].as_str().unwrap().starts_with("2024-03-"), "{i}");
        assert_eq!(i["gsi_pk"], "g2");
    }
    // The whole GSI partition, paged.
    let (items, _) = all_pages(
        &mcp,
        "query",
        json!({"table": table, "index": "by-g", "partition_key": "g1", "page_size": 50}),
    )
    .await;
    assert_each_once(&sks(&json!(items)), &(0..500).filter(|i| i % 4 == 1).collect());

    // begins_with on a number sort key is refused before DynamoDB sees it.
    let e = mcp
        .err(
            "query",
            json!({"table": table, "partition_key": "p1", "sort_key": {"op": "begins_with", "value": "1"}}),
        )
        .await;
    assert_eq!(e["kind"], "invalid_argument");
    assert_eq!(e["field"], "sort_key");
    assert!(e["summary"].as_str().unwrap().contains("number (N)"), "{e}");
    // An unknown index names the ones there are.
    let e = mcp
        .err("query", json!({"table": table, "index": "by-x", "partition_key": "g1"}))
        .await;
    assert_eq!(e["field"], "index");
    assert!(e["summary"].as_str().unwrap().contains("`by-g`"), "{e}");

    // Raw mode: a KeyConditionExpression with names and values (reserved words through names),
    // plus a filter and a projection sharing the maps.
    let r = mcp
        .ok(
            "query",
            json!({"table": table,
                   "key_condition_expression": "pk = :p AND sk BETWEEN :lo AND :hi",
                   "filter_expression": "#s = :open",
                   "expression_attribute_names": {"#s": "status"},
                   "expression_attribute_values": {":p": "p2", ":lo": 2, ":hi": 52, ":open": "open"},
                   "projection": ["sk", "status"]}),
        )
        .await;
    assert_eq!(sks(&r["items"]), [2, 12, 22, 32, 42, 52]);
    assert_eq!(
        r["items"][0],
        json!({"sk": 2, "status": "open"}),
        "projection keeps only these"
    );
    // Structured keys with a filter that uses its own placeholders.
    let r = mcp
        .ok(
            "query",
            json!({"table": table, "partition_key": "p2", "sort_key": {"op": "<=", "value": 22},
                   "filter_expression": "#pk <> :pk AND amount >= :min",
                   "expression_attribute_names": {"#pk": "status"},
                   "expression_attribute_values": {":pk": "done", ":min": 100}}),
        )
        .await;
    assert_eq!(
        sks(&r["items"]),
        [12, 22],
        "placeholders the caller chose are not overwritten"
    );
    assert_eq!(r["scanned_count"], 5);

    // Both modes, or neither: a clear error naming what to give.
    let e = mcp
        .err(
            "query",
            json!({"table": table, "partition_key": "p1", "key_condition_expression": "pk = :p"}),
        )
        .await;
    assert_eq!(e["kind"], "invalid_argument");
    assert!(e["summary"].as_str().unwrap().contains("not both"), "{e}");
    let e = mcp.err("query", json!({"table": table})).await;
    assert_eq!(e["field"], "partition_key");
    assert!(e["summary"].as_str().unwrap().contains("scan"), "{e}");
    drop_table(&db, &table).await;
}

#[tokio::test]
async fn partiql_select_with_parameters() {
    let db = dynamodb().await;
    let table = seeded_orders(&db, "ddb-pql", 60).await;
    let mcp = Mcp::start(BIN, &[]).await;

    let r = mcp
        .ok(
            "execute_partiql",
            json!({"statement": format!("SELECT * FROM \"{table}\" WHERE \"pk\" = ?"), "parameters": ["p4"]}),
        )
        .await;
    assert_eq!(r["statement_kind"], "SELECT");
    assert_eq!(r["table"], table);
    let mut got = sks(&r["items"]);
    got.sort_unstable();
    assert_eq!(got, (0..60).filter(|i| i % 5 == 4).collect::<Vec<_>>());

    let r = mcp
        .ok(
            "execute_partiql",
            json!({"statement": format!("select sk, amount from \"{table}\" where \"pk\" = ? and \"sk\" = ?"),
                   "parameters": ["p2", 37]}),
        )
        .await;
    assert_eq!(r["items"], json!([{"sk": 37, "amount": 370}]));
    assert_eq!(r["next_cursor"], Value::Null);

    // A parameter that is not valid DynamoDB JSON is named before the call.
    let e = mcp
        .err(
            "execute_partiql",
            json!({"statement": format!("SELECT * FROM \"{table}\" WHERE \"pk\" = ?"), "parameters": [{"$N": "abc"}]}),
        )
        .await;
    assert_eq!(e["field"], "parameters");
    assert!(e["summary"].as_str().unwrap().contains("parameter 1"), "{e}");
    // An unterminated comment is not a statement.
    let e = mcp
        .err("execute_partiql", json!({"statement": "/* SELECT * FROM \"x\""}))
        .await;
    assert_eq!(e["field"], "statement");
    drop_table(&db, &table).await;
}

#[tokio::test]
async fn partiql_writes_are_refused_in_read_only_mode() {
    let db = dynamodb().await;
    let table = unique("ddb-pql-ro");
    create_simple(&db, &table).await;
    seed(
        &db,
        &table,
        vec![HashMap::from([("pk".to_owned(), s("a")), ("v".to_owned(), n(1))])],
    )
    .await;
    let mcp = Mcp::start(BIN, &[]).await;
    let t = format!("\"{table}\"");
    let statements = [
        (format!("INSERT INTO {t} VALUE {{'pk': 'b'}}"), "INSERT"),
        (format!("insert into {t} value {{'pk': 'b'}}"), "INSERT"),
        (format!("   \n\t UPDATE {t} SET \"v\" = 2 WHERE \"pk\" = 'a'"), "UPDATE"),
        (format!("-- SELECT\nupdate {t} set v = 2 where pk = 'a'"), "UPDATE"),
        (
            format!("/* SELECT * FROM {t} */ DELETE FROM {t} WHERE \"pk\" = 'a'"),
            "DELETE",
        ),
        (format!("/* a */ -- b\n  delete from {t} where pk = 'a'"), "DELETE"),
        (format!("Delete From {t} Where \"pk\" = 'a' -- SELECT"), "DELETE"),
    ];
    for (stmt, kind) in &statements {
        let e = mcp.err("execute_partiql", json!({"statement": stmt})).await;
        assert_eq!(e["kind"], "read_only", "{stmt}: {e}");
        let summary = e["summary"].as_str().unwrap();
        assert!(
            summary.contains(&format!("PartiQL {kind} statement")),
            "{stmt}: {summary}"
        );
        assert!(summary.contains("--allow-writes"), "{summary}");
    }
    // Nothing changed.
    let r = mcp.ok("scan", json!({"table": table})).await;
    assert_eq!(r["items"], json!([{"pk": "a", "v": 1}]));
    // A SELECT that merely mentions the write keywords still runs.
    let r = mcp
        .ok(
            "execute_partiql",
            json!({"statement": format!("SELECT * FROM {t} WHERE \"pk\" = 'DELETE' -- DELETE FROM {t}")}),
        )
        .await;
    assert_eq!(r["items"], json!([]));
    drop_table(&db, &table).await;
}

#[tokio::test]
async fn write_tools_are_listed_only_with_allow_writes() {
    let ro = Mcp::start(BIN, &[]).await;
    let names = ro.tool_names().await;
    assert_eq!(
        names,
        [
            "batch_get_items",
            "describe_table",
            "execute_partiql",
            "get_item",
            "list_tables",
            "query",
            "scan"
        ]
    );
    // Calling a write tool that is not listed fails at the protocol level.
    let args = json!({"table": "t-x", "item": {"pk": "a"}})
        .as_object()
        .cloned()
        .unwrap();
    assert!(
        ro.client
            .call_tool(CallToolRequestParams::new("put_item").with_arguments(args))
            .await
            .is_err()
    );
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
async fn partiql_writes_run_with_allow_writes() {
    let db = dynamodb().await;
    let table = unique("ddb-pql-rw");
    create_simple(&db, &table).await;
    let mcp = Mcp::start(BIN, &["--allow-writes"]).await;
    let t = format!("\"{table}\"");
    // moto's PartiQL engine accepts these forms (literal INSERT/UPDATE/DELETE on a
    // partition-key-only table); real DynamoDB accepts parameters in all of them too.
    let r = mcp
        .ok(
            "execute_partiql",
            json!({"statement": format!("insert into {t} value {{'pk': 'a', 'n': 1}}")}),
        )
        .await;
    assert_eq!(r["statement_kind"], "INSERT");
    let r = mcp.ok("get_item", json!({"table": table, "key": {"pk": "a"}})).await;
    assert_eq!(r["item"], json!({"pk": "a", "n": 1}));
    mcp.ok(
        "execute_partiql",
        json!({"statement": format!("UPDATE {t} SET \"s\" = 'x' WHERE \"pk\" = 'a'")}),
    )
    .await;
    let r = mcp.ok("get_item", json!({"table": table, "key": {"pk": "a"}})).await;
    assert_eq!(r["item"]["s"], "x");
    let r = mcp
        .ok(
            "execute_partiql",
            json!({"statement": format!("DELETE FROM {t} WHERE \"pk\" = 'a'")}),
        )
        .await;
    assert_eq!(r["statement_kind"], "DELETE");
    let r = mcp.ok("get_item", json!({"table": table, "key": {"pk": "a"}})).await;
    assert_eq!(r["found"], false);
    drop_table(&db, &table).await;
}

#[tokio::test]
async fn numbers_keep_38_digits_through_mcp() {
    let db = dynamodb().await;
    let table = unique("ddb-num");
    create_orders(&db, &table).await;
    let mcp = Mcp::start(BIN, &["--allow-writes"]).await;
    let big = "12345678901234567890123456789012345678";
    let tiny = "-0.000000000000000000000000000000000000123";
    let k = json!({"pk": "n", "sk": {"$N": big}});
    mcp.ok(
        "put_item",
        json!({"table": table, "item": {"pk": "n", "sk": {"$N": big}, "exact": {"$N": big}, "tiny": {"$N": tiny},
               "safe": 9007199254740991u64, "unsafe": {"$N": "9007199254740993"}, "ns": {"$NS": [big, "1"]}}}),
    )
    .await;
    let r = mcp.ok("get_item", json!({"table": table, "key": k})).await;
    let item = &r["item"];
    assert_eq!(item["sk"], json!({"$N": big}));
    assert_eq!(item["exact"], json!({"$N": big}));
    assert_eq!(item["unsafe"], json!({"$N": "9007199254740993"}));
    assert_eq!(item["safe"], json!(9007199254740991u64));
    let ns: BTreeSet<&str> = item["ns"]["$NS"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(ns, BTreeSet::from([big, "1"]));
    // Stored exactly, as DynamoDB sees it.
    let raw = db
        .get_item()
        .table_name(&table)
        .key("pk", s("n"))
        .key("sk", n(big))
        .send()
        .await
        .unwrap();
    let raw = raw.item().unwrap();
    assert_eq!(raw["exact"], n(big));
    match &raw["tiny"] {
        AttributeValue::N(t) => assert_eq!(t.parse::<f64>().unwrap(), -1.23e-37),
        other => panic!("{other:?}"),
    }
    // The key of a query page and its cursor keep the digits too.
    let r = mcp
        .ok(
            "query",
            json!({"table": table, "partition_key": "n", "sort_key": {"op": ">=", "value": {"$N": big}}}),
        )
        .await;
    assert_eq!(r["items"][0]["sk"], json!({"$N": big}));
    drop_table(&db, &table).await;
}

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
        assert!(e["hint"].as_str().unwrap().contains("region"), "{e}");
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
async fn writes_are_refused_in_read_only_mode() {
    let db = dynamodb().await;
    let table = unique("ddb-ro");
    create_simple(&db, &table).await;
    let mcp = Mcp::start(BIN, &[]).await;
    for tool in ["put_item", "update_item", "delete_item"] {
        let args = json!({"table": table, "item": {"pk": "a"}})
            .as_object()
            .cloned()
            .unwrap();
        let r = mcp
            .client
            .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
            .await;
        assert!(r.is_err(), "{tool} is not even listed read-only");
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
    for (tool, args) in [
        ("describe_table", json!({"table": other})),
        ("get_item", json!({"table": other, "key": {"pk": "x"}})),
        ("scan", json!({"table": other})),
        ("query", json!({"table": other, "partition_key": "x"})),
        ("put_item", json!({"table": other, "item": {"pk": "y"}})),
        (
            "update_item",
            json!({"table": other, "key": {"pk": "x"}, "update_expression": "SET a = :a",
                               "expression_attribute_values": {":a": 1}}),
        ),
        ("delete_item", json!({"table": other, "key": {"pk": "x"}})),
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
    let (names, _) = list_all_tables(&mcp).await;
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

async fn list_all_tables(mcp: &Mcp) -> (Vec<String>, usize) {
    let mut args = json!({"page_size": 1000});
    let (mut names, mut pages) = (Vec::new(), 0);
    loop {
        let r = mcp.ok("list_tables", args.clone()).await;
        pages += 1;
        names.extend(
            r["tables"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned()),
        );
        match r["next_cursor"].as_str() {
            Some(c) => args["cursor"] = json!(c),
            None => return (names, pages),
        }
    }
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

#[tokio::test]
async fn batch_get_items_across_tables() {
    let db = dynamodb().await;
    let orders = seeded_orders(&db, "ddb-batch", 30).await;
    let users = unique("ddb-batch-users");
    create_simple(&db, &users).await;
    seed(
        &db,
        &users,
        vec![HashMap::from([
            ("pk".to_owned(), s("u1")),
            ("name".to_owned(), s("Ann")),
        ])],
    )
    .await;
    let mcp = Mcp::start(BIN, &[]).await;

    let r = mcp
        .ok(
            "batch_get_items",
            json!({"requests": {
                orders.clone(): {"keys": [{"pk": "p1", "sk": 1}, {"pk": "p2", "sk": "2"}, {"pk": "p1", "sk": 2}],
                                 "projection": ["amount"], "consistent_read": true},
                users.clone(): {"keys": [{"pk": "u1"}, {"pk": "u9"}]}
            }}),
        )
        .await;
    assert_eq!(r["requested"], 5);
    assert_eq!(r["found"], 3);
    let mut got = sks(&r["items"][&orders]);
    got.sort_unstable();
    assert_eq!(got, [1, 2]);
    assert_eq!(
        r["items"][&orders][0].as_object().unwrap().len(),
        3,
        "projection plus the key attributes"
    );
    assert_eq!(r["items"][&users], json!([{"pk": "u1", "name": "Ann"}]));
    assert_eq!(r["not_found"][&orders], json!([{"pk": "p1", "sk": 2}]));
    assert_eq!(r["not_found"][&users], json!([{"pk": "u9"}]));
    assert_eq!(r["unprocessed"], json!({}));
    assert!(r["consumed_capacity"].as_f64().unwrap() > 0.0);

    let e = mcp
        .err(
            "batch_get_items",
            json!({"requests": {users.clone(): {"keys": [{"pk": "u1"}, {"pk": "u1"}]}}}),
        )
        .await;
    assert!(e["summary"].as_str().unwrap().contains("duplicate"), "{e}");
    let keys: Vec<Value> = (0..101).map(|i| json!({"pk": format!("u{i}")})).collect();
    let e = mcp
        .err("batch_get_items", json!({"requests": {users.clone(): {"keys": keys}}}))
        .await;
    assert!(e["summary"].as_str().unwrap().contains("at most 100"), "{e}");
    let e = mcp
        .err(
            "batch_get_items",
            json!({"requests": {orders.clone(): {"keys": [{"pk": "p1", "sk": 1}, {"pk": "p1"}]}}}),
        )
        .await;
    assert_eq!(e["field"], format!("requests.{orders}.keys[1]"));
    drop_table(&db, &orders).await;
    drop_table(&db, &users).await;
}

#[tokio::test]
async fn describe_table_caches_and_writes_refresh_it() {
    let db = dynamodb().await;
    let table = unique("ddb-desc");
    db.create_table()
        .table_name(&table)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .attribute_definitions(attr("alt", ScalarAttributeType::B))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("by-alt")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("alt", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .non_key_attributes("note")
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .provisioned_throughput(
            aws_sdk_dynamodb::types::ProvisionedThroughput::builder()
                .read_capacity_units(5)
                .write_capacity_units(3)
                .build()
                .unwrap(),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    db.update_time_to_live()
        .table_name(&table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("expires")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mcp = Mcp::start(BIN, &["--allow-writes"]).await;

    let d = mcp.ok("describe_table", json!({"table": table})).await;
    assert_eq!(d["from_cache"], false);
    assert_eq!(d["table"], table);
    assert_eq!(d["key_schema"]["partition_key"], json!({"name": "pk", "type": "S"}));
    assert_eq!(d["key_schema"]["sort_key"], json!({"name": "sk", "type": "N"}));
    let lsi = &d["local_secondary_indexes"][0];
    assert_eq!(lsi["name"], "by-alt");
    assert_eq!(lsi["sort_key"], json!({"name": "alt", "type": "B"}));
    assert_eq!(
        lsi["projection"],
        json!({"type": "INCLUDE", "non_key_attributes": ["note"]})
    );
    assert_eq!(d["billing_mode"], "PROVISIONED");
    assert_eq!(
        d["provisioned_throughput"],
        json!({"read_capacity_units": 5, "write_capacity_units": 3})
    );
    assert_eq!(d["time_to_live"], json!({"status": "ENABLED", "attribute": "expires"}));
    assert_eq!(d["stream"]["enabled"], true);
    assert_eq!(d["stream"]["view_type"], "NEW_AND_OLD_IMAGES");
    assert_eq!(d["item_count"], 0);
    assert_eq!(d["table_class"], "STANDARD");

    let d = mcp.ok("describe_table", json!({"table": table})).await;
    assert_eq!(d["from_cache"], true);
    // A binary sort key on the LSI: the key is typed from its schema (base64 text is binary).
    mcp.ok(
        "put_item",
        json!({"table": table, "item": {"pk": "a", "sk": 1, "alt": {"$B": "AQI="}, "note": "n"}}),
    )
    .await;
    let d = mcp.ok("describe_table", json!({"table": table})).await;
    assert_eq!(d["from_cache"], false, "a write forgets the cached description");
    let d = mcp.ok("describe_table", json!({"table": table, "refresh": true})).await;
    assert_eq!(d["from_cache"], false);
    let r = mcp
        .ok(
            "query",
            json!({"table": table, "index": "by-alt", "partition_key": "a", "sort_key": {"op": "=", "value": "AQI="}}),
        )
        .await;
    assert_eq!(
        r["items"],
        json!([{"pk": "a", "sk": 1, "alt": {"$B": "AQI="}, "note": "n"}])
    );
    drop_table(&db, &table).await;
}

#[tokio::test]
async fn list_tables_resources_and_completions() {
    let db = dynamodb().await;
    let prefix = unique("ddb-list");
    let names: Vec<String> = (0..5).map(|i| format!("{prefix}-{i}")).collect();
    futures::future::join_all(names.iter().map(|n| create_simple(&db, n))).await;
    let mcp = Mcp::start(BIN, &[]).await;

    // A prefix, in pages of 2: every table once, in order, and no cursor after the last page.
    let (mut got, mut args, mut pages) = (Vec::new(), json!({"prefix": prefix, "page_size": 2}), 0);
    loop {
        let r = mcp.ok("list_tables", args.clone()).await;
        pages += 1;
        assert!(r["tables"].as_array().unwrap().len() <= 2);
        got.extend(
            r["tables"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned()),
        );
        match r["next_cursor"].as_str() {
            Some(c) => args["cursor"] = json!(c),
            None => break,
        }
    }
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
