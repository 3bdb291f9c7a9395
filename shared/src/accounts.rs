//! The accounts file (`--accounts FILE`, `MCP_ACCOUNTS_FILE`): the only accounts a server may reach
//! through a tool's `account` argument, each through one IAM role. Validated whole at start-up, with
//! errors naming the line and the field. Credentials come from aws-config's assume-role provider,
//! cached by the SDK's identity cache (one AssumeRole per account, refreshed before expiry), and
//! never leave the process: `Account`'s `Debug` prints no secret and nothing here returns one.
//!
//! ```toml
//! [defaults]
//! role_name = "McpReadOnly"
//! regions = ["us-east-1", "eu-west-1"]
//!
//! [accounts.prod]
//! id = "111111111111"
//! external_id = "optional-external-id"
//! ```

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

use aws_types::SdkConfig;
use serde::Deserialize;
use toml::Spanned;

use crate::{ToolError, aws::ConfigError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    defaults: Option<Spanned<Settings>>,
    #[serde(default)]
    accounts: BTreeMap<String, Spanned<Settings>>,
}

/// `[defaults]` and each `[accounts.X]` take the same fields; `id` and `role_arn` only make sense
/// per account.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct Settings {
    id: Option<Spanned<String>>,
    role_arn: Option<Spanned<String>>,
    role_name: Option<Spanned<String>>,
    external_id: Option<Spanned<String>>,
    session_name: Option<Spanned<String>>,
    duration_secs: Option<Spanned<u64>>,
    regions: Option<Spanned<Vec<String>>>,
}

/// One account a tool may name.
pub struct Account {
    pub alias: String,
    pub id: String,
    pub role_arn: String,
    pub regions: Vec<String>,
    external_id: Option<String>,
    session_name: String,
    duration: Duration,
    sdk: std::sync::OnceLock<SdkConfig>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Account({} {})", self.alias, self.id)
    }
}

impl Account {
    /// `alias (id)`, as errors and the audit line name it.
    pub fn label(&self) -> String {
        format!("{} ({})", self.alias, self.id)
    }

    /// The SDK configuration whose credentials are this account's role, built once. `policy` is
    /// the inline session policy every AssumeRole carries (read-only servers).
    pub fn sdk(&self, base: &SdkConfig, policy: Option<&str>) -> SdkConfig {
        self.sdk
            .get_or_init(|| {
                let mut b = aws_config::sts::AssumeRoleProvider::builder(&self.role_arn)
                    .session_name(&self.session_name)
                    .session_length(self.duration)
                    .configure(base);
                if let Some(e) = &self.external_id {
                    b = b.external_id(e);
                }
                if let Some(p) = policy {
                    b = b.policy(p);
                }
                // `build` only awaits when no configuration is given; with one it is ready at once.
                let provider = futures::executor::block_on(b.build());
                // Each account gets its own identity cache: the base one holds 64 partitions, so with more
                // accounts sessions would be evicted and roles assumed again.
                base.to_builder()
                    .identity_cache(aws_config::identity::IdentityCache::lazy().build())
                    .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
                    .build()
            })
            .clone()
    }

    /// Whether a role session has been set up (credentials may still be fetched lazily).
    pub fn is_configured(&self) -> bool {
        self.sdk.get().is_some()
    }
}

/// Every account of the file, by alias.
#[derive(Debug, Default)]
pub struct Accounts {
    by_alias: BTreeMap<String, Arc<Account>>,
}

