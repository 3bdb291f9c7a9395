//! `invoke_function` (only with `--allow-invoke`).

use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Output, ToolError};

use crate::{
    LambdaServer,
    invoke::{Failure, InvocationType, Request, payload_value},
};

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub(crate) struct InvokeParams {
    /// Function name or ARN.
    pub function: String,
    /// JSON event (default {}).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// Version or alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    /// RequestResponse waits for the result (default); Event queues it; DryRun only checks permission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_type: Option<InvocationType>,
    /// Return the end of the function's log (RequestResponse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<bool>,
    /// Seconds to wait (default and most: the function's timeout + 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 915))]
    pub timeout_secs: Option<u32>,
}

#[tool_router(router = invoke_tools, vis = "pub(crate)")]
impl LambdaServer {
    /// Run a function with a JSON payload. A function error is a tool error with its type, message, stack trace and log tail.
    #[tool(annotations(
        title = "Invoke function",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    async fn invoke_function(&self, Parameters(p): Parameters<InvokeParams>) -> Result<Output, Failure> {
        let f = self.function_arg("function", &p.function)?;
        let qualifier = Self::qualifier_arg(p.qualifier.as_deref())?;
        let kind = p.invocation_type.unwrap_or_default();
        let payload = serde_json::to_vec(p.payload.as_ref().unwrap_or(&json!({})))
            .map_err(|e| ToolError::invalid("payload", format!("cannot be encoded as JSON: {e}")))?;
        let inv = self
            .invoke(Request {
                function: &f,
                qualifier: qualifier.as_deref(),
                payload: &payload,
                kind,
                log_tail: p.log_tail.unwrap_or(false),
                timeout_secs: p.timeout_secs.map(u64::from),
                client_context: None,
            })
            .await?;
        if inv.function_error.is_some() {
            return Err(Failure::Function(Box::new(self.failure(&f.name, &inv))));
        }
        let mut out = json!({
            "function": f.name,
            "invocation_type": kind.as_str(),
            "status_code": inv.status,
            "executed_version": inv.executed_version,
        });
        match kind {
            InvocationType::RequestResponse => {
                let (payload, format) = payload_value(&inv.payload);
                out["payload"] = payload;
                out["payload_bytes"] = json!(inv.payload.len());
                if format != "json" {
                    out["payload_format"] = json!(format);
                }
                if let Some(log) = inv.log_tail {
                    out["log_tail"] = json!(log);
                    out["redacted"] = json!(inv.redacted);
                }
                out["timeout_secs"] = json!(inv.wait_secs);
            }
            InvocationType::Event => {
                out["note"] = json!(
                    "queued: Lambda runs it asynchronously; its result goes to the function's logs and destinations"
                );
            }
            InvocationType::DryRun => {
                out["note"] = json!("permission and parameters check only: nothing ran");
            }
        }
        if let Some(note) = inv.note {
            out["timeout_note"] = json!(note);
        }
        Ok(Output(out))
    }
}
