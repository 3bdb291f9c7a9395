//! Arguments valid alone but contradictory together, per server.

use serde_json::{Value, json};

/// Arguments that are each valid but contradict each other, per server (tool, patch over the
/// sample arguments, what). Tools a server does not list are skipped.
pub fn contradictions(bin: &str) -> Vec<(&'static str, Value, &'static str)> {
    match bin {
        "aws-s3-mcp" => vec![
            (
                "put_object",
                json!({"text": "a", "base64": "YQ=="}),
                "text and base64 together",
            ),
            (
                "get_object",
                json!({"range_start": 1_000_000_000_000u64, "max_bytes": 1}),
                "range start past any object",
            ),
            (
                "copy_object",
                json!({"source_bucket": "b", "source_key": "k", "bucket": "b", "key": "k"}),
                "copy onto itself",
            ),
            (
                "list_objects",
                json!({"prefix": "b/", "start_after": "z"}),
                "start_after beyond the prefix",
            ),
            (
                "find_objects",
                json!({"pattern": "a/**", "prefix": "b/"}),
                "pattern outside the prefix",
            ),
            (
                "get_object",
                json!({"version_id": "v1", "range_start": 0, "max_bytes": 0}),
                "zero bytes of a version",
            ),
        ],
        "aws-dynamodb-mcp" => vec![
            (
                "query",
                json!({"index": "gsi", "consistent_read": true}),
                "consistent read on an index",
            ),
            (
                "query",
                json!({"partition_key": "a", "key_condition_expression": "pk = :a"}),
                "partition_key and key_condition_expression",
            ),
            (
                "scan",
                json!({"segment": 5, "total_segments": 2}),
                "segment beyond total_segments",
            ),
            ("scan", json!({"segment": 0}), "segment without total_segments"),
            (
                "scan",
                json!({"projection": ["a"], "projection_expression": "b"}),
                "projection and projection_expression",
            ),
            (
                "execute_partiql",
                json!({"statement": "SELECT * FROM \"t\" WHERE pk = ?", "parameters": [1, 2, 3]}),
                "more parameters than placeholders",
            ),
            (
                "execute_partiql",
                json!({"statement": "DELETE FROM \"t\" WHERE pk = 'a'", "consistent_read": true}),
                "a write with consistent_read",
            ),
            (
                "update_item",
                json!({"update_expression": "SET a = :a", "expression_attribute_values": {}}),
                "a placeholder with no value",
            ),
        ],
        "aws-lambda-mcp" => vec![
            (
                "invoke_function",
                json!({"invocation_type": "Event", "log_tail": true}),
                "Event with log_tail",
            ),
            (
                "invoke_function",
                json!({"invocation_type": "DryRun", "timeout_secs": 0}),
                "DryRun with a zero timeout",
            ),
            (
                "get_function",
                json!({"function": "f:1", "qualifier": "2"}),
                "two qualifiers",
            ),
            (
                "list_aliases",
                json!({"function": "arn:aws:lambda:eu-west-1:123456789012:function:f", "region": "us-east-1"}),
                "an ARN of another region",
            ),
        ],
        "aws-logs-mcp" => vec![
            (
                "describe_log_groups",
                json!({"prefix": "a", "contains": "b"}),
                "prefix and contains",
            ),
            (
                "describe_log_streams",
                json!({"order": "last_event", "prefix": "x"}),
                "prefix with order last_event",
            ),
            (
                "filter_log_events",
                json!({"start": "now", "end": "7d"}),
                "start after end",
            ),
            (
                "run_insights_query",
                json!({"start": "2026-01-02", "end": "2026-01-01"}),
                "start after end",
            ),
            (
                "top_error_patterns",
                json!({"start": "1h", "end": "2d"}),
                "start after end",
            ),
            ("tail_log_stream", json!({"start": "now+1d"}), "start in the future"),
        ],
        "aws-bedrock-kb-mcp" => vec![
            (
                "retrieve",
                json!({"rerank_count": 50, "number_of_results": 5}),
                "rerank more than retrieved",
            ),
            (
                "retrieve",
                json!({"rerank_count": 5}),
                "rerank_count without a rerank model",
            ),
            (
                "retrieve",
                json!({"search_type": "SEMANTIC", "filter": {"equals": {"key": "a", "value": 1}, "orAll": []}}),
                "two filter operators at once",
            ),
            (
                "retrieve_and_generate",
                json!({"session_id": "s-1", "number_of_results": 100}),
                "a session of another knowledge base",
            ),
        ],
        "aws-sts-mcp" => vec![
            (
                "inventory",
                json!({"accounts": ["nobody"], "regions": ["us-east-1", "us-east-1"]}),
                "unknown account, repeated region",
            ),
            (
                "find_resource",
                json!({"types": [], "regions": []}),
                "no types and no regions",
            ),
        ],
        _ => vec![],
    }
}
