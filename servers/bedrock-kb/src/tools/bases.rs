//! `list_knowledge_bases`: the cached catalog, a page at a time.

use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::{Page, PageArgs, ToolResult};

use crate::BedrockKbServer;

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct ListParams {
    /// Ignore the cache and ask AWS again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh: bool,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[tool_router(router = base_tools, vis = "pub(crate)")]
impl BedrockKbServer {
    /// Knowledge bases (cached), with status and data sources.
    #[tool(annotations(
        title = "List knowledge bases",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn list_knowledge_bases(&self, Parameters(p): Parameters<ListParams>) -> ToolResult {
        let at: Page<String> = self.core.page(&p, &p.page)?;
        let (catalog, cached) = self.catalog(p.refresh).await?;
        let size = p.page.size(100) as usize;
        let rest: Vec<&crate::catalog::Base> = catalog
            .bases
            .iter()
            .filter(|b| at.token.as_ref().is_none_or(|t| b.id > *t))
            .collect();
        let more = rest.len() > size;
        let items: Vec<_> = rest.into_iter().take(size).cloned().collect();
        let mut envelope = json!({
            "count": catalog.bases.len(),
            "cached": cached,
            "fetched_at": shared::time::rfc3339_ms(catalog.fetched_at_ms),
        });
        if catalog.capped {
            envelope["note"] =
                json!("AWS listed more knowledge bases than this server reads in one discovery; narrow --kb");
        }
        if !self.inner.tags.is_empty() {
            envelope["tag_filter"] = json!(
                self.inner
                    .tags
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
            );
        }
        self.core
            .paged_after(&p, items, |b| b.id.clone(), more, "knowledge_bases", envelope)
    }
}
