//! `aws-dynamodb-mcp`: Amazon DynamoDB for AI assistants, with items as plain JSON; read-only
//! unless started with `--allow-writes`.
//!
//! - `item`: plain JSON <-> `AttributeValue`, and keys typed by the table's key schema.
//! - `statement`: what a PartiQL statement does and which table it names, decided by lexing it.
//! - `schema`: table descriptions (cached) and the key schemas the tools type keys with.
//! - `expr`: expression attribute names/values, generated placeholders, key conditions.
//! - `tools::tables`: `list_tables`, `describe_table`.
//! - `tools::read`: `get_item`, `batch_get_items`.
//! - `tools::search`: `query`, `scan`.
//! - `tools::partiql`: `execute_partiql` (only `SELECT` without `--allow-writes`).
//! - `tools::write`: `put_item`, `update_item`, `delete_item` (only with `--allow-writes`).
//! - `resources`: `dynamodb://{table}/schema`, the table list, and completions of table names.

mod expr;
mod item;
mod resources;
mod schema;
mod statement;
mod tools;

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use rmcp::handler::server::router::tool::ToolRouter;
use shared::{Allowlist, Capability, ClientPool, CommonArgs, ConfigError, Core, Op, ToolError, ToolSpec, TtlCache};
use tools::{read, search, write};

pub const NAME: &str = "aws-dynamodb-mcp";

/// Command line of `aws-dynamodb-mcp`.
#[derive(Debug, clap::Parser)]
#[command(
    name = NAME,
    version,
    about = "MCP server for Amazon DynamoDB with items as plain JSON (read-only unless --allow-writes)"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Only these tables, as glob patterns (repeatable): `--table 'orders-*' --table users`.
    #[arg(long = "table", env = "MCP_DYNAMODB_TABLES", value_delimiter = ',')]
    pub tables: Vec<String>,
}

const INSTRUCTIONS: &str = "Amazon DynamoDB with items as plain JSON. Strings, booleans, null, lists and maps are \
themselves; numbers are JSON numbers, or {\"$N\": \"<digits>\"} when a double cannot hold them exactly; binary is \
{\"$B\": \"<base64>\"}; sets are {\"$SS\": [..]}, {\"$NS\": [..]}, {\"$BS\": [..]}; a map whose only key is one of \
these tags is wrapped in {\"$M\": {..}}. Keys may be plain JSON ({\"pk\": \"a\", \"sk\": 5}): their types come from \
the key schema. Start with list_tables and describe_table, then query (by key) rather than scan. Paged results: \
pass next_cursor back unchanged with the same arguments. A `truncated` field says what was left out and how to get it.";

const DESCRIBE: &[Op] = &[schema::DESCRIBE_TABLE, schema::DESCRIBE_TTL];

/// Every tool, what it needs and what it may call (the IAM policy and session policy come from here).
pub(crate) const TOOLS: &[ToolSpec] = &[
    ToolSpec::read("list_tables", &[tools::tables::LIST_TABLES]),
    ToolSpec::read("describe_table", DESCRIBE),
    ToolSpec::read(
        "get_item",
        &[read::GET_ITEM, schema::DESCRIBE_TABLE, schema::DESCRIBE_TTL],
    ),
    ToolSpec::read(
        "batch_get_items",
        &[read::BATCH_GET_ITEM, schema::DESCRIBE_TABLE, schema::DESCRIBE_TTL],
    ),
    ToolSpec::read("query", &[search::QUERY, schema::DESCRIBE_TABLE, schema::DESCRIBE_TTL]),
    ToolSpec::read("scan", &[search::SCAN, schema::DESCRIBE_TABLE, schema::DESCRIBE_TTL]),
    ToolSpec::read("execute_partiql", &[tools::partiql::EXECUTE_STATEMENT_READ])
        .escalates(Capability::Writes, tools::partiql::WRITE_DESCRIPTION),
    ToolSpec::needs(
        "put_item",
        Capability::Writes,
        &[write::PUT_ITEM, schema::DESCRIBE_TABLE, schema::DESCRIBE_TTL],
    ),
    ToolSpec::needs(
        "update_item",
        Capability::Writes,
        &[write::UPDATE_ITEM, schema::DESCRIBE_TABLE, schema::DESCRIBE_TTL],
    ),
    ToolSpec::needs(
        "delete_item",
        Capability::Writes,
        &[write::DELETE_ITEM, schema::DESCRIBE_TABLE, schema::DESCRIBE_TTL],
    ),
];

#[derive(Clone)]
pub struct DynamoServer {
    core: Core,
    inner: Arc<Inner>,
}

