//! Logging and the audit trail. Everything goes to stderr: in stdio mode stdout is the MCP stream.
//! One structured line per tool call (server, tool, duration, outcome, AWS request ids); argument
//! values are never logged because they may carry data.

use std::cell::RefCell;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

tokio::task_local! {
    static REQUEST_IDS: RefCell<Vec<String>>;
}

/// Set up logging once: level from `RUST_LOG` (default `info`, SDK internals at `warn`), JSON lines
/// on Lambda or with `MCP_LOG_FORMAT=json`, plain text otherwise. Always stderr, never ANSI colours
/// (MCP clients show stderr verbatim).
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn,aws_runtime=warn,rmcp=warn"));
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

/// Write the audit line for one tool call.
pub fn tool_call(
    server: &str,
    tool: &str,
    account: Option<&str>,
    elapsed: Duration,
    outcome: &str,
    error_code: Option<&str>,
    request_ids: &[String],
) {
    tracing::info!(
        target: "audit",
        server,
        tool,
        account = account.unwrap_or(""),
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        outcome,
        error_code = error_code.unwrap_or(""),
        aws_request_ids = request_ids.join(","),
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
