//! `aws-dynamodb-mcp`: Amazon DynamoDB for AI assistants, with items as plain JSON; read-only
//! unless started with `--allow-writes`.
//!
//! - [`item`]: plain JSON <-> `AttributeValue`, and keys typed by the table's key schema.
//! - [`partiql`]: what a PartiQL statement does and which table it names, decided by lexing it.
//! - [`tables`]: table descriptions (cached) and the key schemas the tools type keys with.
//! - [`expr`]: expression attribute names/values, generated placeholders, key conditions.
//! - `tools::tables`: `list_tables`, `describe_table`.
//! - `tools::read`: `get_item`, `batch_get_items`.
//! - `tools::search`: `query`, `scan`.
//! - `tools::partiql`: `execute_partiql` (only `SELECT` without `--allow-writes`).
//! - `tools::write`: `put_item`, `update_item`, `delete_item` (only with `--allow-writes`).
//! - `resources`: `dynamodb://{table}/schema`, the table list, and completions of table names.

pub mod expr;
pub mod item;
pub mod partiql;
mod resources;
pub mod tables;
mod tools;

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use rmcp::{handler::server::router::tool::ToolRouter, model::Tool};
use shared::{Allowlist, CommonArgs, Core, Target, ToolError, TtlCache};

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
the key schema. Start with list_tables and describe_table, then query (by key) rather than scan. Results are paged: \
pass next_cursor back unchanged with the same arguments. Any `truncated` field says what was left out and how to get it.";

#[derive(Clone)]
pub struct DynamoServer {
    core: Core,
    inner: Arc<Inner>,
}

struct Inner {
    router: ToolRouter<DynamoServer>,
    client: Client,
    target: Target,
    tables: Allowlist,
    descriptions: TtlCache<String, Arc<tables::Table>>,
}

impl DynamoServer {
    pub fn new(core: Core, cli: &Cli) -> Result<Self, ToolError> {
        let tables = Allowlist::new("table", "--table", &cli.tables)
            .map_err(|e| ToolError::invalid("--table", format!("not a valid glob pattern: {e}")))?;
        let router = Self::router(core.allow_writes);
        let inner = Inner {
            router,
            client: Client::new(&core.sdk),
            target: Target::new(&core.sdk, "DYNAMODB", "dynamodb", None),
            tables,
            descriptions: core.cache(1_000),
        };
        Ok(Self {
            core,
            inner: Arc::new(inner),
        })
    }

    fn all_routers() -> ToolRouter<Self> {
        Self::table_tools() + Self::read_tools() + Self::search_tools() + Self::partiql_tools() + Self::write_tools()
    }

    /// The tools this server lists. `execute_partiql` runs only `SELECT` in read-only mode and is
    /// annotated read-only there; with writes allowed it can change and delete data, and says so.
    fn router(allow_writes: bool) -> ToolRouter<Self> {
        let router = shared::safety::gate_writes(Self::all_routers(), allow_writes);
        if !allow_writes {
            return router;
        }
        let mut out = ToolRouter::new();
        for mut route in router {
            if route.attr.name == tools::partiql::TOOL {
                let a = route.attr.annotations.get_or_insert_with(Default::default);
                a.read_only_hint = Some(false);
                a.destructive_hint = Some(true);
                a.idempotent_hint = Some(false);
                route.attr.description = Some(tools::partiql::WRITE_DESCRIPTION.into());
            }
            out.add_route(route);
        }
        out
    }

    /// Every tool as listed with `--allow-writes` (for invariant tests).
    pub fn all_tools() -> Vec<Tool> {
        Self::router(true).list_all()
    }

    /// The tools as listed without `--allow-writes`.
    pub fn read_only_tools() -> Vec<Tool> {
        Self::router(false).list_all()
    }

    /// A table a tool may use: a valid name (or ARN) inside the allowlist. For an ARN the
    /// allowlist applies to the table name in it.
    fn check_table(&self, table: &str) -> Result<(), ToolError> {
        check_table_name(table)?;
        self.inner.tables.check(table_of_arn(table))
    }
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

    fn names(tools: &[Tool]) -> Vec<&str> {
        let mut n: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        n.sort_unstable();
        n
    }

    #[test]
    fn tool_list_invariants() {
        let tools = DynamoServer::all_tools();
        shared::safety::check_tool_invariants(&tools).unwrap();
        let writes: Vec<_> = tools
            .iter()
            .filter(|t| !shared::safety::is_read_only(t))
            .map(|t| t.name.as_ref())
            .collect();
        assert_eq!(
            names(&tools),
            [
                "batch_get_items",
                "delete_item",
                "describe_table",
                "execute_partiql",
                "get_item",
                "list_tables",
                "put_item",
                "query",
                "scan",
                "update_item"
            ]
        );
        assert_eq!(writes.len(), 4, "{writes:?}");
        for t in &tools {
            let a = t.annotations.as_ref().unwrap();
            let destructive = matches!(
                t.name.as_ref(),
                "delete_item" | "put_item" | "update_item" | "execute_partiql"
            );
            assert_eq!(a.destructive_hint, Some(destructive), "{}", t.name);
        }
    }

    #[test]
    fn read_only_mode_keeps_partiql_as_a_read() {
        let tools = DynamoServer::read_only_tools();
        shared::safety::check_tool_invariants(&tools).unwrap();
        assert_eq!(
            names(&tools),
            [
                "batch_get_items",
                "describe_table",
                "execute_partiql",
                "get_item",
                "list_tables",
                "query",
                "scan"
            ]
        );
        let partiql = tools.iter().find(|t| t.name == "execute_partiql").unwrap();
        assert!(shared::safety::is_read_only(partiql));
        assert!(partiql.description.as_deref().unwrap().contains("SELECT"));
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
