//! PartiQL: SELECT with parameters, writes refused read-only (whatever the spelling), writes with the flag.

use std::collections::HashMap;

use aws_mcp_tests::{
    Mcp, dynamodb,
    fixtures::dynamodb::{create_simple, drop_table, n, s, seed, seeded_orders},
    unique,
};
use serde_json::{Value, json};

use crate::{BIN, sks};

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
