//! MCP at the protocol level, with raw JSON-RPC lines a client library would refuse to send:
//! the server answers each with a JSON-RPC error (or ignores it) and keeps serving.

use aws_mcp_tests::Mcp;
use serde_json::{Value, json};

use crate::BIN;

#[tokio::test]
async fn malformed_json_rpc_lines_do_not_stop_the_server() {
    let mcp = Mcp::start(BIN, &[]).await;
    let nested = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let lines = [
        "{not json".to_owned(),
        r#"{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "list_buckets", "arguments": {"prefix": "\ud800"}}}"#.to_owned(),
        format!(r#"{{"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {{"name": "list_buckets", "arguments": {{"prefix": {nested}}}}}}}"#),
        r#"{"jsonrpc": "2.0", "id": 9, "method": "no/such/method"}"#.to_owned(),
    ];
    for (i, line) in lines.iter().enumerate() {
        // Each line gets a valid JSON-RPC answer (or none); invalid JSON and an unknown method
        // are errors.
        if let Ok(answer) = mcp.try_call_raw(line).await {
            let v: Value =
                serde_json::from_str(&answer).unwrap_or_else(|e| panic!("answer is not JSON ({e}): {answer}"));
            assert_eq!(v["jsonrpc"], "2.0", "{answer}");
            if i == 0 || i == 3 {
                assert!(v.get("error").is_some(), "{line:.80} must be refused: {answer}");
            }
        }
        // The same process still answers a well-formed request.
        let ok = mcp
            .call_raw(r#"{"jsonrpc": "2.0", "id": 100, "method": "tools/list"}"#)
            .await;
        let v: Value = serde_json::from_str(&ok).unwrap();
        assert!(
            v["result"]["tools"].as_array().is_some_and(|t| !t.is_empty()),
            "after {line:.80}: {ok}"
        );
    }
    // The rmcp session is unaffected (a separate process answers the raw lines).
    assert!(mcp.ok("list_buckets", json!({"page_size": 1})).await.is_object());
}
