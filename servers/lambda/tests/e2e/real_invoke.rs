//! Invocation of a real function: the repository's test function (`tests/lambda-fn`, a
//! `lambda_runtime` binary) run by cargo-lambda's runtime emulator, reached by the server's real
//! SDK through the rig's [`RealFunction`] endpoint (the Invoke API on top of the emulator; the
//! control-plane calls before an invoke come from its fake). The function echoes its event and
//! its client context's `custom` map, fails on `{"fail": TYPE}`, sleeps on `{"sleep_ms": N}` and
//! logs a fake password on every call.

use std::time::{Duration, Instant};

use aws_mcp_tests::{
    Mcp,
    fake::{Reply, Request},
    fixtures::lambda::RealFunction,
    text, unique,
};
use serde_json::{Value, json};

use crate::support::{config, serve_configs};

const BIN: &str = "aws-lambda-mcp";

/// The test function, known to the control plane as `real-fn` (3 s timeout, Active).
async fn real_function() -> RealFunction {
    let rig = RealFunction::start().await;
    serve_configs(&rig.control, &[("real-fn", 3, "Active")]);
    rig
}

async fn server(rig: &RealFunction) -> Mcp {
    Mcp::builder(BIN)
        .args(&["--allow-invoke"])
        .everything_at(&rig.url())
        .start()
        .await
}

#[tokio::test]
async fn a_real_function_answers_with_its_payload_and_a_masked_log_tail() {
    let rig = real_function().await;
    let mcp = server(&rig).await;
    let marker = unique("order");
    let v = mcp
        .ok(
            "invoke_function",
            json!({"function": "real-fn", "payload": {"order": marker}, "log_tail": true}),
        )
        .await;
    assert_eq!(v["status_code"], 200, "{v}");
    assert_eq!(v["payload"]["event"], json!({"order": marker}), "{v}");
    assert_eq!(
        v["payload"]["custom"],
        json!({}),
        "no client context on a plain invoke: {v}"
    );
    assert_eq!(v["executed_version"], "$LATEST");
    // The tail is what the function printed during the call, decoded, with the password masked.
    let log = v["log_tail"].as_str().unwrap_or_else(|| panic!("no log tail: {v}"));
    assert!(
        log.contains("aws-mcp-test-fn") && log.contains(&marker) && log.contains("START RequestId"),
        "{log}"
    );
    assert!(!log.contains("hunter2"), "{log}");
    assert!(v["redacted"].as_u64().unwrap_or(0) >= 1, "{v}");
    // It really ran: the function printed the event itself.
    rig.wait_for_log(Duration::from_secs(5), |l| l.contains(&marker)).await;
    let sent = rig.invocations();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("x-amz-log-type"), Some("Tail"));
}

#[tokio::test]
async fn a_real_function_error_is_a_tool_error_with_its_type_and_message() {
    let rig = real_function().await;
    let mcp = server(&rig).await;
    let r = mcp
        .call(
            "invoke_function",
            json!({"function": "real-fn", "payload": {"fail": "InsufficientFunds", "message": "balance 3 is below 10"}}),
        )
        .await;
    assert_eq!(r.is_error, Some(true), "{r:?}");
    let e = &r.structured_content.as_ref().expect("structured error")["error"];
    assert_eq!(e["kind"], "function_error", "{e}");
    assert_eq!(e["code"], "InsufficientFunds");
    assert_eq!(e["error_type"], "InsufficientFunds");
    assert_eq!(e["error_message"], "balance 3 is below 10");
    assert_eq!(e["function_error"], "Unhandled");
    let t = text(&r);
    assert!(t.contains("InsufficientFunds: balance 3 is below 10"), "{t}");
    rig.wait_for_log(Duration::from_secs(5), |l| l.contains("failing with InsufficientFunds"))
        .await;
}

