//! `execute_partiql`: one PartiQL statement. Without `--allow-writes` only `SELECT` runs, decided
//! by lexing the statement (comments, case and string literals cannot fool it); the tool is then
//! annotated read-only. With writes allowed it also runs INSERT, UPDATE and DELETE, and its
//! annotations say it may destroy data.

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Op, Output, Page, PageArgs, ToolError, ToolResult, aws::call};

use crate::{
    DynamoServer,
    item::{from_json, item_to_json},
    statement::{self, StatementKind},
    tools::round_units,
};

const EXECUTE_STATEMENT: Op = Op::new(
    "dynamodb",
    "ExecuteStatement",
    "dynamodb:PartiQLSelect (or PartiQLInsert/Update/Delete)",
);
/// What the read-only session policy allows for this tool.
pub(crate) const EXECUTE_STATEMENT_READ: Op = Op::new("dynamodb", "ExecuteStatement", "dynamodb:PartiQLSelect");
const DEFAULT_PAGE: i32 = 100;

/// The description listed when writes are allowed (the read-only one is the doc comment below).
pub(crate) const WRITE_DESCRIPTION: &str = "Run one PartiQL statement: SELECT, or INSERT, UPDATE and DELETE, which \
change data. Write table and attribute names in double quotes (SELECT * FROM \"orders\" WHERE \"pk\" = ?) and pass \
values as `parameters` (plain JSON). A SELECT without a key condition scans the whole table. Results are paged with \
next_cursor.";

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct ExecutePartiqlParams {
    /// One statement.
    pub statement: String,
    /// Values for the `?` placeholders, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<Value>>,
    #[serde(default)]
    pub consistent_read: bool,
    /// Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub page_size: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// What a page of a statement resumes from: DynamoDB's NextToken and the Limit it was read with.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Resume {
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(rename = "l")]
    limit: i32,
}

fn kind_name(k: &StatementKind) -> String {
    match k {
        StatementKind::Select => "SELECT".into(),
        StatementKind::Insert => "INSERT".into(),
        StatementKind::Update => "UPDATE".into(),
        StatementKind::Delete => "DELETE".into(),
        StatementKind::Other(s) => s.clone(),
    }
}

#[tool_router(router = partiql_tools, vis = "pub(crate)")]
impl DynamoServer {
    /// Run one PartiQL SELECT (read-only server). Quote names: SELECT * FROM "t" WHERE "pk" = ?
    #[tool(annotations(
        title = "Run a PartiQL statement",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn execute_partiql(&self, Parameters(p): Parameters<ExecutePartiqlParams>) -> ToolResult {
        let kind = statement::classify(&p.statement).map_err(|e| ToolError::invalid("statement", e))?;
        let select = kind.is_read_only();
        if !select {
            let what = match &kind {
                StatementKind::Other(first) => {
                    format!("A PartiQL statement starting with `{first}` (only SELECT is known to only read)")
                }
                k => format!("A PartiQL {} statement", kind_name(k)),
            };
            self.core.require_writes(what)?;
        }
        let table = match statement::table_name(&p.statement) {
            Ok(t) => t,
            Err(why) if self.inner.tables.is_restricted() => {
                return Err(ToolError::invalid(
                    "statement",
                    format!(
                        "cannot tell which table the statement uses ({why}), and this server only allows some tables"
                    ),
                ));
            }
            Err(_) => None,
        };
        match &table {
            Some(t) => self.inner.tables.check(crate::table_of_arn(t))?,
            None if self.inner.tables.is_restricted() => {
                return Err(ToolError::invalid(
                    "statement",
                    "the statement names no table after FROM, INTO or UPDATE, and this server only allows some tables",
                ));
            }
            None => {}
        }
        let parameters = p
            .parameters
            .as_ref()
            .map(|ps| {
                ps.iter()
                    .enumerate()
                    .map(|(i, v)| {
                        from_json(v).map_err(|e| ToolError::invalid("parameters", format!("parameter {}: {e}", i + 1)))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .filter(|ps| !ps.is_empty());
        let at: Page<Resume> = self.core.page(
            &p,
            &PageArgs {
                page_size: None,
                cursor: p.cursor.clone(),
            },
        )?;
        let limit = match &at.token {
            Some(r) if at.skip > 0 => r.limit,
            _ => p.page_size.unwrap_or(DEFAULT_PAGE),
        };
        let token = at.token.as_ref().and_then(|r| r.token.clone());
        let result = call(
            EXECUTE_STATEMENT,
            &self.inner.clients.target(),
            self.inner
                .clients
                .client()
                .execute_statement()
                .statement(&p.statement)
                .set_parameters(parameters)
                // Read options only mean something for SELECT; writes get none.
                .set_consistent_read((select && p.consistent_read).then_some(true))
                .set_next_token(token.clone())
                .set_limit(select.then_some(limit))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await;
        if !kind.is_read_only()
            && let Some(t) = &table
        {
            // Item counts and sizes change; the description is re-read next time.
            self.forget(t).await;
        }
        let out = result?;
        let items: Vec<Value> = out.items().iter().map(item_to_json).collect();
        // Resuming a cut page re-runs it from the same token with the same limit.
        let here = Page {
            token: Some(Resume { token, limit }),
            skip: at.skip,
        };
        let next = out.next_token().map(|t| Resume {
            token: Some(t.to_owned()),
            limit: 0,
        });
        let envelope = json!({
            "statement_kind": kind_name(&kind),
            "table": table,
            "consumed_capacity": round_units(out.consumed_capacity().and_then(|c| c.capacity_units())),
        });
        let Output(mut result) = self.core.paged(&p, &here, next, items, "items", envelope)?;
        result["count"] = json!(result["items"].as_array().map_or(0, Vec::len));
        Ok(Output(result))
    }
}
