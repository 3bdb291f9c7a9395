//! MCP resources: `bedrock-kb://knowledge-bases` (the cached catalog, as list_knowledge_bases
//! sees it), `bedrock-kb://{kb_id}` (one base's configuration with its data sources), and
//! completions of knowledge base ids (by id or name prefix).

use rmcp::{
    ErrorData,
    model::{
        CompleteRequestParams, CompleteResult, ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult,
        Reference, Resource, ResourceContents, ResourceTemplate,
    },
};
use serde_json::{Value, json};
use shared::{
    ToolError,
    aws::call,
    core::{completion, resource_error},
};

use crate::{BedrockKbServer, GET_KNOWLEDGE_BASE, catalog};

pub(crate) const CATALOG_URI: &str = "bedrock-kb://knowledge-bases";
pub(crate) const TEMPLATE: &str = "bedrock-kb://{kb_id}";
const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];
/// What resources/list cursors are bound to.
const LIST_TOOL: &str = "resources/list";
/// Resources per resources/list page at most (the output budget may cut a page shorter).
const RESOURCE_PAGE: usize = 50;

fn uri(id: &str) -> String {
    format!("bedrock-kb://{id}")
}

fn json_contents(uri: &str, v: &Value) -> ReadResourceResult {
    ReadResourceResult::new(vec![
        ResourceContents::text(v.to_string(), uri).with_mime_type("application/json"),
    ])
}

impl shared::core::Resources for BedrockKbServer {
    fn templates(&self) -> ListResourceTemplatesResult {
        ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(TEMPLATE, "knowledge-base")
                .with_title("Bedrock knowledge base")
                .with_description("One knowledge base: configuration, storage, status and its data sources.")
                .with_mime_type("application/json"),
        ])
    }

    async fn list(&self, cursor: Option<String>) -> Result<ListResourcesResult, ErrorData> {
        // The cursor is the last id listed ("" for the catalog entry, which sorts first).
        let after: Option<String> = match cursor.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(c) => Some(
                self.core
                    .cursors
                    .open(LIST_TOOL, &(), c)
                    .map_err(|e| resource_error("", e, NOT_FOUND))?,
            ),
            None => None,
        };
        let mut entries: Vec<(String, Resource)> = Vec::new();
        if after.is_none() {
            entries.push((
                String::new(),
                Resource::new(CATALOG_URI, "knowledge-bases")
                    .with_title("Bedrock knowledge bases")
                    .with_description("The knowledge bases this server may use, with their data sources (cached)")
                    .with_mime_type("application/json"),
            ));
        }
        // A catalog that cannot be read (no credentials yet) leaves the static entry: listing
        // resources must not fail a client's start-up.
        match self.catalog(false).await {
            Ok((catalog, _)) => entries.extend(
                catalog
                    .bases
                    .iter()
                    .filter(|b| after.as_ref().is_none_or(|a| b.id > *a))
                    .map(|b| {
                        let r = Resource::new(uri(&b.id), b.name.clone())
                            .with_description(
                                b.description
                                    .clone()
                                    .unwrap_or_else(|| format!("knowledge base {}", b.id)),
                            )
                            .with_mime_type("application/json");
                        (b.id.clone(), r)
                    }),
            ),
            Err(e) => tracing::debug!("resources/list without knowledge bases: {e}"),
        }
        let more_than_page = entries.len() > RESOURCE_PAGE;
        entries.truncate(RESOURCE_PAGE);
        let resources: Vec<&Resource> = entries.iter().map(|(_, r)| r).collect();
        let fit = self.core.budget.fit_items(&resources, 256);
        let next = (more_than_page || fit < entries.len())
            .then(|| {
                entries
                    .get(fit.saturating_sub(1))
                    .map(|(id, _)| self.core.cursors.issue(LIST_TOOL, &(), id))
            })
            .flatten();
        entries.truncate(fit);
        let mut result = ListResourcesResult::with_all_items(entries.into_iter().map(|(_, r)| r).collect());
        result.next_cursor = next;
        Ok(result)
    }

    async fn read(&self, uri: &str) -> Result<ReadResourceResult, ErrorData> {
        if uri == CATALOG_URI {
            let (catalog, cached) = self
                .catalog(false)
                .await
                .map_err(|e| resource_error(uri, e, NOT_FOUND))?;
            let body = json!({
                "knowledge_bases": catalog.bases,
                "count": catalog.bases.len(),
                "cached": cached,
                "fetched_at": shared::time::rfc3339_ms(catalog.fetched_at_ms),
            });
            return Ok(json_contents(uri, &self.core.budget.enforce(body)));
        }
        let id = uri
            .strip_prefix("bedrock-kb://")
            .filter(|id| !id.is_empty() && !id.contains('/'))
            .ok_or_else(|| {
                ErrorData::invalid_params(
                    format!("`{uri}` is not a knowledge base URI; use {TEMPLATE} or {CATALOG_URI}"),
                    None,
                )
            })?;
        let body = self.describe(id).await.map_err(|e| resource_error(uri, e, NOT_FOUND))?;
        Ok(json_contents(uri, &self.core.budget.enforce(body)))
    }

    async fn complete(&self, request: CompleteRequestParams) -> Result<CompleteResult, ErrorData> {
        let is_template = matches!(&request.r#ref, Reference::Resource(r) if r.uri == TEMPLATE);
        if !is_template || request.argument.name != "kb_id" {
            return completion(Vec::new());
        }
        let typed = request.argument.value.to_ascii_lowercase();
        // Completion failures give no suggestions rather than an error.
        let values = match self.catalog(false).await {
            Ok((catalog, _)) => catalog
                .bases
                .iter()
                .filter(|b| {
                    b.id.to_ascii_lowercase().starts_with(&typed) || b.name.to_ascii_lowercase().starts_with(&typed)
                })
                .map(|b| b.id.clone())
                .collect(),
            Err(_) => Vec::new(),
        };
        completion(values)
    }
}

impl BedrockKbServer {
    /// One base as the resource shows it: GetKnowledgeBase plus its data sources.
    async fn describe(&self, id: &str) -> Result<Value, ToolError> {
        self.check_kb("kb_id", id).await?;
        let (client, target) = self.inner.agent.get().await?;
        let out = call(
            GET_KNOWLEDGE_BASE,
            &target,
            client.get_knowledge_base().knowledge_base_id(id).send(),
        )
        .await?;
        let Some(kb) = out.knowledge_base() else {
            return Err(ToolError::aws_code(
                GET_KNOWLEDGE_BASE,
                &target,
                "ResourceNotFoundException",
                format!("no knowledge base {id}"),
                None,
            ));
        };
        let (data_sources, data_sources_error) = match catalog::data_sources(&client, &target, id).await {
            Ok(d) => (Some(d), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Ok(json!({
            "id": kb.knowledge_base_id(),
            "name": kb.name(),
            "arn": kb.knowledge_base_arn(),
            "description": kb.description(),
            "status": kb.status().as_str(),
            "type": kb.knowledge_base_configuration().map(|c| c.r#type().as_str()),
            "storage_type": kb.storage_configuration().map(|s| s.r#type().as_str()),
            "role_arn": kb.role_arn(),
            "created_at": shared::time::rfc3339(kb.created_at()),
            "updated_at": shared::time::rfc3339(kb.updated_at()),
            "failure_reasons": kb.failure_reasons(),
            "data_sources": data_sources,
            "data_sources_error": data_sources_error,
        }))
    }
}
