//! `inventory` and `find_resource`: the same fan-out, the second with a required name.

use std::collections::BTreeMap;

use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Page, PageArgs, ToolError, ToolResult, accounts::is_region, context};

use crate::{
    StsServer,
    inventory::{self, Entry, Kind, Resource, Scope},
    tools::page_of,
};

/// Error entries shown at most (the rest are counted).
const MAX_ERRORS: usize = 100;

#[derive(Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct InventoryParams {
    /// Account aliases or ids (default all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// Regions (default each account's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Types (default all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<Kind>,
    /// Substring or glob (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Error codes to report as ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_error_codes: Vec<String>,
    /// Bypass the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<bool>,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct FindParams {
    /// Substring or glob (case-insensitive).
    pub name: String,
    /// Types (default all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<Kind>,
    /// Account aliases or ids (default all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// Regions (default each account's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Bypass the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<bool>,
    #[serde(flatten)]
    pub page: PageArgs,
}

/// What to match names with.
enum NameFilter {
    Any,
    Substring(String),
    Glob(globset::GlobMatcher),
}

impl NameFilter {
    fn new(name: Option<&str>) -> Result<Self, ToolError> {
        let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) else {
            return Ok(Self::Any);
        };
        if n.contains(['*', '?', '[']) {
            let glob = globset::GlobBuilder::new(n)
                .case_insensitive(true)
                .literal_separator(false)
                .build()
                .map_err(|e| ToolError::invalid("name", format!("not a valid glob pattern: {e}")))?;
            Ok(Self::Glob(glob.compile_matcher()))
        } else {
            Ok(Self::Substring(n.to_lowercase()))
        }
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Substring(s) => name.to_lowercase().contains(s),
            Self::Glob(g) => g.is_match(name),
        }
    }
}

#[tool_router(router = inventory_tools, vis = "pub(crate)")]
impl StsServer {
    /// S3 buckets, DynamoDB tables, Lambda functions, log groups and Bedrock KBs across accounts × regions; failures named.
    #[tool(annotations(
        title = "Inventory across accounts",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn inventory(&self, Parameters(p): Parameters<InventoryParams>) -> ToolResult {
        let filter = NameFilter::new(p.name.as_deref())?;
        self.run_inventory(
            &p,
            &p.page,
            &p.accounts,
            &p.regions,
            &p.types,
            &filter,
            &p.ignore_error_codes,
            p.refresh,
        )
        .await
    }

    /// Find resources by name across the inventory.
    #[tool(annotations(
        title = "Find a resource",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn find_resource(&self, Parameters(p): Parameters<FindParams>) -> ToolResult {
        if p.name.trim().is_empty() {
            return Err(ToolError::invalid(
                "name",
                "must not be empty: a substring or a glob such as orders-*",
            ));
        }
        let filter = NameFilter::new(Some(&p.name))?;
        self.run_inventory(&p, &p.page, &p.accounts, &p.regions, &p.types, &filter, &[], p.refresh)
            .await
    }
}

impl StsServer {
    #[allow(clippy::too_many_arguments)]
    async fn run_inventory<A: Serialize>(
        &self,
        args: &A,
        page: &PageArgs,
        accounts: &[String],
        regions: &[String],
        types: &[Kind],
        filter: &NameFilter,
        ignore_extra: &[String],
        refresh: Option<bool>,
    ) -> ToolResult {
        let at: Page<usize> = self.core.page(args, page)?;
        // A page after the first reads the same (cached) items as the first did.
        let refresh = refresh.unwrap_or(false) && at.token.is_none() && at.skip == 0;
        let (targets, mut org_entry) = self.targets(accounts, regions, refresh).await?;
        let kinds: Vec<Kind> = if types.is_empty() {
            Kind::ALL.to_vec()
        } else {
            let mut k = types.to_vec();
            k.sort();
            k.dedup();
            k
        };
        let mut ignore = self.inner.inventory.ignore.clone();
        ignore.extend(
            ignore_extra
                .iter()
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty()),
        );
        let ids: BTreeMap<String, Option<String>> = targets.iter().map(|t| (t.alias.clone(), t.id.clone())).collect();
        let mut run = inventory::run(
            &self.inner.inventory,
            &self.inner.sessions,
            targets,
            &kinds,
            refresh,
            &ignore,
        )
        .await;
        let matched: Vec<Resource> = run.resources.drain(..).filter(|r| filter.matches(&r.name)).collect();

