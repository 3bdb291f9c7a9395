//! Logging and the audit trail. Everything goes to stderr: in stdio mode stdout is the MCP stream.
//! One structured line per tool call (server, tool, caller, duration, outcome, AWS request ids);
//! argument values are never logged because they may carry data.

use std::cell::RefCell;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

tokio::task_local! {
    static REQUEST_IDS: RefCell<Vec<String>>;
}

/// Who made a call, as the front door established it: Lambda's request context (IAM or a JWT
/// authorizer), the bearer-token check, or the AgentCore Gateway. Never taken from what the client
/// says about itself. The HTTP front puts it in the request's extensions, where rmcp's
/// `http::request::Parts` carry it to [`crate::Core::call_tool`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// `iam`, `jwt`, `bearer` or `gateway`.
    pub kind: &'static str,
    /// The IAM principal ARN, the JWT subject, `bearer`, or the AgentCore gateway id.
    pub principal: String,
    /// The OAuth client id of a JWT caller.
    pub client_id: Option<String>,
}

impl Caller {
    pub fn bearer() -> Self {
        Self {
            kind: "bearer",
            principal: "bearer".into(),
            client_id: None,
        }
    }
}

/// The caller of a tool call, if the transport established one (stdio has none).
pub fn caller_of(context: &rmcp::service::RequestContext<rmcp::RoleServer>) -> Option<Caller> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>())
        .cloned()
}

/// Set up logging once: level from `RUST_LOG` (default `info`, SDK internals at `warn`), JSON lines
/// on Lambda or with `MCP_LOG_FORMAT=json`, plain text otherwise. Always stderr, never ANSI colours
/// (MCP clients show stderr verbatim).
pub fn init_logging() {
    // rmcp's and the SDK's debug logs carry tool results and credential details: they stay at `warn`
    // whatever RUST_LOG says, unless MCP_LOG_UNSAFE=1 (for debugging the libraries themselves).
    const QUIET: &[&str] = &[
        "rmcp=warn",
        "aws_config=warn",
        "aws_smithy_runtime=warn",
        "aws_smithy_runtime_api=warn",
        "aws_runtime=warn",
        "aws_sigv4=warn",
        "aws_smithy_http=warn",
        "aws_credential_types=warn",
        "hyper=warn",
        "hyper_util=warn",
    ];
    let unsafe_logs = std::env::var("MCP_LOG_UNSAFE").is_ok_and(|v| v == "1");
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if !unsafe_logs {
        for d in QUIET {
            if let Ok(d) = d.parse() {
                filter = filter.add_directive(d);
            }
        }
    }
    let json = std::env::var("MCP_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"))
        || std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// Run one tool call with a place to collect the AWS request ids of the calls it makes.
pub async fn collect_request_ids<F: std::future::Future>(fut: F) -> (F::Output, Vec<String>) {
    REQUEST_IDS
        .scope(RefCell::new(Vec::new()), async move {
            let out = fut.await;
            (out, REQUEST_IDS.with(|ids| ids.take()))
        })
        .await
}

/// Called by [`crate::aws::call`] for every AWS response; a no-op outside a tool call.
pub fn record_request_id(id: Option<&str>) {
    if let Some(id) = id {
        let _ = REQUEST_IDS.try_with(|ids| ids.borrow_mut().push(id.to_owned()));
    }
}

/// What the audit line of one tool call says.
pub struct ToolCall<'a> {
    pub server: &'a str,
    pub tool: &'a str,
    pub caller: Option<&'a Caller>,
    pub account: Option<&'a str>,
    pub elapsed: Duration,
    pub outcome: &'a str,
    pub error_code: Option<&'a str>,
    pub request_ids: &'a [String],
}

/// Write the audit line for one tool call.
pub fn tool_call(call: &ToolCall<'_>) {
    let caller = call.caller;
    tracing::info!(
        target: "audit",
        server = call.server,
        tool = call.tool,
        caller_kind = caller.map_or("", |c| c.kind),
        caller = caller.map_or("", |c| c.principal.as_str()),
        client_id = caller.and_then(|c| c.client_id.as_deref()).unwrap_or(""),
        account = call.account.unwrap_or(""),
        duration_ms = call.elapsed.as_secs_f64() * 1000.0,
        outcome = call.outcome,
        error_code = call.error_code.unwrap_or(""),
        aws_request_ids = call.request_ids.join(","),
        "tool call"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn request_ids_are_collected_per_call() {
        let ((), ids) = collect_request_ids(async {
            record_request_id(Some("a"));
            record_request_id(None);
            record_request_id(Some("b"));
        })
        .await;
        assert_eq!(ids, ["a", "b"]);
        // Outside a call nothing is recorded and nothing panics.
        record_request_id(Some("c"));
    }
}
