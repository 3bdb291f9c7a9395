//! `list_versions` and `list_aliases`: what a `qualifier` can name.

use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Page, PageArgs, ToolResult, aws::call};

use crate::{LIST_ALIASES, LIST_VERSIONS, LambdaServer, scan};

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub(crate) struct ListVersionsParams {
    /// Function name or ARN.
    pub function: String,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub(crate) struct ListAliasesParams {
    /// Function name or ARN.
    pub function: String,
    /// Only aliases pointing at this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[tool_router(router = version_tools, vis = "pub(crate)")]
impl LambdaServer {
    /// Published versions of a function ($LATEST first), with code hash and last modified.
    #[tool(annotations(
        title = "List versions",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn list_versions(&self, Parameters(p): Parameters<ListVersionsParams>) -> ToolResult {
        let f = self.function_arg("function", &p.function)?;
        let at: Page<String> = self.core.page(&p, &p.page)?;
        let (client, target) = self.inner.clients.get().await?;
        let req = client
            .list_versions_by_function()
            .function_name(&f.id)
            .set_marker(at.token.clone())
            .max_items(p.page.size(50).min(50) as i32)
            .send();
        let out = call(LIST_VERSIONS, &target, req).await?;
        let items: Vec<Value> = out
            .versions()
            .iter()
            .map(|v| {
                json!({
                    "version": v.version(),
                    "description": v.description().filter(|d| !d.is_empty()),
                    "last_modified": scan::time(v.last_modified()),
                    "code_sha256": v.code_sha256(),
                    "runtime": v.runtime().map(|r| r.as_str()),
                    "memory_mb": v.memory_size(),
                    "timeout_s": v.timeout(),
                    "state": v.state().map(|s| s.as_str()),
                })
            })
            .collect();
        let next = out.next_marker().filter(|m| !m.is_empty()).map(str::to_owned);
        self.core
            .paged(&p, &at, next, items, "versions", json!({ "function": f.name }))
    }

    /// Aliases of a function: the version each points at and any weighted routing.
    #[tool(annotations(
        title = "List aliases",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn list_aliases(&self, Parameters(p): Parameters<ListAliasesParams>) -> ToolResult {
        let f = self.function_arg("function", &p.function)?;
        shared::args::check_len("version", p.version.as_deref(), 1024)?;
        let at: Page<String> = self.core.page(&p, &p.page)?;
        let (client, target) = self.inner.clients.get().await?;
        let req = client
            .list_aliases()
            .function_name(&f.id)
            .set_function_version(p.version.clone().filter(|v| !v.trim().is_empty()))
            .set_marker(at.token.clone())
            .max_items(p.page.size(50).min(50) as i32)
            .send();
        let out = call(LIST_ALIASES, &target, req).await?;
        let items: Vec<Value> = out
            .aliases()
            .iter()
            .map(|a| {
                json!({
                    "name": a.name(),
                    "version": a.function_version(),
                    "description": a.description().filter(|d| !d.is_empty()),
                    "routing": a.routing_config().and_then(|r| r.additional_version_weights()),
                    "arn": a.alias_arn(),
                })
            })
            .collect();
        let next = out.next_marker().filter(|m| !m.is_empty()).map(str::to_owned);
        self.core
            .paged(&p, &at, next, items, "aliases", json!({ "function": f.name }))
    }
}
