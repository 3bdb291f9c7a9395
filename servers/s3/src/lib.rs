//! `aws-s3-mcp`: Amazon S3 for AI assistants, read-only unless started with `--allow-writes`.
//!
//! - [`clients`]: clients per region and the region of each bucket (cached).
//! - [`content`]: text or binary, and cutting text to the budget on character boundaries.
//! - `tools::buckets`: `list_buckets`, `get_bucket_info`.
//! - `tools::objects`: `list_objects`, `find_objects`.
//! - `tools::read`: `head_object`, `get_object`, `presign_url`.
//! - `tools::write`: `put_object`, `copy_object`, `delete_object` (only with `--allow-writes`).
//! - `resources`: `s3://{bucket}/{key}` resources, the bucket list, and completions.

pub mod clients;
pub mod content;
mod resources;
mod tools;

use std::sync::Arc;

use rmcp::{handler::server::router::tool::ToolRouter, model::Tool};
use serde_json::Value;
use shared::{Allowlist, CommonArgs, Core, ToolError, TtlCache};

pub const NAME: &str = "aws-s3-mcp";

/// Command line of `aws-s3-mcp`.
#[derive(Debug, clap::Parser)]
#[command(name = NAME, version, about = "MCP server for Amazon S3 (read-only unless --allow-writes)")]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Only these buckets, as glob patterns (repeatable): `--bucket 'logs-*' --bucket reports`.
    #[arg(long = "bucket", env = "MCP_S3_BUCKETS", value_delimiter = ',')]
    pub buckets: Vec<String>,
}

const INSTRUCTIONS: &str = "Amazon S3. Start with list_buckets, then list_objects (use delimiter \"/\" to browse \
folders) or find_objects (glob over keys). get_object returns text up to the output budget with next_range_start \
to continue; binary objects come back as metadata plus a presigned URL. Results are paged: pass next_cursor back \
unchanged with the same arguments. Any `truncated` field says what was left out and how to get it.";

#[derive(Clone)]
pub struct S3Server {
    core: Core,
    inner: Arc<Inner>,
}

struct Inner {
    router: ToolRouter<S3Server>,
    clients: clients::Clients,
    buckets: Allowlist,
    bucket_info: TtlCache<String, Value>,
}

impl S3Server {
    pub fn new(mut core: Core, cli: &Cli) -> Result<Self, ToolError> {
        // Nothing in S3's output is meaningfully null.
        core.drop_nulls = true;
        let buckets = Allowlist::new("bucket", "--bucket", &cli.buckets)
            .map_err(|e| ToolError::invalid("--bucket", format!("not a valid glob pattern: {e}")))?;
        let router = shared::safety::gate_writes(
            Self::bucket_tools() + Self::object_tools() + Self::read_tools() + Self::write_tools(),
            core.allow_writes,
        );
        let inner = Inner {
            router,
            clients: clients::Clients::new(&core.sdk, core.cache_ttl),
            buckets,
            bucket_info: core.cache(1_000),
        };
        Ok(Self {
            core,
            inner: Arc::new(inner),
        })
    }

    /// Every tool, whatever the write setting (for invariant tests).
    pub fn all_tools() -> Vec<Tool> {
        (Self::bucket_tools() + Self::object_tools() + Self::read_tools() + Self::write_tools()).list_all()
    }

    fn check_bucket(&self, bucket: &str) -> Result<(), ToolError> {
        if bucket.is_empty() {
            return Err(ToolError::invalid(
                "bucket",
                "must not be empty; list_buckets shows the names",
            ));
        }
        self.inner.buckets.check(bucket)
    }
}

/// RFC 3339 timestamps in output.
pub(crate) fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

impl shared::core::Tools for S3Server {
    fn tools(&self) -> (&Core, &ToolRouter<Self>) {
        (&self.core, &self.inner.router)
    }
}

shared::server_handler!(S3Server, INSTRUCTIONS);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_list_invariants() {
        let tools = S3Server::all_tools();
        shared::safety::check_tool_invariants(&tools).unwrap();
        let writes: Vec<_> = tools
            .iter()
            .filter(|t| !shared::safety::is_read_only(t))
            .map(|t| t.name.as_ref())
            .collect();
        assert_eq!(writes.len(), 3, "{writes:?}");
        let delete = tools.iter().find(|t| t.name == "delete_object").unwrap();
        assert_eq!(delete.annotations.as_ref().unwrap().destructive_hint, Some(true));
    }
}
