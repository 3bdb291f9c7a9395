//! `list_accounts`.

use std::sync::Arc;

use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Page, PageArgs, ToolResult, accounts::Account};

use crate::{
    StsServer,
    tools::{expiry, page_of},
};

#[derive(Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct ListAccountsParams {
    /// Re-read the organization's accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<bool>,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Clone, Debug, Serialize)]
struct AccountOut {
    alias: String,
    id: String,
    role_arn: String,
    regions: Vec<String>,
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    session: Value,
}

#[tool_router(router = account_tools, vis = "pub(crate)")]
impl StsServer {
    /// Configured accounts with their regions and role sessions; with --organization also the organization's active ones.
    #[tool(annotations(
        title = "List accounts",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn list_accounts(&self, Parameters(p): Parameters<ListAccountsParams>) -> ToolResult {
        let at: Page<usize> = self.core.page(&p, &p.page)?;
        let mut all: Vec<AccountOut> = Vec::new();
        if let Some(file) = &self.core.accounts {
            for a in file.all() {
                all.push(self.account_out(a, "file", None).await);
            }
        }
        let mut envelope = json!({});
        if let Some(org) = &self.inner.org {
            match org.discover(p.refresh.unwrap_or(false)).await {
                Ok((d, cached)) => {
                    for (a, name) in &d.accounts {
                        all.push(self.account_out(a, "organization", Some(name.clone())).await);
                    }
                    envelope["organization"] = json!({
                        "discovered": d.accounts.len(),
                        "also_in_file": d.in_file.len(),
                        "skipped": d.skipped,
                        "cached": cached,
                    });
                }
                Err(e) => envelope["organization"] = json!({ "error": e.to_json()["error"] }),
            }
        }
        if self.core.accounts.is_none() {
            envelope["note"] = json!("this server has no accounts file (--accounts): whoami shows its own identity");
        }
        envelope["total"] = json!(all.len());
        let (items, next) = page_of(&all, &at, p.page.size(100));
        self.core.paged(&p, &at, next, items, "accounts", envelope)
    }
}

impl StsServer {
    async fn account_out(&self, a: &Arc<Account>, source: &'static str, name: Option<String>) -> AccountOut {
        let session = match self.inner.sessions.existing(&a.alias).await {
            Some(s) if s.account.id == a.id => {
                let info = s.info();
                let mut v = expiry(info.expires.filter(|_| info.active()));
                v["active"] = json!(info.active());
                v
            }
            _ => json!({ "active": false }),
        };
        let regions = if a.regions.is_empty() {
            vec![self.inner.sessions.home().to_owned()]
        } else {
            a.regions.clone()
        };
        AccountOut {
            alias: a.alias.clone(),
            id: a.id.clone(),
            role_arn: a.role_arn.clone(),
            regions,
            source,
            name,
            session,
        }
    }
}
