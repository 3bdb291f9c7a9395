//! `aws-logs-mcp`: Amazon CloudWatch Logs for AI assistants: find, filter, tail and query logs,
//! every result bounded by the output budget and every message passed through secret redaction.
//! Read-only: no tool changes a log group (`stop_insights_query` only cancels a query).
//!
//! - `names`: log group names and ARNs, and which groups an Insights query names.
//! - `events`: log events as output (RFC 3339 times, redacted messages).
//! - `tools::groups`: `describe_log_groups`, `describe_log_streams`.
//! - `tools::events`: `filter_log_events` (several groups, bounded scan), `tail_log_stream`.
//! - `tools::insights`: `run_insights_query`, `get_insights_results`, `stop_insights_query`,
//!   `top_error_patterns`.
//! - `resources`: `logs://{group}` (recent events), the group list with a cursor, completions.

mod events;
mod names;
mod resources;
mod tools;

use std::sync::Arc;

use aws_sdk_cloudwatchlogs::Client;
use rmcp::handler::server::router::tool::ToolRouter;
use shared::{Allowlist, CommonArgs, ConfigError, Core, Op, Redactor, ToolSpec, TtlCache};

use tools::{events as ev, groups, insights};

pub const NAME: &str = "aws-logs-mcp";

/// Command line of `aws-logs-mcp`.
#[derive(Debug, clap::Parser)]
#[command(
    name = NAME,
    version,
    about = "MCP server for Amazon CloudWatch Logs: find, filter, tail and query logs (read-only, secrets masked)"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Only these log groups, as glob patterns (repeatable): `--log-group '/aws/lambda/*'`.
    #[arg(long = "log-group", env = "MCP_LOGS_GROUPS", value_delimiter = ',')]
    pub groups: Vec<String>,
}

const INSTRUCTIONS: &str = "Amazon CloudWatch Logs. Find groups with describe_log_groups, streams with \
describe_log_streams; read events with filter_log_events (CloudWatch filter patterns, several groups) or \
tail_log_stream; aggregate with run_insights_query (Logs Insights QL) or top_error_patterns. Times accept ISO 8601, \
epoch ms, or relative (15m, 2h, 7d, now-1h); output times are RFC 3339 UTC. Paged results: pass next_cursor back \
unchanged with the same arguments. A `truncated` field says what was left out; `redacted` counts masked secrets.";

/// Every tool with the AWS operations it may call.
pub(crate) const TOOLS: &[ToolSpec] = &[
    ToolSpec::read("describe_log_groups", &[groups::DESCRIBE_LOG_GROUPS]),
    ToolSpec::read("describe_log_streams", &[groups::DESCRIBE_LOG_STREAMS]),
    ToolSpec::read("filter_log_events", &[ev::FILTER_LOG_EVENTS]),
    ToolSpec::read("tail_log_stream", &[ev::GET_LOG_EVENTS]),
    ToolSpec::read(
        "run_insights_query",
        &[
            insights::START_QUERY,
            insights::GET_QUERY_RESULTS,
            insights::STOP_QUERY,
            insights::GET_LOG_RECORD,
        ],
    ),
    ToolSpec::read(
        "get_insights_results",
        &[insights::GET_QUERY_RESULTS, insights::GET_LOG_RECORD],
    ),
    ToolSpec::read("stop_insights_query", &[insights::STOP_QUERY]),
    ToolSpec::read(
        "top_error_patterns",
        &[insights::START_QUERY, insights::GET_QUERY_RESULTS, insights::STOP_QUERY],
    ),
];

#[derive(Clone)]
pub struct LogsServer {
    core: Core,
    inner: Arc<Inner>,
}

struct Inner {
    router: ToolRouter<LogsServer>,
    clients: shared::ClientPool<Client>,
    groups: Allowlist,
    redactor: Redactor,
    /// Insights queries this server started (scoped to account and region): with an allowlist,
    /// only these can be read or stopped, since a query id does not say which groups it reads.
    started: TtlCache<String, ()>,
    /// The `--log-group` patterns, for refusals.
    patterns: String,
}

