//! MCP resources: `lambda://{function}/configuration` (get_function's answer), `resources/list` of
//! the allowed functions with a cursor, and completions for function names.

use rmcp::{
    ErrorData,
    model::{
        CompleteRequestParams, CompleteResult, ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult,
        Reference, Resource, ResourceContents, ResourceTemplate,
    },
};
use shared::{
    budget,
    core::{MAX_COMPLETIONS, completion, resource_error},
};

use crate::{LambdaServer, scan};

pub(crate) const TEMPLATE: &str = "lambda://{function}/configuration";
/// Cursor binding for `resources/list` (outside any tool call).
const LIST: &str = "resources/list";
/// Most resources one `resources/list` page carries.
const PAGE: usize = 100;
/// AWS pages a `resources/list` or completion call may read while filtering.
const MAX_PAGES: usize = 20;

fn uri_of(function: &str) -> String {
    format!("lambda://{function}/configuration")
}

/// `lambda://name/configuration` → name.
fn parse_uri(uri: &str) -> Result<&str, ErrorData> {
    uri.strip_prefix("lambda://")
        .and_then(|rest| rest.strip_suffix("/configuration"))
        .filter(|name| !name.is_empty() && !name.contains('/'))
        .ok_or_else(|| {
            ErrorData::invalid_params(
                format!("`{uri}` is not a resource of this server; use {TEMPLATE}"),
                None,
            )
        })
}

impl shared::core::Resources for LambdaServer {
    fn templates(&self) -> ListResourceTemplatesResult {
        ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(TEMPLATE, "lambda-function-configuration")
                .with_title("Lambda function configuration")
                .with_description("A function's configuration, state, tags and environment variable names (as get_function shows them).")
                .with_mime_type("application/json"),
        ])
    }

    async fn list(&self, cursor: Option<String>) -> Result<ListResourcesResult, ErrorData> {
        let at: scan::Pos = match cursor.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(c) => self
                .core
                .cursors
                .open(LIST, &(), c)
                .map_err(|e| resource_error("", e, &[]))?,
            None => scan::Pos::default(),
        };
        let (client, target) = self.inner.clients.get().await.map_err(|e| resource_error("", e, &[]))?;
        let allow = &self.inner.allow;
        let found = scan::functions(&client, &target, at, PAGE, MAX_PAGES, |f| {
            allow.allows(f.function_name().unwrap_or_default())
        })
        .await
        .map_err(|e| resource_error("", e, &[]))?;
        let resources: Vec<Resource> = found
            .items
            .iter()
            .take(PAGE)
            .map(|(_, c)| {
                // One resource per function found, so positions and resources stay in step.
                let name = c.function_name().unwrap_or_default();
                let mut what = vec!["Lambda function".to_owned()];
                what.extend(c.runtime().map(|r| r.as_str().to_owned()));
                what.extend(c.description().filter(|d| !d.is_empty()).map(|d| format!("– {d}")));
                Resource::new(uri_of(name), name.to_owned())
                    .with_mime_type("application/json")
                    .with_description(what.join(" "))
            })
            .collect();
        // Clients often load resource lists into context whole: a page is a quarter of the budget.
        let room = self.core.budget.max_bytes() / 4;
        let mut used = 0;
        let mut fit = 0;
        for r in &resources {
            used += budget::json_len(r) + 1;
            if used > room && fit > 0 {
                break;
            }
            fit += 1;
        }
        let (_, next) = scan::cut(found, fit);
        let mut resources = resources;
        resources.truncate(fit);
        let mut result = ListResourcesResult::with_all_items(resources);
        result.next_cursor = next.map(|n| self.core.cursors.issue(LIST, &(), &n));
        Ok(result)
    }

    async fn read(&self, uri: &str) -> Result<ReadResourceResult, ErrorData> {
        let name = parse_uri(uri)?;
        let not_found = &["ResourceNotFoundException"];
        let f = self
            .function_arg("function", name)
            .map_err(|e| resource_error(uri, e, not_found))?;
        let (v, _) = self
            .function_details(&f, None)
            .await
            .map_err(|e| resource_error(uri, e, not_found))?;
        let v = self.core.budget.enforce(v);
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(v.to_string(), uri).with_mime_type("application/json"),
        ]))
    }

    async fn complete(&self, request: CompleteRequestParams) -> Result<CompleteResult, ErrorData> {
        let is_ours = matches!(&request.r#ref, Reference::Resource(r) if r.uri == TEMPLATE);
        if !is_ours || request.argument.name != "function" {
            return completion(Vec::new());
        }
        let typed = request.argument.value.to_ascii_lowercase();
        // Completion failures (no permission, endpoint down) give no suggestions, not an error.
        let Ok((client, target)) = self.inner.clients.get().await else {
            return completion(Vec::new());
        };
        let allow = &self.inner.allow;
        let names = match scan::functions(
            &client,
            &target,
            scan::Pos::default(),
            MAX_COMPLETIONS + 1,
            MAX_PAGES,
            |f| {
                let n = f.function_name().unwrap_or_default();
                allow.allows(n) && n.to_ascii_lowercase().starts_with(&typed)
            },
        )
        .await
        {
            Ok(found) => found
                .items
                .iter()
                .take(MAX_COMPLETIONS + 1)
                .filter_map(|(_, f)| f.function_name().map(str::to_owned))
                .collect(),
            Err(_) => Vec::new(),
        };
        completion(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(parse_uri("lambda://orders/configuration").unwrap(), "orders");
        assert!(parse_uri("lambda:///configuration").is_err());
        assert!(parse_uri("lambda://a/b/configuration").is_err());
        assert!(parse_uri("s3://orders/configuration").is_err());
        assert_eq!(uri_of("f"), "lambda://f/configuration");
    }
}
