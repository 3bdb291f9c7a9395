//! Accounts discovered through AWS Organizations (`--organization`): ListAccounts with the
//! server's own credentials (the management or a delegated administrator account), cached with
//! the server's TTL. Only ACTIVE accounts are used; suspended, closed and pending ones are skipped
//! and reported. Each is reached through the `role_name` (and the other settings) of the accounts
//! file's `[defaults]`; an account the file names itself keeps the file's settings.
//!
//! Discovered accounts are built by the shared accounts-file parser from a generated document, so
//! they are validated exactly like the file's. (Belongs in shared: a constructor for an account
//! from an id and the file's defaults.)

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
    pub skipped: Vec<Skipped>,
    /// Active accounts the file names (its settings are used).
    pub in_file: usize,
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
                d.in_file += 1;
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

    #[test]
    fn aliases_from_names() {
        assert_eq!(alias_of("Prod Account (EU)"), "prod-account-eu");
        assert_eq!(alias_of("  "), "");
        assert_eq!(alias_of("dev_1"), "dev-1");
    }
}
