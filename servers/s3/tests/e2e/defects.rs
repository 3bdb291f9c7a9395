//! Every request answered (shared layer §7): the calls that once got no answer or a panic, sent as
//! a hostile client sent them (raw JSON where a client library would refuse), each answered with
//! a JSON-RPC error carrying its id or a tool error naming the argument, and the server keeps
//! serving after each.

use aws_mcp_tests::{Mcp, fixtures::s3 as fx, unique};
use serde_json::{Value, json};

use crate::BIN;

fn answer(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("answer is not JSON ({e}): {line:.300}"))
}

#[tokio::test]
async fn unparsable_requests_get_a_parse_error_with_their_id() {
    let mcp = Mcp::start(BIN, &[]).await;
    let nested = format!("{}1{}", "[".repeat(130), "]".repeat(130));
    let cases = [
        (
            format!(
                r#"{{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{{"name":"list_objects","arguments":{{"bucket":"b","prefix":{nested}}}}}}}"#
            ),
            json!(21),
        ),
        (
            r#"{"jsonrpc":"2.0","id":"t-22","method":"tools/call","params":{"name":"list_buckets","argu"#.to_owned(),
            json!("t-22"),
        ),
        (
            format!(
                r#"{{"jsonrpc":"2.0","id":23,"method":"tools/call","params":{{"name":"list_buckets","arguments":{{"prefix":{}1{}}}}}}}"#,
                "[".repeat(200),
                "]".repeat(200)
            ),
            json!(23),
        ),
        ("this is not JSON".to_owned(), Value::Null),
        ("{not json".to_owned(), Value::Null),
    ];
    for (line, id) in cases {
        let a = answer(&mcp.call_raw(&line).await);
        assert_eq!(a["id"], id, "{a}");
        assert_eq!(a["error"]["code"], -32700, "{a}");
        let ok = answer(&mcp.call_raw(r#"{"jsonrpc":"2.0","id":99,"method":"tools/list"}"#).await);
        assert!(ok["result"]["tools"].as_array().is_some_and(|t| !t.is_empty()), "{ok}");
        // A real caching hint: the list only changes with a restart.
        assert!(ok["result"]["ttlMs"].as_u64().is_some_and(|t| t > 0), "{ok}");
    }
}

#[tokio::test]
async fn a_lone_surrogate_is_a_tool_error_naming_the_argument() {
    let mcp = Mcp::start(BIN, &[]).await;
    let line = r#"{"jsonrpc":"2.0","id":31,"method":"tools/call","params":{"name":"get_bucket_info","arguments":{"bucket":"a\ud800b"}}}"#;
    let a = answer(&mcp.call_raw(line).await);
    assert_eq!(a["id"], 31, "{a}");
    assert_eq!(a["result"]["isError"], true, "{a}");
    assert_eq!(a["result"]["structuredContent"]["error"]["field"], "bucket", "{a}");
    // In a filter it is a result: no bucket name holds the replacement character it decodes to.
    let line = r#"{"jsonrpc":"2.0","id":32,"method":"tools/call","params":{"name":"list_buckets","arguments":{"prefix":"\ud800"}}}"#;
    let a = answer(&mcp.call_raw(line).await);
    assert_eq!(a["id"], 32, "{a}");
    assert_eq!(a["result"]["isError"], false, "{a}");
    assert_eq!(a["result"]["structuredContent"]["buckets"], json!([]), "{a}");
    // The rmcp session (another process of the same server) is unaffected.
    assert!(mcp.ok("list_buckets", json!({"page_size": 1})).await.is_object());
}

#[tokio::test]
async fn an_unknown_method_is_a_method_not_found_error_with_its_id() {
    let mcp = Mcp::start(BIN, &[]).await;
    let a = answer(
        &mcp.call_raw(r#"{"jsonrpc":"2.0","id":9,"method":"no/such/method"}"#)
            .await,
    );
    assert_eq!(a["jsonrpc"], "2.0", "{a}");
    assert_eq!(a["id"], 9, "{a}");
    assert_eq!(a["error"]["code"], -32601, "{a}");
    let ok = answer(&mcp.call_raw(r#"{"jsonrpc":"2.0","id":10,"method":"tools/list"}"#).await);
    assert!(ok["result"]["tools"].as_array().is_some_and(|t| !t.is_empty()), "{ok}");
}

#[tokio::test]
async fn oversized_names_and_values_are_refused_before_any_call() {
    let bucket = fx::bucket_with(&[("a.txt", b"a", "text/plain")]).await;
    let mcp = Mcp::start(BIN, &["--allow-writes"]).await;
    let long = "k".repeat(70_000);
    let cases = [
        ("get_object", json!({"bucket": bucket, "key": long}), "key"),
        (
            "head_object",
            json!({"bucket": bucket, "key": "a.txt", "version_id": long}),
            "version_id",
        ),
        ("presign_url", json!({"bucket": bucket, "key": long}), "key"),
        ("list_objects", json!({"bucket": bucket, "prefix": long}), "prefix"),
        (
            "list_objects",
            json!({"bucket": bucket, "start_after": long}),
            "start_after",
        ),
        (
            "list_objects",
            json!({"bucket": bucket, "delimiter": long}),
            "delimiter",
        ),
        (
            "find_objects",
            json!({"bucket": bucket, "pattern": "*".repeat(1_000_000)}),
            "pattern",
        ),
        (
            "find_objects",
            json!({"bucket": bucket, "pattern": "*", "prefix": long}),
            "prefix",
        ),
        ("list_buckets", json!({"prefix": long}), "prefix"),
        ("get_bucket_info", json!({"bucket": "b".repeat(1_000_000)}), "bucket"),
        ("put_object", json!({"bucket": bucket, "key": long, "text": "x"}), "key"),
        (
            "copy_object",
            json!({"source_bucket": bucket, "source_key": long, "bucket": bucket, "key": "c"}),
            "source_key",
        ),
        (
            "delete_object",
            json!({"bucket": bucket, "key": "a.txt", "version_id": long}),
            "version_id",
        ),
    ];
    for (tool, args, field) in cases {
        let e = mcp.err(tool, args).await;
        assert_eq!(e["kind"], "invalid_argument", "{tool}: {e}");
        assert_eq!(e["field"], field, "{tool}: {e}");
    }
    // The object is untouched and the server still serves.
    let got = mcp.ok("get_object", json!({"bucket": bucket, "key": "a.txt"})).await;
    assert_eq!(got["text"], "a");
}

#[tokio::test]
async fn keys_with_control_characters_are_listed_and_found() {
    let odd = "ctl/line\u{1}break\ttab\u{7f}.txt";
    let bucket = fx::bucket_named(
        "ctl",
        &[(odd, b"x", "text/plain"), ("ctl/plain.txt", b"y", "text/plain")],
    )
    .await;
    let mcp = Mcp::start(BIN, &[]).await;
    let objects = mcp
        .pages("list_objects", json!({"bucket": bucket, "prefix": "ctl/"}), "objects")
        .await;
    let keys: Vec<&str> = objects.iter().filter_map(|o| o["key"].as_str()).collect();
    assert_eq!(keys, [odd, "ctl/plain.txt"]);
    // A prefix holding a control character works too.
    let objects = mcp
        .pages(
            "list_objects",
            json!({"bucket": bucket, "prefix": "ctl/line\u{1}"}),
            "objects",
        )
        .await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    let found = mcp
        .ok("find_objects", json!({"bucket": bucket, "pattern": "*break*"}))
        .await;
    assert_eq!(found["matches"][0]["key"], odd, "{found}");
    let missing = unique("missing");
    let e = mcp.err("list_objects", json!({"bucket": missing})).await;
    assert_eq!(e["code"], "NoSuchBucket", "{e}");
}
