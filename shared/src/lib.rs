//! Everything the `aws-*-mcp` servers share, written once.
//!
//! A server crate holds only its tool definitions and the mapping of SDK types to output;
//! every cross-cutting concern lives here, one module each:
//!
//! - [`config`]: the flags and environment variables every server accepts.
//! - [`aws`]: AWS configuration resolved like the AWS CLI; the endpoint/region a client talks to.
//! - [`accounts`]: the accounts file, and credentials through each account's role.
//! - [`context`]: the current call's tool, account and region.
//! - [`clients`]: service clients pooled by (account, region).
//! - [`gate`]: capabilities, `--tools`/`--exclude-tools`, and the IAM actions each tool declares.
//! - [`args`]: tool arguments checked against the tool's schema, so errors name the field.
//! - [`schema`]: lean tool schemas.
//! - [`time`]: times in (ISO 8601, epoch ms, relative) and out (RFC 3339 UTC).
//! - [`redact`]: masking likely secrets in text returned to the model.
//! - [`fanout`]: bounded concurrency over many items, each with a deadline and a typed outcome.
//! - [`poll`]: backoff until done or a deadline, with a cancel step.
//! - [`error`]: [`ToolError`], and the one mapping of AWS SDK errors to tool error results.
//! - [`safety`]: glob allowlists for resources and the tool-list invariants.
//! - [`confirm`]: asking the user before destructive tools run.
//! - [`cursor`]: opaque pagination cursors, signed and bound to the tool, arguments and account.
//! - [`page`]: the one pager every listing uses, and the bounded walk over AWS pages.
//! - [`budget`]: the JSON-aware output budget every tool result passes through.
//! - [`cache`]: size-bounded TTL caches for metadata.
//! - [`audit`]: one structured stderr line per tool call, and logging set-up.
//! - [`audit_table`]: `--audit-table`, one DynamoDB item per tool call, written in the background.
//! - [`core`]: [`Core`], the per-server state the above hang off, and tool dispatch.
//! - [`stdio`]: JSON-RPC over stdio where every message is answered.
//! - [`http`]: what stands in front of rmcp's HTTP service: tolerated header quirks, the caller's identity.
//! - [`gateway`]: AgentCore Gateway Lambda targets: the tool-schema file and the invocations.
//! - [`serve`]: stdio, Streamable HTTP (also as an AgentCore Runtime container) and AWS Lambda
//!   transports from one binary; [`run`].

pub mod accounts;
pub mod args;
pub mod audit;
pub mod audit_table;
pub mod aws;
pub mod budget;
pub mod cache;
pub mod clients;
pub mod config;
pub mod confirm;
pub mod context;
pub mod core;
pub mod cursor;
pub mod error;
pub mod fanout;
pub mod gate;
pub mod gateway;
pub mod http;
pub mod page;
pub mod poll;
pub mod redact;
pub mod safety;
pub mod schema;
pub mod serve;
mod stdio;
pub mod time;

pub use crate::aws::{ConfigError, Op, Target};
pub use crate::budget::Budget;
pub use crate::cache::TtlCache;
pub use crate::clients::ClientPool;
pub use crate::config::CommonArgs;
pub use crate::core::{Core, Output, ToolResult};
pub use crate::cursor::Cursors;
pub use crate::error::ToolError;
pub use crate::gate::{Capability, ToolSpec};
pub use crate::page::{Page, PageArgs};
pub use crate::redact::Redactor;
pub use crate::safety::Allowlist;
pub use crate::serve::{Server, run, serve};
/// For macros that name SDK types in server crates.
pub use aws_types;
