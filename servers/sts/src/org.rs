//! Accounts discovered through AWS Organizations (`--organization`): ListAccounts with the
//! server's own credentials (the management or a delegated administrator account), cached with
//! the server's TTL. Only ACTIVE accounts are used; suspended, closed and pending ones are skipped
//! and reported. Each is reached through the `role_name` (and the other settings) of the accounts
//! file's `[defaults]`; an account the file names itself keeps the file's settings.
//!
//! Discovered accounts are built by the shared accounts-file parser from a generated document, so
//! they are validated exactly like the file's. (Belongs in shared: a constructor for an account
//! from an id and the file's defaults.) A tool's `account` may name one by its alias, its id or
//! its organization name; a skipped one is refused saying why ([`Discovered::named`]).

use std::{collections::BTreeSet, path::Path, sync::Arc};

use serde::Serialize;
use shared::{ConfigError, Core, Target, ToolError, TtlCache, accounts::Account, accounts::Accounts};

use crate::LIST_ORG_ACCOUNTS;

/// ListAccounts pages read at most (20 accounts each: 10,000 accounts).
const MAX_PAGES: usize = 500;

/// An account of the organization that is not used, and why.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Skipped {
    pub id: String,
    pub name: String,
    pub state: String,
}

/// What one discovery found.
#[derive(Clone, Debug, Default)]
pub(crate) struct Discovered {
    /// Active accounts the accounts file does not name, with their organization name.
    pub accounts: Vec<(Arc<Account>, String)>,
    /// The same accounts by alias, as the dispatch resolves a tool's `account` against them.
    pub by_alias: Arc<Accounts>,
    pub skipped: Vec<Skipped>,
    /// Active accounts the file names (its settings are used): id and organization name.
    pub in_file: Vec<(String, String)>,
}

impl Discovered {
    /// What `name` designates among the organization's accounts: an active account by its alias,
    /// its id or its organization name (any case), or a skipped one by its id, name or alias.
    pub(crate) fn named(&self, name: &str) -> Named<'_> {
        if let Some((a, _)) = self.accounts.iter().find(|(a, _)| a.alias == name || a.id == name) {
            return Named::Active(a);
        }
        let by_name: Vec<&Arc<Account>> = self
            .accounts
            .iter()
            .filter(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(a, _)| a)
            .collect();
        let file_ids: Vec<&String> = self
            .in_file
            .iter()
            .filter(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(id, _)| id)
            .collect();
        match (by_name.as_slice(), file_ids.as_slice()) {
            ([one], []) => return Named::Active(one),
            ([], [id]) => return Named::InFile((*id).clone()),
            ([], []) => {}
            (many, ids) => {
                let mut all: Vec<String> = many.iter().map(|a| a.id.clone()).collect();
                all.extend(ids.iter().map(|id| (*id).clone()));
                return Named::Ambiguous(all);
            }
        }
        match self
            .skipped
            .iter()
            .find(|s| s.id == name || s.name.eq_ignore_ascii_case(name) || alias_of(&s.name) == name)
        {
            Some(s) => Named::Skipped(s),
            None => Named::Unknown,
        }
    }
}

/// What a name given as an account designates in the organization ([`Discovered::named`]).
#[derive(Debug)]
pub(crate) enum Named<'a> {
    Active(&'a Arc<Account>),
    /// An account of the accounts file, by its organization name: its id.
    InFile(String),
    /// A suspended, closed or pending account: never used.
    Skipped(&'a Skipped),
    /// An organization name several active accounts share: their ids.
    Ambiguous(Vec<String>),
    Unknown,
}

impl Named<'_> {
    /// Why `name` cannot be used (`None` for a usable account; `Unknown` gives `unknown`).
    pub(crate) fn refusal(&self, name: &str, unknown: impl FnOnce() -> String) -> Option<String> {
        let name = shown(name);
        match self {
            Named::Active(_) | Named::InFile(_) => None,
            Named::Skipped(s) => Some(format!(
                "account `{name}` ({}, \"{}\") is {} in the organization: suspended and closed accounts are \
                 skipped and cannot be used",
                s.id, s.name, s.state
            )),
            Named::Ambiguous(ids) => Some(format!(
                "`{name}` is the name of {} accounts of the organization ({}): name one by its id",
                ids.len(),
                ids.join(", ")
            )),
            Named::Unknown => Some(unknown()),
        }
    }
}