        let mut per_account: BTreeMap<String, Value> = ids
            .iter()
            .map(|(alias, id)| (alias.clone(), json!({ "id": id })))
            .collect();
        for r in &matched {
            if let Some(v) = per_account.get_mut(&r.account) {
                let n = v[r.kind.as_str()].as_u64().unwrap_or(0) + 1;
                v[r.kind.as_str()] = json!(n);
            }
        }
        for e in &run.errors {
            if let Some(v) = per_account.get_mut(&e.account) {
                let n = v["errors"].as_u64().unwrap_or(0) + 1;
                v["errors"] = json!(n);
            }
        }
        let mut complete = run.complete();
        if let Some(e) = org_entry.take() {
            complete = false;
            run.errors.insert(0, e);
        }
        let error_count = run.errors.len();
        let shown_errors: Vec<Entry> = run.errors.iter().take(MAX_ERRORS).cloned().collect();
        let mut envelope = json!({
            "complete": complete,
            "counts": {
                "accounts": per_account,
                "items": {
                    "ok": run.ok,
                    "failed": run.failed,
                    "ignored": run.ignored.len(),
                    "skipped": run.skipped,
                    "from_cache": run.from_cache,
                },
                "resources": matched.len(),
                "elapsed_ms": run.elapsed.as_millis() as u64,
            },
        });
        if !shown_errors.is_empty() {
            envelope["errors"] = json!(shown_errors);
        }
        if error_count > MAX_ERRORS {
            envelope["errors_not_shown"] = json!(error_count - MAX_ERRORS);
        }
        if !run.ignored.is_empty() {
            let ignored: Vec<String> = run
                .ignored
                .iter()
                .take(MAX_ERRORS)
                .map(|e| {
                    let mut s = e.account.clone();
                    for part in [e.region.as_deref(), e.kind.map(Kind::as_str), e.code.as_deref()]
                        .into_iter()
                        .flatten()
                    {
                        s.push(' ');
                        s.push_str(part);
                    }
                    s
                })
                .collect();
            envelope["ignored"] = json!(ignored);
        }
        if !run.capped.is_empty() {
            envelope["capped"] = json!(run.capped);
        }
        let (items, next) = page_of(&matched, &at, page.size(200));
        self.core.paged(args, &at, next, items, "resources", envelope)
    }

    /// The accounts and regions a call covers: the call's `account`, else the accounts file (and
    /// the organization), else the server's own credentials; narrowed by the filters. An
    /// organization that cannot be listed is an error entry, not a failure of the call.
    async fn targets(
        &self,
        accounts: &[String],
        regions: &[String],
        refresh: bool,
    ) -> Result<(Vec<Scope>, Option<Entry>), ToolError> {
        let call = context::current();
        if let Some(bad) = regions.iter().find(|r| !is_region(r)) {
            return Err(ToolError::invalid(
                "regions",
                format!("`{bad}` is not a region name like us-east-1"),
            ));
        }
        let mut want_regions: Vec<String> = regions.to_vec();
        if let Some(r) = &call.region {
            if !want_regions.is_empty() && !want_regions.contains(r) {
                return Err(ToolError::invalid(
                    "regions",
                    format!("does not include the call's region {r}"),
                ));
            }
            want_regions = vec![r.clone()];
        }
        let home = self.inner.sessions.home().to_owned();
        let mut org_entry = None;
        let mut discovered = None;
        let mut all: Vec<Scope> = Vec::new();
        let target = |a: &std::sync::Arc<shared::accounts::Account>| Scope {
            account: Some(a.clone()),
            alias: a.alias.clone(),
            id: Some(a.id.clone()),
            regions: a.regions.clone(),
        };
        match (&call.account, &self.core.accounts) {
            (Some(a), _) => all.push(target(a)),
            (None, Some(file)) => {
                all.extend(file.all().map(target));
                if let Some(org) = &self.inner.org {
                    match org.discover(refresh).await {
                        Ok((d, _)) => {
                            all.extend(d.accounts.iter().map(|(a, _)| target(a)));
                            discovered = Some(d);
                        }
                        Err(e) => {
                            org_entry = Some(Entry {
                                account: "organization".into(),
                                account_id: None,
                                region: None,
                                kind: None,
                                category: serde_json::to_value(shared::fanout::category(&e))
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_owned))
                                    .unwrap_or_else(|| "other".into()),
                                code: e.code().map(str::to_owned),
                                message: format!("the organization's accounts could not be listed: {e}"),
                            })
                        }
                    }
                }
            }
            (None, None) => all.push(Scope {
                account: None,
                alias: "self".into(),
                id: None,
                regions: self.core.regions.to_vec(),
            }),
        }
        if !accounts.is_empty() {
            let known: Vec<String> = all.iter().map(|t| t.alias.clone()).collect();
            let mut wanted: Vec<String> = Vec::new();
            for want in accounts {
                if let Some(t) = all.iter().find(|t| &t.alias == want || t.id.as_ref() == Some(want)) {
                    wanted.push(t.alias.clone());
                    continue;
                }
                // The organization's accounts may also be named by their organization name.
                let named = discovered.as_deref().map(|d| d.named(want));
                let alias = match &named {
                    Some(crate::org::Named::Active(a)) => Some(a.alias.clone()),
                    Some(crate::org::Named::InFile(id)) => {
                        all.iter().find(|t| t.id.as_ref() == Some(id)).map(|t| t.alias.clone())
                    }
                    _ => None,
                };
                if let Some(alias) = alias.filter(|a| known.contains(a)) {
                    wanted.push(alias);
                    continue;
                }
                let unknown = || {
                    format!(
                        "`{}` is not an account of this call; use one of: {}",
                        crate::org::shown(want),
                        known.join(", ")
                    )
                };
                let why = match &named {
                    Some(n) => n.refusal(want, unknown).unwrap_or_else(unknown),
                    None => unknown(),
                };
                return Err(ToolError::invalid("accounts", why));
            }
            all.retain(|t| wanted.contains(&t.alias));
        }
        for t in &mut all {
            let own = if t.regions.is_empty() {
                vec![home.clone()]
            } else {
                t.regions.clone()
            };
            t.regions = if want_regions.is_empty() {
                own
            } else if t.regions.is_empty() {
                want_regions.clone()
            } else {
                own.into_iter().filter(|r| want_regions.contains(r)).collect()
            };
        }
        if !want_regions.is_empty() && all.iter().all(|t| t.regions.is_empty()) {
            return Err(ToolError::invalid(
                "regions",
                format!("none of the selected accounts uses {}", want_regions.join(", ")),
            ));
        }
        Ok((all, org_entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_by_substring_or_glob_ignoring_case() {
        let sub = NameFilter::new(Some("Orders")).unwrap();
        assert!(sub.matches("prod-orders-v2") && !sub.matches("order"));
        let glob = NameFilter::new(Some("prod-*-v?")).unwrap();
        assert!(glob.matches("PROD-orders-v2") && !glob.matches("prod-orders-v10"));
        assert!(NameFilter::new(Some("  ")).unwrap().matches("anything"));
        let e = NameFilter::new(Some("[a")).err().unwrap().to_string();
        assert!(e.contains("`name`"), "{e}");
    }

    #[test]
    fn pages_slice_from_their_start() {
        let all: Vec<u32> = (0..5).collect();
        let first = Page::<usize>::default();
        assert_eq!(page_of(&all, &first, 2), (vec![0, 1], Some(2)));
        let last = Page {
            token: Some(4),
            skip: 0,
        };
        assert_eq!(page_of(&all, &last, 2), (vec![4], None));
        let beyond = Page {
            token: Some(9),
            skip: 0,
        };
        assert_eq!(page_of(&all, &beyond, 2), (vec![], None));
    }
}