impl Accounts {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Accounts(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| ConfigError::Accounts(format!("{}: {e}", path.display())))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let line = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let doc: FileDoc = toml::from_str(text).map_err(|e| match e.span() {
            Some(span) => format!("line {}: {}", line(span.start), e.message()),
            None => e.message().to_owned(),
        })?;
        let defaults = doc.defaults.map(Spanned::into_inner).unwrap_or_default();
        let at =
            |s: std::ops::Range<usize>, field: &str, msg: String| format!("line {}: `{field}` {msg}", line(s.start));
        if let Some(id) = &defaults.id {
            return Err(at(
                id.span(),
                "id",
                "belongs in an [accounts.<alias>] table, not [defaults]".into(),
            ));
        }
        if let Some(arn) = &defaults.role_arn {
            return Err(at(
                arn.span(),
                "role_arn",
                "belongs in an [accounts.<alias>] table; use role_name in [defaults]".into(),
            ));
        }
        if doc.accounts.is_empty() {
            return Err("no [accounts.<alias>] table: the file must name at least one account".into());
        }
        let mut by_alias = BTreeMap::new();
        for (alias, entry) in doc.accounts {
            let table_line = line(entry.span().start);
            let e = entry.into_inner();
            if alias.is_empty()
                || alias.len() > 64
                || !alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!(
                    "line {table_line}: account alias `{alias}` must be 1-64 letters, digits, `-` or `_`"
                ));
            }
            let Some(id) = e.id else {
                return Err(format!(
                    "line {table_line}: [accounts.{alias}] needs `id` (the 12-digit account id)"
                ));
            };
            if id.get_ref().len() != 12 || !id.get_ref().chars().all(|c| c.is_ascii_digit()) {
                return Err(at(
                    id.span(),
                    "id",
                    format!("must be a 12-digit account id, not `{}`", id.get_ref()),
                ));
            }
            let id_s = id.get_ref().clone();
            let role_arn = match (&e.role_arn, e.role_name.as_ref().or(defaults.role_name.as_ref())) {
                (Some(arn), _) => {
                    let a = arn.get_ref();
                    let parts: Vec<&str> = a.splitn(6, ':').collect();
                    let ok = parts.len() == 6
                        && parts[0] == "arn"
                        && parts[1].starts_with("aws")
                        && parts[2] == "iam"
                        && parts[5].starts_with("role/")
                        && parts[5].len() > 5;
                    if !ok {
                        return Err(at(
                            arn.span(),
                            "role_arn",
                            format!("must be an IAM role ARN (arn:aws:iam::{id_s}:role/NAME), not `{a}`"),
                        ));
                    }
                    if parts[4] != id_s {
                        return Err(at(
                            arn.span(),
                            "role_arn",
                            format!("is in account {} but `id` is {id_s}", parts[4]),
                        ));
                    }
                    a.clone()
                }
                (None, Some(name)) => {
                    let n = name.get_ref();
                    if n.is_empty() || n.len() > 64 || n.contains([':', '/', ' ']) {
                        return Err(at(
                            name.span(),
                            "role_name",
                            format!("must be a role name without path, not `{n}`"),
                        ));
                    }
                    format!("arn:aws:iam::{id_s}:role/{n}")
                }
                (None, None) => {
                    return Err(format!(
                        "line {table_line}: [accounts.{alias}] needs `role_arn`, or `role_name` here or in [defaults]"
                    ));
                }
            };
            let session_name = match e.session_name.as_ref().or(defaults.session_name.as_ref()) {
                Some(s) => {
                    let v = s.get_ref();
                    let ok = (2..=64).contains(&v.len())
                        && v.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c));
                    if !ok {
                        return Err(at(
                            s.span(),
                            "session_name",
                            "must be 2-64 characters of letters, digits and +=,.@-_".into(),
                        ));
                    }
                    v.clone()
                }
                None => "aws-mcp".to_owned(),
            };
            let duration = match e.duration_secs.as_ref().or(defaults.duration_secs.as_ref()) {
                Some(d) if !(900..=43_200).contains(d.get_ref()) => {
                    return Err(at(
                        d.span(),
                        "duration_secs",
                        format!("must be between 900 and 43200, not {}", d.get_ref()),
                    ));
                }
                Some(d) => Duration::from_secs(*d.get_ref()),
                None => Duration::from_secs(3600),
            };
            let regions = match e.regions.as_ref().or(defaults.regions.as_ref()) {
                Some(r) => {
                    if let Some(bad) = r.get_ref().iter().find(|x| !is_region(x)) {
                        return Err(at(
                            r.span(),
                            "regions",
                            format!("has `{bad}`, which is not a region name like us-east-1"),
                        ));
                    }
                    r.get_ref().clone()
                }
                None => Vec::new(),
            };
            let external_id = e.external_id.map(Spanned::into_inner);
            by_alias.insert(
                alias.clone(),
                Arc::new(Account {
                    alias,
                    id: id_s,
                    role_arn,
                    regions,
                    external_id,
                    session_name,
                    duration,
                    sdk: std::sync::OnceLock::new(),
                }),
            );
        }
        Ok(Self { by_alias })
    }

    pub fn aliases(&self) -> Vec<String> {
        self.by_alias.keys().cloned().collect()
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Account>> {
        self.by_alias.values()
    }

    /// The account a tool names, or an error listing the valid aliases.
    pub fn get(&self, alias: &str) -> Result<Arc<Account>, ToolError> {
        self.by_alias.get(alias).cloned().ok_or_else(|| {
            ToolError::invalid(
                "account",
                format!(
                    "`{alias}` is not in the accounts file; use one of: {}",
                    self.aliases().join(", ")
                ),
            )
        })
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`.
pub fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[defaults]
role_name = "McpReadOnly"
session_name = "aws-mcp"
duration_secs = 3600
regions = ["us-east-1", "eu-west-1"]

[accounts.prod]
id = "111111111111"
role_arn = "arn:aws:iam::111111111111:role/McpReadOnly"
external_id = "optional-external-id"
regions = ["us-east-1"]

[accounts.dev]
id = "222222222222"
"#;

    #[test]
    fn the_documented_shape_parses_with_defaults_applied() {
        let a = Accounts::parse(GOOD).unwrap();
        assert_eq!(a.aliases(), ["dev", "prod"]);
        let dev = a.get("dev").unwrap();
        assert_eq!(dev.role_arn, "arn:aws:iam::222222222222:role/McpReadOnly");
        assert_eq!(dev.regions, ["us-east-1", "eu-west-1"]);
        let prod = a.get("prod").unwrap();
        assert_eq!(prod.regions, ["us-east-1"]);
        assert_eq!(prod.external_id.as_deref(), Some("optional-external-id"));
        assert!(!format!("{prod:?}").contains("optional-external-id"));
        let e = a.get("stage").unwrap_err().to_string();
        assert!(e.contains("`account`") && e.contains("dev, prod"), "{e}");
    }

    #[test]
    fn errors_name_the_line_and_the_field() {
        let cases = [
            ("[accounts.x]\nid = \"12\"\nrole_name = \"r\"\n", "line 2: `id`"),
            (
                "[accounts.x]\nid = \"111111111111\"\n",
                "line 1: [accounts.x] needs `role_arn`",
            ),
            (
                "[accounts.x]\nid = \"111111111111\"\nrole_arn = \"arn:aws:iam::222222222222:role/r\"\n",
                "line 3: `role_arn` is in account 222222222222",
            ),
            (
                "[defaults]\nrole_name = \"r\"\nduration_secs = 5\n[accounts.x]\nid = \"111111111111\"\n",
                "line 3: `duration_secs`",
            ),
            (
                "[accounts.x]\nid = \"111111111111\"\nrole_name = \"r\"\nregions = [\"mars\"]\n",
                "line 4: `regions`",
            ),
            (
                "[accounts.x]\nid = \"111111111111\"\nrole_name = \"r\"\ncolour = 1\n",
                "line 4",
            ),
            ("[defaults]\nrole_name = \"r\"\n", "at least one account"),
            ("[accounts.x]\nid = 111111111111\n", "line 2"),
        ];
        for (text, want) in cases {
            let e = Accounts::parse(text).err().unwrap_or_default();
            assert!(e.contains(want), "{text:?}: got {e:?}, want {want:?}");
        }
    }

    #[test]
    fn region_names() {
        for r in ["us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-4"] {
            assert!(is_region(r), "{r}");
        }
        for r in ["", "us", "us-east", "US-EAST-1", "us-east-x", "../x-1"] {
            assert!(!is_region(r), "{r}");
        }
    }
}
