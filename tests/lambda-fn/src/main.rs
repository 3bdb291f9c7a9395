//! A Lambda function for the end-to-end tests, driven by its event:
//!
//! - any event is answered with `{"event": <the event>, "custom": <the client context's custom map>,
//!   "function": <its name>}`, so a test sees what arrived, including the AgentCore Gateway's
//!   `bedrockAgentCoreToolName`;
//! - `{"sleep_ms": N}` sleeps first (per-call timeouts);
//! - `{"fail": "SomeError", "message": "…"}` fails with that error type and message (the runtime
//!   reports it as `errorType`/`errorMessage` with `X-Amz-Function-Error: Unhandled`).
//!
//! Every invocation logs a line holding a fake secret (`password=hunter2`) to stderr, so a log
//! tail can be checked for redaction.

use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(handle)).await
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, ctx) = event.into_parts();
    eprintln!(
        "aws-mcp-test-fn {}: event {payload} (connecting with password=hunter2)",
        ctx.request_id
    );
    if let Some(ms) = payload.get("sleep_ms").and_then(Value::as_u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if let Some(kind) = payload.get("fail").and_then(Value::as_str) {
        let message = payload
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("the test function was asked to fail");
        eprintln!("aws-mcp-test-fn {}: failing with {kind}", ctx.request_id);
        return Err(Diagnostic {
            error_type: kind.to_owned(),
            error_message: message.to_owned(),
        });
    }
    let custom = ctx.client_context.map(|c| c.custom).unwrap_or_default();
    Ok(json!({
        "event": payload,
        "custom": custom,
        "function": ctx.env_config.function_name,
    }))
}
