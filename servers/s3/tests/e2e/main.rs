//! `aws-s3-mcp` end to end: the real binary over stdio, LocalStack behind it (a fake endpoint for
//! faults: `tests/tests/faults.rs`). One test binary, one module per topic; the checks every server
//! shares are generated in `contract.rs` and `cli.rs`.

mod accounts;
mod audit;
mod cli;
mod confirm;
mod contract;
mod defects;
mod errors;
mod objects;
mod paging;
mod resources;
mod writes;

use aws_mcp_tests::Mcp;
use serde_json::Value;

pub const BIN: &str = "aws-s3-mcp";

/// Follow `list_objects` cursors to the end: every key in order of arrival, and how many calls.
pub async fn list_keys(mcp: &Mcp, args: Value) -> (Vec<String>, usize) {
    let (objects, pages) = mcp.all_pages("list_objects", args, "objects").await;
    let keys = objects.iter().map(|o| o["key"].as_str().unwrap().to_owned()).collect();
    (keys, pages.len())
}
