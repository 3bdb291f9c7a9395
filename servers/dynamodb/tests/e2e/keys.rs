//! Keys and values: key conditions, the GSI and LSI, 38-digit numbers, batch gets, the describe cache.

use std::collections::{BTreeSet, HashMap};

use aws_mcp_tests::{
    Mcp, assert_each_once, dynamodb,
    fixtures::dynamodb::{attr, create_orders, create_simple, drop_table, key, n, s, seed, seeded_orders},
    unique,
};
use aws_sdk_dynamodb::types::{
    AttributeValue, KeyType, LocalSecondaryIndex, Projection, ProjectionType, ScalarAttributeType, StreamSpecification,
    StreamViewType, TimeToLiveSpecification,
};
use serde_json::{Value, json};

use crate::{BIN, all_pages, sks};

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
