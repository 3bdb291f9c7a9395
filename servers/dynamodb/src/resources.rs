//! MCP resources: `dynamodb://{table}/schema` (the table description as JSON, the same as
//! `describe_table`), `resources/list` of the allowed tables with a cursor, and completions of
//! table names for the template.

use rmcp::{
    ErrorData,
    model::{
        CompleteRequestParams, CompleteResult, CompletionInfo, ListResourceTemplatesResult, ListResourcesResult,
        ReadResourceResult, Reference, Resource, ResourceContents, ResourceTemplate,
    },
};
use shared::{ToolError, aws::call};

use crate::{DynamoServer, tools::tables::LIST_TABLES};

pub(crate) const TEMPLATE: &str = "dynamodb://{table}/schema";
const RESOURCE_PAGE: i32 = 100;
/// Completion lists are capped by MCP at 100 values.
const MAX_COMPLETIONS: usize = 100;
/// ListTables pages a completion may read.
const MAX_COMPLETION_CALLS: usize = 10;

fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(TEMPLATE, "dynamodb-table-schema")
            .with_title("DynamoDB table schema")
            .with_description(
                "A table's description as JSON: key schema with types, indexes, item count, size, billing, TTL, stream.",
            )
            .with_mime_type("application/json"),
    ])
}

pub(crate) fn uri(table: &str) -> String {
    format!("dynamodb://{table}/schema")
}

/// Tool errors become protocol errors for resources: a missing table is MCP's
/// resource-not-found, other AWS failures internal errors, the rest invalid params.
fn to_mcp(uri: &str, e: ToolError) -> ErrorData {
    shared::core::resource_error(uri, e, &["ResourceNotFoundException"])
}

/// `dynamodb://orders/schema` → `orders`.
fn parse_uri(uri: &str) -> Result<&str, ErrorData> {
    uri.strip_prefix("dynamodb://")
        .and_then(|rest| rest.strip_suffix("/schema"))
        .filter(|t| !t.is_empty() && !t.contains('/'))
        .ok_or_else(|| {
            ErrorData::invalid_params(
                format!("`{uri}` is not a table schema URI; use dynamodb://{{table}}/schema"),
                None,
            )
        })
}

impl shared::core::Resources for DynamoServer {
    fn templates(&self) -> ListResourceTemplatesResult {
        templates()
    }

    async fn list(&self, cursor: Option<String>) -> Result<ListResourcesResult, ErrorData> {
        let page = shared::PageArgs {
            page_size: None,
            cursor,
        };
        let start: Option<String> = self.core.page(&(), &page).map_err(|e| to_mcp("", e))?.token;
        let out = call(
            LIST_TABLES,
            &self.inner.clients.target(),
            self.inner
                .clients
                .client()
                .list_tables()
                .set_exclusive_start_table_name(start)
                .limit(RESOURCE_PAGE)
                .send(),
        )
        .await
        .map_err(|e| to_mcp("", e))?;
        let mut resources: Vec<Resource> = out
            .table_names()
            .iter()
            .filter(|n| self.inner.tables.allows(n))
            .map(|name| {
                Resource::new(uri(name), name.clone())
                    .with_title(format!("DynamoDB table {name}"))
                    .with_mime_type("application/json")
                    .with_description("Key schema, indexes, item count, size, billing, TTL and stream of this table")
            })
            .collect();
        // Names are unique and ordered, so the cursor is simply the last name listed (or kept,
        // when the output budget cuts the page).
        let fit = self.core.budget.fit_items(&resources, 256);
        let last = if fit < resources.len() {
            resources.truncate(fit);
            resources.last().map(|r| r.name.clone())
        } else {
            out.last_evaluated_table_name().map(str::to_owned)
        };
        let mut result = ListResourcesResult::with_all_items(resources);
        result.next_cursor = last.map(|last| {
            self.core.cursor(
                &(),
                &shared::Page {
                    token: Some(last),
                    skip: 0,
                },
            )
        });
        Ok(result)
    }

    async fn read(&self, uri: &str) -> Result<ReadResourceResult, ErrorData> {
        let table = parse_uri(uri)?;
        self.check_table(table).map_err(|e| to_mcp(uri, e))?;
        let (t, _) = self.table(table).await.map_err(|e| to_mcp(uri, e))?;
        let body = self.core.budget.enforce(t.description.clone());
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(body.to_string(), uri).with_mime_type("application/json"),
        ]))
    }

    async fn complete(&self, request: CompleteRequestParams) -> Result<CompleteResult, ErrorData> {
        let is_template = matches!(&request.r#ref, Reference::Resource(r) if r.uri == TEMPLATE);
        let values = if is_template && request.argument.name == "table" {
            self.complete_tables(&request.argument.value).await
        } else {
            Vec::new()
        };
        let total = values.len() as u32;
        let info = CompletionInfo::with_pagination(values, Some(total), false)
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        Ok(CompleteResult::new(info))
    }
}

impl DynamoServer {
    /// Allowed table names starting with `typed`. Failures (no permission, endpoint down) give no
    /// suggestions rather than an error.
    async fn complete_tables(&self, typed: &str) -> Vec<String> {
        let mut start = None;
        let mut names = Vec::new();
        for _ in 0..MAX_COMPLETION_CALLS {
            let req = self
                .inner
                .clients
                .client()
                .list_tables()
                .set_exclusive_start_table_name(start.clone())
                .limit(100);
            let Ok(out) = call(LIST_TABLES, &self.inner.clients.target(), req.send()).await else {
                break;
            };
            for name in out.table_names() {
                if name.starts_with(typed) && self.inner.tables.allows(name) {
                    names.push(name.clone());
                    if names.len() >= MAX_COMPLETIONS {
                        return names;
                    }
                }
            }
            match out.last_evaluated_table_name() {
                Some(n) => start = Some(n.to_owned()),
                None => break,
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(parse_uri("dynamodb://orders/schema").unwrap(), "orders");
        assert_eq!(parse_uri(&uri("a.b-c")).unwrap(), "a.b-c");
        for bad in [
            "dynamodb:///schema",
            "dynamodb://orders",
            "s3://orders/schema",
            "dynamodb://a/b/schema",
        ] {
            assert!(parse_uri(bad).is_err(), "{bad}");
        }
    }
}
