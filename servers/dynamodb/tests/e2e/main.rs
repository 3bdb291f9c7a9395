//! `aws-dynamodb-mcp` end to end: the real binary over MCP (stdio), against moto's DynamoDB
//! server. Every test makes its own uniquely named tables with the SDK and deletes them. One test
//! binary, one module per topic; the checks every server shares are generated in `contract.rs` and
//! `cli.rs`.

mod accounts;
mod cli;
mod contract;
mod errors;
mod keys;
mod paging;
mod partiql;
mod resources;
mod writes;

use aws_mcp_tests::Mcp;
use serde_json::Value;

pub const BIN: &str = "aws-dynamodb-mcp";

/// The numeric sort keys of a list of items.
pub fn sks(items: &Value) -> Vec<u64> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sk"].as_u64().unwrap_or_else(|| panic!("no numeric sk in {i}")))
        .collect()
}

/// Follow `tool`'s cursors to the end ([`Mcp::all_pages`] over `items`): every item, and each call's result.
pub async fn all_pages(mcp: &Mcp, tool: &str, args: Value) -> (Vec<Value>, Vec<Value>) {
    mcp.all_pages(tool, args, "items").await
}
