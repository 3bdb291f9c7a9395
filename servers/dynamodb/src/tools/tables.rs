//! `list_tables` and `describe_table`.

use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::{Op, Output, ToolResult, aws::call};

use crate::DynamoServer;

pub(crate) const LIST_TABLES: Op = Op::new("dynamodb", "ListTables", "dynamodb:ListTables");
/// ListTables pages read per call at most, so a narrow allowlist or prefix cannot loop for long.
const MAX_LIST_CALLS: usize = 10;

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct ListTablesParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub page_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct DescribeTableParams {
    pub table: String,
    #[serde(default)]
    pub refresh: bool,
}

#[tool_router(router = table_tools, vis = "pub(crate)")]
impl DynamoServer {
    /// List table names in name order.
    #[tool(annotations(
        title = "List tables",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn list_tables(&self, Parameters(p): Parameters<ListTablesParams>) -> ToolResult {
        let prefix = p.prefix.clone().unwrap_or_default();
        let want = p.page_size.unwrap_or(100) as usize;
        // The cursor is the last name returned: names are unique and ordered, so it resumes exactly.
        let page = shared::PageArgs {
            page_size: None,
            cursor: p.cursor.clone(),
        };
        let mut start: Option<String> = self.core.page(&p, &page)?.token;
        let (mut names, mut finished) = (Vec::<String>::new(), false);
        let mut last_seen = start.clone();
        'pages: for _ in 0..MAX_LIST_CALLS {
            let out = call(
                LIST_TABLES,
                &self.inner.clients.target(),
                self.inner
                    .clients
                    .client()
                    .list_tables()
                    .set_exclusive_start_table_name(start.clone())
                    .limit(100)
                    .send(),
            )
            .await?;
            // The prefix filters names here: ListTables has no prefix, and its order is not
            // documented to be by name (moto lists in creation order), so no seek is possible.
            for name in out.table_names() {
                last_seen = Some(name.clone());
                if name.starts_with(&prefix) && self.inner.tables.allows(name) {
                    names.push(name.clone());
                    if names.len() >= want {
                        finished = out.last_evaluated_table_name().is_none() && out.table_names().last() == Some(name);
                        break 'pages;
                    }
                }
            }
            match out.last_evaluated_table_name() {
                Some(next) => start = Some(next.to_owned()),
                None => {
                    finished = true;
                    break;
                }
            }
        }
        // The cursor holds a table name (up to 255 bytes, base64-encoded), plus the note.
        let fit = self.core.budget.fit_items(&names, 1_024);
        let mut note = None;
        if fit < names.len() {
            note = Some(self.core.budget.dropped_note(
                "/tables",
                fit,
                names.len() - fit,
                "the output budget cut the list: call list_tables again with cursor = next_cursor",
            ));
            names.truncate(fit);
            last_seen = names.last().cloned();
            finished = false;
        }
        let next_cursor = if finished {
            None
        } else {
            last_seen.map(|n| {
                self.core.cursor(
                    &p,
                    &shared::Page {
                        token: Some(n),
                        skip: 0,
                    },
                )
            })
        };
        let mut result = json!({
            "tables": names,
            "next_cursor": next_cursor,
        });
        if self.inner.tables.is_restricted() {
            result["note"] = json!("only tables allowed by this server's --table patterns are listed");
        }
        if let Some(note) = note {
            shared::budget::attach(&mut result, note);
        }
        Ok(Output(result))
    }

    /// Describe a table: keys with types, indexes, item count, size, billing, TTL, stream.
    #[tool(annotations(
        title = "Describe a table",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn describe_table(&self, Parameters(p): Parameters<DescribeTableParams>) -> ToolResult {
        self.check_table(&p.table)?;
        let (table, from_cache) = if p.refresh {
            (self.refresh_table(&p.table).await?, false)
        } else {
            self.table(&p.table).await?
        };
        let mut out = table.description.clone();
        out["from_cache"] = json!(from_cache);
        Ok(Output(out))
    }
}
