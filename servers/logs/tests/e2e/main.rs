//! `aws-logs-mcp` end to end: the real binary over stdio, against moto's server where a test
//! depends on filter patterns, LocalStack for Logs Insights, resources and the contract, and the
//! rig's fake endpoint for what neither emulator has (StopQuery, GetLogRecord, `pattern`, empty
//! scan pages) and for faults.

mod cli;
mod contract;
mod faults;
mod filtering;
mod groups;
mod insights;
mod tail;

/// The rig's CloudWatch Logs fixtures (`tests/src/fixtures/logs.rs`).
pub(crate) use aws_mcp_tests::fixtures::logs as fixtures;
use aws_mcp_tests::{Mcp, Service};
use fixtures::At;

pub const BIN: &str = "aws-logs-mcp";

/// A server whose CloudWatch Logs calls go to `at`, with extra flags.
pub async fn server(at: At, args: &[&str]) -> Mcp {
    at.require();
    Mcp::builder(BIN)
        .endpoint(Service::Logs, &at.url())
        .args(args)
        .start()
        .await
}

/// A server whose every call goes to a fake endpoint.
pub async fn against(url: &str, args: &[&str]) -> Mcp {
    Mcp::builder(BIN).everything_at(url).args(args).start().await
}
