//! One invocation path for `invoke_function` and functions-as-tools:
//!
//! 1. the payload is checked against Lambda's documented limits (6 MB synchronous, 1 MB `Event`)
//!    before anything is sent;
//! 2. the function's state and timeout are read (cached while it is `Active`): a `Pending` or
//!    `Failed` function is a clear error, not an invocation;
//! 3. a synchronous call waits at most the caller's `timeout_secs`, never longer than the
//!    function's own timeout plus a margin, and the SDK's timeouts are raised to match so a long
//!    function is not cut off by the client's default operation timeout;
//! 4. an invocation is never retried (a retry could run the function twice);
//! 5. the log tail is decoded and redacted; a function error keeps its type, message and trace.

use std::time::Duration;

use aws_sdk_lambda::{
    config::{retry::RetryConfig, timeout::TimeoutConfig},
    types::{InvocationType as AwsInvocationType, LogType},
};
use base64::Engine;
use rmcp::{
    ErrorData,
    handler::server::tool::IntoCallToolResult,
    model::{CallToolResponse, CallToolResult, ContentBlock},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{ToolError, aws::call, context};

use crate::{GET_FUNCTION_CONFIGURATION, INVOKE, LambdaServer, names::FunctionRef};

/// Lambda's documented payload limits (request and response).
pub(crate) const SYNC_LIMIT: usize = 6 * 1024 * 1024;
pub(crate) const ASYNC_LIMIT: usize = 1024 * 1024;
/// Waited beyond the function's own timeout: a cold start's init phase (up to 10 s) and the network.
pub(crate) const MARGIN_SECS: u64 = 15;
/// Lambda's default function timeout, when the configuration does not say.
const DEFAULT_FUNCTION_TIMEOUT: u64 = 3;
/// Longest error message or stack trace line kept in a function error.
const MAX_ERROR_TEXT: usize = 4_000;

/// Inlined in the tool schema, so argument checks see the allowed values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[schemars(inline)]
pub(crate) enum InvocationType {
    #[default]
    RequestResponse,
    Event,
    DryRun,
}

impl InvocationType {
    fn aws(self) -> AwsInvocationType {
        match self {
            Self::RequestResponse => AwsInvocationType::RequestResponse,
            Self::Event => AwsInvocationType::Event,
            Self::DryRun => AwsInvocationType::DryRun,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::RequestResponse => "RequestResponse",
            Self::Event => "Event",
            Self::DryRun => "DryRun",
        }
    }
}

/// What an invocation needs to know about the function.
#[derive(Clone, Debug)]
pub(crate) struct FunctionConfig {
    pub timeout_s: u64,
    pub state: Option<String>,
    pub state_reason: Option<String>,
}

pub(crate) struct Request<'a> {
    pub function: &'a FunctionRef,
    pub qualifier: Option<&'a str>,
    pub payload: &'a [u8],
    pub kind: InvocationType,
    pub log_tail: bool,
    pub timeout_secs: Option<u64>,
    /// Base64 JSON client context (functions-as-tools send the Gateway's).
    pub client_context: Option<String>,
}

pub(crate) struct Invoked {
    pub status: i32,
    pub executed_version: Option<String>,
    pub payload: Vec<u8>,
    pub function_error: Option<String>,
    /// Decoded and redacted.
    pub log_tail: Option<String>,
    pub redacted: usize,
    /// How long a synchronous call was allowed to take.
    pub wait_secs: Option<u64>,
    pub note: Option<String>,
}

/// The payload check, before anything is sent.
pub(crate) fn check_size(len: usize, kind: InvocationType) -> Result<(), ToolError> {
    let limit = if kind == InvocationType::Event {
        ASYNC_LIMIT
    } else {
        SYNC_LIMIT
    };
    if len > limit {
        return Err(ToolError::invalid(
            "payload",
            format!(
                "is {len} bytes as JSON; Lambda accepts at most {limit} bytes for {} invocations ({}); nothing was sent",
                kind.as_str(),
                if kind == InvocationType::Event { "1 MB" } else { "6 MB" },
            ),
        ));
    }
    Ok(())
}

/// How long to wait for a synchronous call, and a note when the caller asked for more.
pub(crate) fn wait_for(function_timeout: u64, asked: Option<u64>) -> (u64, Option<String>) {
    let most = function_timeout + MARGIN_SECS;
    match asked {
        Some(t) if t > most => (
            most,
            Some(format!(
                "timeout_secs {t} was lowered to {most}: the function's own timeout is {function_timeout} s (plus {MARGIN_SECS} s for start-up)"
            )),
        ),
        Some(t) => (t.max(1), None),
        None => (most, None),
    }
}

