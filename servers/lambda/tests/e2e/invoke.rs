//! invoke_function through the rig's fake Lambda endpoint, which speaks Invoke's REST-JSON wire
//! format (X-Amz-Function-Error, X-Amz-Log-Result, X-Amz-Executed-Version) with the real SDK on
//! the server side. LocalStack cannot run functions without Docker.

use std::time::{Duration, Instant};

use aws_mcp_tests::{
    Mcp,
    fake::{Fake, Reply, Request},
};
use base64::Engine;
use serde_json::json;

use crate::support::serve_configs;

const BIN: &str = "aws-lambda-mcp";
const LOG: &str = "START RequestId: 42 Version: $LATEST\nconnecting with password=hunter2secret\nEND RequestId: 42\n";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// What each fake function does when invoked.
fn invoked(r: &Request) -> Reply {
    let name = r.param("name").unwrap_or_default().to_owned();
    let tail = r.header("X-Amz-Log-Type") == Some("Tail");
    let with_log = |reply: Reply| {
        if tail {
            reply.header("X-Amz-Log-Result", &b64(LOG))
        } else {
            reply
        }
    };
    match r.header("X-Amz-Invocation-Type") {
        Some("Event") => return Reply::empty(202),
        Some("DryRun") => return Reply::empty(204),
        _ => {}
    }
    match name.as_str() {
        "echo" => with_log(Reply::raw(200, Some("application/json"), r.body.clone()))
            .header("X-Amz-Executed-Version", "$LATEST"),
        "boom" => with_log(Reply::json(json!({
            "errorType": "ValueError",
            "errorMessage": "amount must be positive",
            "stackTrace": ["  File \"/var/task/index.py\", line 3, in handler"],
        })))
        .header("X-Amz-Function-Error", "Unhandled"),
        "slow" => Reply::delay(Duration::from_secs(30), Reply::json(json!({"late": true}))),
        "long" => Reply::delay(Duration::from_millis(2_500), Reply::json(json!({"done": true}))),
        "throttled" => Reply::error(429, "TooManyRequestsException", "Rate Exceeded."),
        "big" => Reply::json(json!({"blob": "x".repeat(300_000)})),
        _ => Reply::error(404, "ResourceNotFoundException", "Function not found"),
    }
}

async fn fake_lambda() -> Fake {
    let fake = Fake::start().await;
    serve_configs(
        &fake,
        &[
            ("echo", 3, "Active"),
            ("boom", 3, "Active"),
            ("slow", 2, "Active"),
            ("long", 5, "Active"),
            ("throttled", 3, "Active"),
            ("big", 3, "Active"),
            ("pending", 3, "Pending"),
            ("failed", 3, "Failed"),
        ],
    );
    fake.on_json("Invoke", "POST /2015-03-31/functions/{name}/invocations", invoked);
    fake
}

async fn server(fake: &Fake) -> Mcp {
    Mcp::builder(BIN)
        .args(&["--allow-invoke"])
        .everything_at(&fake.url())
        .start()
        .await
}

#[tokio::test]
async fn a_successful_invoke_returns_the_payload_version_and_a_masked_log_tail() {
    let fake = fake_lambda().await;
    let mcp = server(&fake).await;
    let v = mcp
        .ok(
            "invoke_function",
            json!({"function": "echo", "payload": {"order": 7}, "log_tail": true}),
        )
        .await;
    assert_eq!(v["payload"], json!({"order": 7}));
    assert_eq!(v["status_code"], 200);
    assert_eq!(v["executed_version"], "$LATEST");
    assert_eq!(v["timeout_secs"], 3 + 15);
    let log = v["log_tail"].as_str().unwrap();
    assert!(
        log.contains("START RequestId: 42") && !log.contains("hunter2secret"),
        "{log}"
    );
    assert!(v["redacted"].as_u64().unwrap() >= 1);
    let sent = &fake.requests_for("Invoke")[0];
    assert_eq!(sent.json(), &json!({"order": 7}));
    assert_eq!(sent.header("X-Amz-Log-Type"), Some("Tail"));
    // The function's state and timeout are read once and cached while it is Active.
    mcp.ok("invoke_function", json!({"function": "echo"})).await;
    assert_eq!(fake.requests_for("GetFunctionConfiguration").len(), 1);
    assert_eq!(fake.requests_for("Invoke")[1].json(), &json!({}));
}

#[tokio::test]
async fn a_function_error_is_a_tool_error_with_type_message_trace_and_log() {
    let fake = fake_lambda().await;
    let mcp = server(&fake).await;
    let r = mcp
        .call(
            "invoke_function",
            json!({"function": "boom", "payload": {"amount": -1}, "log_tail": true}),
        )
        .await;
    assert_eq!(r.is_error, Some(true));
    let e = &r.structured_content.as_ref().unwrap()["error"];
    assert_eq!(e["kind"], "function_error");
    assert_eq!(e["code"], "ValueError");
    assert_eq!(e["function_error"], "Unhandled");
    assert_eq!(e["error_message"], "amount must be positive");
    assert!(e["stack_trace"][0].as_str().unwrap().contains("index.py"));
    assert!(e["log_tail"].as_str().unwrap().contains("END RequestId: 42"));
    assert!(
        !r.structured_content
            .as_ref()
            .unwrap()
            .to_string()
            .contains("hunter2secret")
    );
    let text = aws_mcp_tests::text(&r);
    assert!(
        text.contains("ValueError: amount must be positive") && text.contains("log tail"),
        "{text}"
    );
}