struct Inner {
    /// The tools this server lists (after capability gates and --tools).
    router: ToolRouter<DynamoServer>,
    clients: ClientPool<Client>,
    tables: Allowlist,
    /// Table descriptions, keyed by account, region and table.
    descriptions: TtlCache<String, Arc<schema::Table>>,
}

impl shared::Server for DynamoServer {
    type Cli = Cli;
    const NAME: &'static str = NAME;
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn common(cli: &Cli) -> &CommonArgs {
        &cli.common
    }

    fn new(mut core: Core, cli: &Cli) -> Result<Self, ConfigError> {
        shared::error::set_server_hints(hints);
        let tables = Allowlist::from_flag("table", "--table", &cli.tables)?;
        // Items are the user's data: secrets in them are masked unless --no-redact.
        core.redact_results = true;
        let router = core.gate(Self::all_routers(), TOOLS)?;
        let clients = ClientPool::new(
            &core,
            "DYNAMODB",
            "dynamodb",
            shared::regional_client!(aws_sdk_dynamodb),
        );
        let inner = Inner {
            router,
            clients,
            tables,
            descriptions: core.cache(1_000),
        };
        Ok(Self {
            core,
            inner: Arc::new(inner),
        })
    }
}

impl DynamoServer {
    fn all_routers() -> ToolRouter<Self> {
        Self::table_tools() + Self::read_tools() + Self::search_tools() + Self::partiql_tools() + Self::write_tools()
    }

    /// A table a tool may use: a valid name (or ARN) inside the allowlist. For an ARN the
    /// allowlist applies to the table name in it.
    fn check_table(&self, table: &str) -> Result<(), ToolError> {
        check_table_name(table)?;
        self.inner.tables.check(table_of_arn(table))
    }
}

/// Hints for DynamoDB's own error codes, naming this server's tools.
fn hints(code: &str, _op: Op, region: &str) -> Option<String> {
    Some(match code {
        "ResourceNotFoundException" => {
            format!("no such table or index in {region}: list_tables shows the tables, describe_table their indexes")
        }
        "ConditionalCheckFailedException" => {
            "the condition expression evaluated to false, so nothing was written".into()
        }
        _ => return None,
    })
}

/// DynamoDB's own rules for a table name (3-255 of `[A-Za-z0-9_.-]`), checked before any call so
/// a typo gets a clear message rather than a ValidationException. ARNs are accepted as well.
fn check_table_name(table: &str) -> Result<(), ToolError> {
    if table.starts_with("arn:") {
        return Ok(());
    }
    let ok_chars = table
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !(3..=255).contains(&table.len()) || !ok_chars {
        return Err(ToolError::invalid(
            "table",
            format!(
                "`{table}` is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ - .); list_tables shows the names"
            ),
        ));
    }
    Ok(())
}

/// `arn:aws:dynamodb:<region>:<account>:table/<name>` → `<name>`; anything else unchanged.
fn table_of_arn(table: &str) -> &str {
    match table.strip_prefix("arn:") {
        Some(rest) => rest
            .split_once(":table/")
            .map_or(table, |(_, name)| name.split('/').next().unwrap_or(name)),
        None => table,
    }
}

impl shared::core::Tools for DynamoServer {
    fn tools(&self) -> (&Core, &ToolRouter<Self>) {
        (&self.core, &self.inner.router)
    }
}

shared::server_handler!(DynamoServer, INSTRUCTIONS);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_specs_match_the_tools() {
        shared::gate::check_specs(&DynamoServer::all_routers(), TOOLS).unwrap();
        for t in DynamoServer::all_routers().list_all() {
            let a = t.annotations.as_ref().unwrap();
            let destructive = matches!(t.name.as_ref(), "delete_item" | "put_item" | "update_item");
            assert_eq!(a.destructive_hint, Some(destructive), "{}", t.name);
        }
    }

    #[test]
    fn tool_list_fits_its_budget() {
        shared::schema::check_list_budget(DynamoServer::all_routers().list_all()).unwrap();
    }

    #[test]
    fn table_names_are_checked_locally() {
        assert!(check_table_name("orders").is_ok());
        assert!(check_table_name("a.b-c_D9").is_ok());
        assert!(check_table_name("arn:aws:dynamodb:us-east-1:123456789012:table/x").is_ok());
        assert_eq!(
            table_of_arn("arn:aws:dynamodb:us-east-1:123456789012:table/orders"),
            "orders"
        );
        assert_eq!(
            table_of_arn("arn:aws:dynamodb:us-east-1:1:table/orders/index/gsi"),
            "orders"
        );
        assert_eq!(table_of_arn("orders"), "orders");
        for bad in ["", "ab", "has space", "semi;colon", &"x".repeat(256)] {
            let e = check_table_name(bad).unwrap_err();
            assert_eq!(e.kind(), "invalid_argument", "{bad}");
        }
    }
}
