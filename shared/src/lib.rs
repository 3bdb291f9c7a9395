//! Everything the `aws-*-mcp` servers share, written once.
//!
//! A server crate holds only its tool definitions and the mapping of SDK types to output;
//! every cross-cutting concern lives here, one module each:
//!
//! - [`config`]: the flags and environment variables every server accepts.
//! - [`aws`]: AWS configuration resolved like the AWS CLI; the endpoint/region a client talks to.
//! - [`args`]: tool arguments checked against the tool's schema, so errors name the field.
//! - [`error`]: [`ToolError`], and the one mapping of AWS SDK errors to tool error results.
//! - [`safety`]: read-only gating of tools and glob allowlists for resources.
//! - [`cursor`]: opaque pagination cursors, signed and bound to the tool and its arguments.
//! - [`budget`]: the JSON-aware output budget every tool result passes through.
//! - [`cache`]: size-bounded TTL caches for metadata.
//! - [`audit`]: one structured stderr line per tool call, and logging set-up.
//! - [`core`]: [`Core`], the per-server state the above hang off, and tool dispatch.
//! - [`serve`]: stdio, Streamable HTTP and AWS Lambda transports from one binary.

pub mod args;
pub mod audit;
pub mod aws;
pub mod budget;
pub mod cache;
pub mod config;
pub mod core;
pub mod cursor;
pub mod error;
pub mod safety;
pub mod serve;

pub use crate::aws::{Op, Target};
pub use crate::budget::Budget;
pub use crate::cache::TtlCache;
pub use crate::config::CommonArgs;
pub use crate::core::{Core, Output, ToolResult};
pub use crate::cursor::Cursors;
pub use crate::error::ToolError;
pub use crate::safety::Allowlist;
pub use crate::serve::{main, serve};