/// A name as errors show it: at most 64 characters (it comes from the caller).
pub(crate) fn shown(name: &str) -> String {
    match name.char_indices().nth(64) {
        Some((at, _)) => format!("{}…", &name[..at]),
        None => name.to_owned(),
    }
}

pub(crate) struct Org {
    client: aws_sdk_organizations::Client,
    target: Target,
    /// `[defaults]` of the accounts file, as TOML.
    defaults: toml::Table,
    file_ids: BTreeSet<String>,
    file_aliases: BTreeSet<String>,
    cache: TtlCache<(), Arc<Discovered>>,
}

impl Org {
    pub(crate) fn new(core: &Core, accounts_file: Option<&Path>) -> Result<Self, ConfigError> {
        let flag_error = |message: String| ConfigError::Flag {
            flag: "--organization",
            message,
        };
        let path = accounts_file.ok_or_else(|| {
            flag_error("needs an accounts file (--accounts) whose [defaults] names the role_name to assume".into())
        })?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Accounts(format!("cannot read {}: {e}", path.display())))?;
        let doc: toml::Table =
            toml::from_str(&text).map_err(|e| ConfigError::Accounts(format!("{}: {e}", path.display())))?;
        let defaults = match doc.get("defaults") {
            Some(toml::Value::Table(t)) => t.clone(),
            _ => toml::Table::new(),
        };
        if !defaults.contains_key("role_name") {
            return Err(flag_error(format!(
                "needs `role_name` in the [defaults] of {}: the role every discovered account is assumed through",
                path.display()
            )));
        }
        let (file_ids, file_aliases) = match &core.accounts {
            Some(a) => (
                a.all().map(|a| a.id.clone()).collect(),
                a.aliases().into_iter().collect(),
            ),
            None => Default::default(),
        };
        Ok(Self {
            client: aws_sdk_organizations::Client::new(&core.sdk),
            target: Target::new(&core.sdk, "ORGANIZATIONS", "organizations", None),
            defaults,
            file_ids,
            file_aliases,
            cache: core.cache(1),
        })
    }

    /// The role every discovered account is assumed through.
    pub(crate) fn role_name(&self) -> &str {
        self.defaults
            .get("role_name")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    }

    /// The organization's accounts (cached unless `refresh`), and whether they came from the cache.
    pub(crate) async fn discover(&self, refresh: bool) -> Result<(Arc<Discovered>, bool), ToolError> {
        if refresh {
            self.cache.invalidate(&()).await;
        }
        self.cache
            .get_or_fetch((), async { self.fetch().await.map(Arc::new) })
            .await
    }

    async fn fetch(&self) -> Result<Discovered, ToolError> {
        let mut found: Vec<(String, String, String)> = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let out = shared::aws::call(
                LIST_ORG_ACCOUNTS,
                &self.target,
                self.client.list_accounts().set_next_token(token.take()).send(),
            )
            .await?;
            for a in out.accounts() {
                let Some(id) = a.id() else { continue };
                #[allow(deprecated)]
                let state = a
                    .state()
                    .map(|s| s.as_str().to_owned())
                    .or_else(|| a.status().map(|s| s.as_str().to_owned()))
                    .unwrap_or_default();
                found.push((id.to_owned(), a.name().unwrap_or_default().to_owned(), state));
            }
            token = out.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        self.build(found).map_err(|e| {
            ToolError::Other(format!(
                "the organization's accounts could not be set up with the accounts file's [defaults]: {e}"
            ))
        })
    }

    /// Accounts from (id, name, state) rows.
    fn build(&self, rows: Vec<(String, String, String)>) -> Result<Discovered, String> {
        let mut d = Discovered::default();
        let mut used: BTreeSet<String> = self.file_aliases.clone();
        let mut table = toml::Table::new();
        let mut names = Vec::new();
        for (id, name, state) in rows {
            if !state.eq_ignore_ascii_case("ACTIVE") {
                d.skipped.push(Skipped { id, name, state });
                continue;
            }
            if self.file_ids.contains(&id) {
                d.in_file.push((id, name));
                continue;
            }
            let mut alias = alias_of(&name);
            if alias.is_empty() || used.contains(&alias) {
                alias = if alias.is_empty() {
                    format!("acct-{id}")
                } else {
                    format!("{alias}-{id}")
                };
            }
            if used.contains(&alias) {
                continue; // the same id listed twice
            }
            used.insert(alias.clone());
            let mut entry = toml::Table::new();
            entry.insert("id".into(), toml::Value::String(id.clone()));
            table.insert(alias.clone(), toml::Value::Table(entry));
            names.push((alias, name));
        }
        if names.is_empty() {
            return Ok(d);
        }
        let mut doc = toml::Table::new();
        doc.insert("defaults".into(), toml::Value::Table(self.defaults.clone()));
        doc.insert("accounts".into(), toml::Value::Table(table));
        let text = toml::to_string(&doc).map_err(|e| e.to_string())?;
        let accounts = Accounts::parse(&text)?;
        for (alias, name) in names {
            if let Ok(a) = accounts.get(&alias) {
                d.accounts.push((a, name));
            }
        }
        d.by_alias = Arc::new(accounts);
        Ok(d)
    }
}