impl LambdaServer {
    /// The function's timeout and state (cached only while Active, so a function that becomes
    /// ready is seen at once).
    async fn function_config(&self, f: &FunctionRef, qualifier: Option<&str>) -> Result<FunctionConfig, ToolError> {
        let key = context::scoped(&format!("{}\u{0}{}", f.id, qualifier.unwrap_or("")));
        if let Some(c) = self.inner.configs.get(&key).await {
            return Ok(c);
        }
        let (client, target) = self.inner.clients.get().await?;
        let req = client
            .get_function_configuration()
            .function_name(&f.id)
            .set_qualifier(qualifier.map(str::to_owned))
            .send();
        let out = call(GET_FUNCTION_CONFIGURATION, &target, req).await?;
        let config = FunctionConfig {
            timeout_s: out
                .timeout()
                .and_then(|t| u64::try_from(t).ok())
                .unwrap_or(DEFAULT_FUNCTION_TIMEOUT),
            state: out.state().map(|s| s.as_str().to_owned()),
            state_reason: out.state_reason().map(str::to_owned),
        };
        if config.state.as_deref().is_none_or(|s| s == "Active") {
            self.inner.configs.insert(key, config.clone()).await;
        }
        Ok(config)
    }

    pub(crate) async fn invoke(&self, r: Request<'_>) -> Result<Invoked, ToolError> {
        check_size(r.payload.len(), r.kind)?;
        let config = self.function_config(r.function, r.qualifier).await?;
        let name = &r.function.name;
        match config.state.as_deref() {
            Some("Pending") => {
                return Err(ToolError::Other(format!(
                    "function {name} is Pending (being created or updated) and cannot run yet; wait a little and call again (get_function shows its state)"
                )));
            }
            Some("Failed") => {
                return Err(ToolError::Other(format!(
                    "function {name} is in state Failed ({}) and cannot run until its configuration or code is fixed",
                    config.state_reason.as_deref().unwrap_or("no reason given")
                )));
            }
            _ => {}
        }
        let (wait, note) = match r.kind {
            InvocationType::RequestResponse => {
                let (w, n) = wait_for(config.timeout_s, r.timeout_secs);
                (Some(w), n)
            }
            _ => (None, None),
        };
        let (client, mut target) = self.inner.clients.get().await?;
        target.max_attempts = 1;
        // Never retried: a retried invocation may run the function twice.
        let mut overrides =
            aws_sdk_lambda::config::Builder::default().retry_config(RetryConfig::standard().with_max_attempts(1));
        if let Some(w) = wait {
            let connect = self
                .core
                .sdk
                .timeout_config()
                .and_then(|t| t.connect_timeout())
                .unwrap_or(Duration::from_secs(3));
            // A little beyond our own wait, so the clear message below is what the caller sees.
            let sdk_wait = Duration::from_secs(w + 5);
            overrides = overrides.timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(connect)
                    .read_timeout(sdk_wait)
                    .operation_attempt_timeout(sdk_wait)
                    .operation_timeout(sdk_wait)
                    .build(),
            );
        }
        let log = r.log_tail && r.kind == InvocationType::RequestResponse;
        let req = client
            .invoke()
            .function_name(&r.function.id)
            .set_qualifier(r.qualifier.map(str::to_owned))
            .invocation_type(r.kind.aws())
            .set_log_type(log.then_some(LogType::Tail))
            .set_client_context(r.client_context)
            .payload(aws_smithy_types::Blob::new(r.payload.to_vec()))
            .customize()
            .config_override(overrides)
            .send();
        let out = match wait {
            Some(w) => match tokio::time::timeout(Duration::from_secs(w), call(INVOKE, &target, req)).await {
                Ok(r) => r?,
                Err(_) => {
                    return Err(ToolError::Other(format!(
                        "function {name} did not answer within {w} s; it may still be running (its own timeout is {} s). \
                         Raise timeout_secs, or use invocation_type Event to start it without waiting",
                        config.timeout_s
                    )));
                }
            },
            None => call(INVOKE, &target, req).await?,
        };
        let (log_tail, redacted) = match out.log_result() {
            Some(b64) => {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .unwrap_or_default();
                let text = String::from_utf8_lossy(&raw);
                let (masked, n) = self.inner.redactor.text(&text);
                (Some(masked.into_owned()), n)
            }
            None => (None, 0),
        };
        Ok(Invoked {
            status: out.status_code(),
            executed_version: out.executed_version().map(str::to_owned),
            payload: out.payload().map(|b| b.as_ref().to_vec()).unwrap_or_default(),
            function_error: out.function_error().map(str::to_owned),
            log_tail,
            redacted,
            wait_secs: wait,
            note,
        })
    }

    /// The failure of an invocation whose `function_error` is set.
    pub(crate) fn failure(&self, function: &str, inv: &Invoked) -> FunctionFailure {
        let parsed: Option<Value> = serde_json::from_slice(&inv.payload).ok();
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let error_type = text(parsed.as_ref().and_then(|p| p.get("errorType")))
            .unwrap_or_else(|| inv.function_error.clone().unwrap_or_else(|| "Unhandled".into()));
        let mut redacted = inv.redacted;
        let mut mask = |s: &str| {
            let (m, n) = self.inner.redactor.text(s);
            redacted += n;
            clip(&m, MAX_ERROR_TEXT)
        };
        let error_message = match parsed.as_ref() {
            Some(p) => text(p.get("errorMessage")).unwrap_or_else(|| p.to_string()),
            None => String::from_utf8_lossy(&inv.payload).into_owned(),
        };
        let error_message = mask(&error_message);
        let stack_trace: Vec<String> = match parsed.as_ref().and_then(|p| p.get("stackTrace")) {
            Some(Value::Array(lines)) => lines
                .iter()
                .take(50)
                .map(|l| mask(l.as_str().map(str::to_owned).unwrap_or_else(|| l.to_string()).as_str()))
                .collect(),
            Some(Value::String(s)) => s.lines().take(50).map(&mut mask).collect(),
            _ => Vec::new(),
        };
        FunctionFailure {
            function: function.to_owned(),
            function_error: inv.function_error.clone().unwrap_or_else(|| "Unhandled".into()),
            error_type,
            error_message,
            stack_trace,
            log_tail: inv.log_tail.clone(),
            redacted,
            executed_version: inv.executed_version.clone(),
        }
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let cut = (0..=max).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    format!("{}… ({} bytes in all)", &s[..cut], s.len())
}