#[tokio::test]
async fn an_event_invocation_returns_its_status_and_the_function_runs_later() {
    let rig = real_function().await;
    let mcp = server(&rig).await;
    let marker = unique("queued");
    let v = mcp
        .ok(
            "invoke_function",
            json!({"function": "real-fn", "invocation_type": "Event", "payload": {"job": marker}}),
        )
        .await;
    assert_eq!(v["status_code"], 202, "{v}");
    assert_eq!(v["invocation_type"], "Event");
    assert!(v.get("payload").is_none(), "an Event invocation has no result: {v}");
    rig.wait_for_log(Duration::from_secs(10), |l| l.contains(&marker)).await;
    let v = mcp
        .ok(
            "invoke_function",
            json!({"function": "real-fn", "invocation_type": "DryRun"}),
        )
        .await;
    assert_eq!(v["status_code"], 204, "{v}");
    let kinds: Vec<Option<String>> = rig
        .invocations()
        .iter()
        .map(|i| i.header("x-amz-invocation-type").map(str::to_owned))
        .collect();
    assert_eq!(kinds, [Some("Event".to_owned()), Some("DryRun".to_owned())]);
}

#[tokio::test]
async fn the_per_call_timeout_stops_waiting_for_a_slow_real_function() {
    let rig = real_function().await;
    let mcp = server(&rig).await;
    let started = Instant::now();
    let e = mcp
        .err(
            "invoke_function",
            json!({"function": "real-fn", "payload": {"sleep_ms": 5000}, "timeout_secs": 1}),
        )
        .await;
    let waited = started.elapsed();
    // Well before the function answers (5 s).
    assert!(waited < Duration::from_millis(3_500), "waited {waited:?}");
    let summary = e["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("did not answer within 1 s") && summary.contains("its own timeout is 3 s"),
        "{e}"
    );
    // The function did start; the server is not stuck: the next call (queued behind the sleeping
    // one, as on one warm instance) answers.
    rig.wait_for_log(Duration::from_secs(5), |l| l.contains("sleep_ms"))
        .await;
    let v = mcp
        .ok(
            "invoke_function",
            json!({"function": "real-fn", "payload": {"after": "timeout"}}),
        )
        .await;
    assert_eq!(v["payload"]["event"], json!({"after": "timeout"}), "{v}");
}

#[tokio::test]
async fn a_gateway_multi_tool_function_receives_its_tool_name_through_functions_as_tools() {
    let rig = RealFunction::start().await;
    let function = "weather";
    rig.control
        .on_json("ListFunctions", "GET /2015-03-31/functions", |_: &Request| {
            Reply::json(json!({"Functions": [config("weather", 3, "Active")]}))
        });
    rig.control.on_json(
        "ListTags",
        "GET /2017-03-31/tags/{arn}",
        Reply::json(json!({"Tags": {}})),
    );
    serve_configs(&rig.control, &[("weather", 3, "Active")]);
    // AgentCore Gateway's Lambda-target tool definitions: two tools in one function.
    let file = std::env::temp_dir().join(format!("{}.json", unique("real-tool-schemas")));
    let defs = json!({function: {"inlinePayload": [
        {"name": "get_forecast", "description": "Forecast for a city",
         "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
        {"name": "get_alerts", "description": "Weather alerts", "inputSchema": {"type": "object", "properties": {}}},
    ]}});
    std::fs::write(&file, defs.to_string()).expect("write the tool definitions");
    let path = file.to_string_lossy().to_string();
    let mcp = Mcp::builder(BIN)
        .args(&["--allow-invoke", "--function-tools", "--tool-schemas", &path])
        .everything_at(&rig.url())
        .start()
        .await;
    let (forecast, alerts) = (format!("{function}___get_forecast"), format!("{function}___get_alerts"));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let names = mcp.tool_names().await;
        if names.contains(&forecast) && names.contains(&alerts) {
            break;
        }
        assert!(Instant::now() < deadline, "the weather tools never appeared: {names:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let result = |r: rmcp::model::CallToolResult| -> Value {
        assert_ne!(r.is_error, Some(true), "{r:?}");
        r.structured_content.expect("structured result")["result"].clone()
    };
    let got = result(mcp.call(&forecast, json!({"city": "Paris"})).await);
    assert_eq!(
        got["event"],
        json!({"city": "Paris"}),
        "the bare arguments are the event: {got}"
    );
    assert_eq!(got["custom"]["bedrockAgentCoreToolName"], forecast.as_str(), "{got}");
    assert_eq!(got["custom"]["bedrockAgentCoreMessageVersion"], "1.0", "{got}");
    let got = result(mcp.call(&alerts, json!({})).await);
    assert_eq!(got["custom"]["bedrockAgentCoreToolName"], alerts.as_str(), "{got}");
    assert_eq!(rig.invocations().len(), 2);
    std::fs::remove_file(&file).ok();
}