#[tokio::test]
async fn event_and_dry_run_invocations() {
    let fake = fake_lambda().await;
    let mcp = server(&fake).await;
    let v = mcp
        .ok(
            "invoke_function",
            json!({"function": "echo", "invocation_type": "Event", "payload": {"a": 1}}),
        )
        .await;
    assert_eq!(v["status_code"], 202);
    assert!(v.get("payload").is_none());
    let v = mcp
        .ok(
            "invoke_function",
            json!({"function": "echo", "invocation_type": "DryRun"}),
        )
        .await;
    assert_eq!(v["status_code"], 204);
    let kinds: Vec<Option<String>> = fake
        .requests_for("Invoke")
        .iter()
        .map(|r| r.header("X-Amz-Invocation-Type").map(str::to_owned))
        .collect();
    assert_eq!(kinds, vec![Some("Event".into()), Some("DryRun".into())]);
}

#[tokio::test]
async fn the_per_call_timeout_is_kept_and_bounded_by_the_function_timeout() {
    let fake = fake_lambda().await;
    let mcp = server(&fake).await;
    let started = Instant::now();
    let e = mcp
        .err("invoke_function", json!({"function": "slow", "timeout_secs": 1}))
        .await;
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    let summary = e["summary"].as_str().unwrap();
    assert!(
        summary.contains("did not answer within 1 s") && summary.contains("Event"),
        "{summary}"
    );
    let v = mcp
        .ok("invoke_function", json!({"function": "echo", "timeout_secs": 900}))
        .await;
    assert_eq!(v["timeout_secs"], 3 + 15);
    assert!(v["timeout_note"].as_str().unwrap().contains("lowered"), "{v}");
}

#[tokio::test]
async fn a_long_function_is_not_cut_off_by_the_client_operation_timeout() {
    let fake = fake_lambda().await;
    // Every other call gives up after 1 s; the invocation waits for the function's 5 s timeout.
    let mcp = Mcp::builder(BIN)
        .args(&["--allow-invoke"])
        .env("MCP_OPERATION_TIMEOUT_SECS", "1")
        .everything_at(&fake.url())
        .start()
        .await;
    let v = mcp.ok("invoke_function", json!({"function": "long"})).await;
    assert_eq!(v["payload"], json!({"done": true}));
}

#[tokio::test]
async fn a_payload_over_the_limit_is_refused_before_anything_is_sent() {
    let fake = fake_lambda().await;
    let mcp = server(&fake).await;
    let big = "p".repeat(6 * 1024 * 1024 + 10);
    let e = mcp
        .err("invoke_function", json!({"function": "echo", "payload": big}))
        .await;
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_argument"), Some("payload"))
    );
    let async_big = "p".repeat(1024 * 1024 + 10);
    let e = mcp
        .err(
            "invoke_function",
            json!({"function": "echo", "payload": async_big, "invocation_type": "Event"}),
        )
        .await;
    assert!(e["summary"].as_str().unwrap().contains("1 MB"), "{e}");
    assert_eq!(fake.count(), 0, "nothing may reach AWS: {:?}", fake.requests());
}

#[tokio::test]
async fn throttling_and_functions_that_are_not_active_are_clear_errors() {
    let fake = fake_lambda().await;
    let mcp = server(&fake).await;
    let e = mcp.err("invoke_function", json!({"function": "throttled"})).await;
    assert_eq!(e["code"], "TooManyRequestsException");
    assert!(e["hint"].as_str().unwrap().contains("not retried"), "{e}");
    assert_eq!(fake.requests_for("Invoke").len(), 1, "an invocation is never retried");
    let e = mcp.err("invoke_function", json!({"function": "pending"})).await;
    assert!(e["summary"].as_str().unwrap().contains("Pending"), "{e}");
    let e = mcp.err("invoke_function", json!({"function": "failed"})).await;
    assert!(e["summary"].as_str().unwrap().contains("could not be pulled"), "{e}");
    assert_eq!(
        fake.requests_for("Invoke").len(),
        1,
        "inactive functions are not invoked"
    );
}

#[tokio::test]
async fn a_large_payload_is_clipped_with_a_note() {
    let fake = fake_lambda().await;
    let mcp = server(&fake).await;
    let v = mcp.ok("invoke_function", json!({"function": "big"})).await;
    assert!(v["payload_bytes"].as_u64().unwrap() > 300_000);
    let clipped = &v["truncated"]["clipped_strings"][0];
    assert_eq!(clipped["path"], "/payload/blob", "{v:.500}");
    assert!(v.to_string().len() < 100_000);
}

#[tokio::test]
async fn invoke_function_is_absent_without_allow_invoke() {
    let fake = fake_lambda().await;
    let mcp = Mcp::builder(BIN).everything_at(&fake.url()).start().await;
    assert!(!mcp.tool_names().await.contains(&"invoke_function".to_owned()));
    let e = mcp.err("invoke_function", json!({"function": "echo"})).await;
    assert_eq!(e["kind"], "not_enabled");
    assert!(e["summary"].as_str().unwrap().contains("--allow-invoke"));
    assert_eq!(fake.count(), 0);
}