/// A response payload as JSON when it is JSON, else text, else base64; and what it was.
pub(crate) fn payload_value(bytes: &[u8]) -> (Value, &'static str) {
    if bytes.is_empty() {
        return (Value::Null, "empty");
    }
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return (v, "json");
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => (json!(s), "text"),
        Err(_) => (json!(base64::engine::general_purpose::STANDARD.encode(bytes)), "base64"),
    }
}

/// A function that ran and failed (`X-Amz-Function-Error`): a tool error carrying what the
/// function reported and its log tail.
#[derive(Debug)]
pub(crate) struct FunctionFailure {
    pub function: String,
    /// `Unhandled` or `Handled`.
    pub function_error: String,
    pub error_type: String,
    pub error_message: String,
    pub stack_trace: Vec<String>,
    pub log_tail: Option<String>,
    pub redacted: usize,
    pub executed_version: Option<String>,
}

impl FunctionFailure {
    pub(crate) fn summary(&self) -> String {
        format!(
            "function {} failed ({}): {}: {}",
            self.function, self.function_error, self.error_type, self.error_message
        )
    }

    /// Everything as text, for clients that read only text and for functions-as-tools.
    pub(crate) fn text(&self) -> String {
        let mut s = self.summary();
        if !self.stack_trace.is_empty() {
            s.push_str("\nstack trace:\n");
            s.push_str(&self.stack_trace.join("\n"));
        }
        if let Some(log) = &self.log_tail {
            s.push_str("\nlog tail:\n");
            s.push_str(log);
        }
        s
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({ "error": {
            "kind": "function_error",
            "code": self.error_type,
            "summary": self.summary(),
            "function": self.function,
            "function_error": self.function_error,
            "error_type": self.error_type,
            "error_message": self.error_message,
            "stack_trace": self.stack_trace,
            "log_tail": self.log_tail,
            "redacted": self.redacted,
            "executed_version": self.executed_version,
        }})
    }
}

/// invoke_function's error side: a tool error, or the function's own failure.
pub(crate) enum Failure {
    Tool(ToolError),
    Function(Box<FunctionFailure>),
}

impl From<ToolError> for Failure {
    fn from(e: ToolError) -> Self {
        Self::Tool(e)
    }
}

impl IntoCallToolResult for Failure {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        match self {
            Self::Tool(e) => e.into_call_tool_result(),
            Self::Function(f) => {
                let mut result = CallToolResult::error(vec![ContentBlock::text(f.text())]);
                result.structured_content = Some(f.to_json());
                Ok(result.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_limits_are_checked_per_invocation_type() {
        assert!(check_size(SYNC_LIMIT, InvocationType::RequestResponse).is_ok());
        let e = check_size(SYNC_LIMIT + 1, InvocationType::RequestResponse).unwrap_err();
        assert_eq!(e.to_json()["error"]["field"], "payload");
        assert!(check_size(ASYNC_LIMIT + 1, InvocationType::Event).is_err());
        assert!(check_size(ASYNC_LIMIT + 1, InvocationType::DryRun).is_ok());
    }

    #[test]
    fn the_wait_is_bounded_by_the_function_timeout() {
        assert_eq!(wait_for(3, None), (3 + MARGIN_SECS, None));
        assert_eq!(wait_for(3, Some(1)).0, 1);
        let (w, note) = wait_for(3, Some(900));
        assert_eq!(w, 3 + MARGIN_SECS);
        assert!(note.unwrap().contains("lowered"));
    }

    #[test]
    fn payloads_keep_their_form() {
        assert_eq!(payload_value(b"{\"a\":1}"), (json!({"a": 1}), "json"));
        assert_eq!(payload_value(b"plain words"), (json!("plain words"), "text"));
        assert_eq!(payload_value(&[0xff, 0xfe]).1, "base64");
        assert_eq!(payload_value(b"").1, "empty");
        assert!(clip(&"é".repeat(10), 5).starts_with("éé…"));
    }
}