impl LogsServer {
    fn all_tools() -> ToolRouter<Self> {
        Self::group_tools() + Self::event_tools() + Self::insights_tools()
    }

    /// A group a tool may read: a name or an ARN, inside the allowlist.
    pub(crate) fn check_group(&self, field: &str, group: &str) -> Result<(), shared::ToolError> {
        let name = names::check(field, group)?;
        self.inner.groups.check(name)
    }

    pub(crate) fn redactor(&self) -> &Redactor {
        &self.inner.redactor
    }
}

/// Hints that name this server's tools.
fn logs_hints(code: &str, op: Op, region: &str) -> Option<String> {
    let h = match (code, op.operation) {
        ("ResourceNotFoundException", "GetLogEvents") => {
            format!("no such log group or stream in {region}: describe_log_streams lists the streams of a group")
        }
        ("ResourceNotFoundException", "GetQueryResults" | "StopQuery") => {
            "no such query id (Insights keeps results for 7 days)".into()
        }
        ("ResourceNotFoundException", _) => {
            format!("no such log group in {region}: describe_log_groups lists the groups")
        }
        ("MalformedQueryException", _) => "fix the Logs Insights query at the position CloudWatch names".into(),
        ("InvalidParameterException", "FilterLogEvents") => {
            "check filter_pattern (CloudWatch filter pattern syntax: terms, \"exact phrase\", { $.field = value })"
                .into()
        }
        ("LimitExceededException", "StartQuery") => {
            "too many Logs Insights queries are running in this account (a concurrency limit): wait, or stop queries \
             you no longer need with stop_insights_query"
                .into()
        }
        _ => return None,
    };
    Some(h)
}

impl shared::Server for LogsServer {
    type Cli = Cli;
    const NAME: &'static str = NAME;
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn common(cli: &Cli) -> &CommonArgs {
        &cli.common
    }

    fn hints(code: &str, op: Op, region: &str) -> Option<String> {
        logs_hints(code, op, region)
    }

    fn new(mut core: Core, cli: &Cli) -> Result<Self, ConfigError> {
        // Absent says the same as null in fewer tokens; nothing in log output is meaningfully null.
        core.drop_nulls = true;
        let groups = Allowlist::from_flag("log group", "--log-group", &cli.groups)?;
        let router = core.gate(Self::all_tools(), TOOLS)?;
        let clients = shared::ClientPool::new(
            &core,
            "CLOUDWATCH_LOGS",
            "logs",
            shared::regional_client!(aws_sdk_cloudwatchlogs),
        );
        let inner = Inner {
            router,
            clients,
            groups,
            redactor: Redactor::new(core.redact),
            started: TtlCache::new(10_000, std::time::Duration::from_secs(86_400)),
            patterns: cli.groups.join(", "),
        };
        Ok(Self {
            core,
            inner: Arc::new(inner),
        })
    }
}

impl shared::core::Tools for LogsServer {
    fn tools(&self) -> (&Core, &ToolRouter<Self>) {
        (&self.core, &self.inner.router)
    }
}

shared::server_handler!(LogsServer, INSTRUCTIONS);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_a_spec_and_is_read_only() {
        let router = LogsServer::all_tools();
        shared::gate::check_specs(&router, TOOLS).unwrap();
        let tools = router.list_all();
        assert_eq!(tools.len(), 8);
        assert!(tools.iter().all(shared::safety::is_read_only));
    }

    #[test]
    fn tools_list_fits_the_context_budget() {
        let (total, avg) = shared::schema::check_list_budget(LogsServer::all_tools().list_all()).unwrap();
        eprintln!("tools/list: {total} bytes, {avg} per tool");
    }

    #[test]
    fn hints_name_this_servers_tools() {
        let op = tools::groups::DESCRIBE_LOG_STREAMS;
        assert!(
            logs_hints("ResourceNotFoundException", op, "eu-west-1")
                .unwrap()
                .contains("describe_log_groups")
        );
        let op = insights::START_QUERY;
        assert!(
            logs_hints("LimitExceededException", op, "x")
                .unwrap()
                .contains("stop_insights_query")
        );
        assert!(logs_hints("AccessDeniedException", op, "x").is_none());
    }
}