/// An alias from an organization account name: lower case letters, digits and `-`.
fn alias_of(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-')
        .chars()
        .take(40)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discovered() -> Discovered {
        let accounts =
            Accounts::parse("[defaults]\nrole_name = \"R\"\n[accounts.prod]\nid = \"111111111111\"\n[accounts.twin]\nid = \"222222222222\"\n[accounts.twin-333333333333]\nid = \"333333333333\"\n")
                .unwrap();
        let get = |a: &str| accounts.get(a).unwrap();
        Discovered {
            accounts: vec![
                (get("prod"), "Prod".into()),
                (get("twin"), "Twin".into()),
                (get("twin-333333333333"), "twin".into()),
            ],
            skipped: vec![Skipped {
                id: "444444444444".into(),
                name: "Old Sandbox".into(),
                state: "SUSPENDED".into(),
            }],
            by_alias: Arc::new(accounts),
            in_file: vec![("555555555555".into(), "Home".into())],
        }
    }

    #[test]
    fn names_designate_accounts_by_alias_id_or_organization_name() {
        let d = discovered();
        for name in ["prod", "111111111111", "Prod", "PROD"] {
            assert!(
                matches!(d.named(name), Named::Active(a) if a.id == "111111111111"),
                "{name}"
            );
        }
        assert!(matches!(d.named("222222222222"), Named::Active(a) if a.alias == "twin"));
        let twins = d.named("TWIN");
        let why = twins.refusal("TWIN", String::new).unwrap_or_default();
        assert!(why.contains("222222222222") && why.contains("333333333333"), "{why}");
        for name in ["444444444444", "old sandbox", "old-sandbox"] {
            let why = d.named(name).refusal(name, String::new).unwrap_or_default();
            assert!(
                why.contains("SUSPENDED") && why.contains("444444444444"),
                "{name}: {why}"
            );
        }
        assert_eq!(
            d.named("nobody").refusal("nobody", || "unknown".into()).as_deref(),
            Some("unknown")
        );
        assert!(matches!(d.named("home"), Named::InFile(id) if id == "555555555555"));
        assert!(d.named("prod").refusal("prod", String::new).is_none());
        assert_eq!(shown(&"x".repeat(100)).chars().count(), 65);
    }

    #[test]
    fn aliases_from_names() {
        assert_eq!(alias_of("Prod Account (EU)"), "prod-account-eu");
        assert_eq!(alias_of("  "), "");
        assert_eq!(alias_of("dev_1"), "dev-1");
    }
}
