//! `aws-sts-mcp`: identities, roles kept server-side, and a live inventory across accounts ×
//! regions that names every failure and never hangs. Read-only: every assumed session carries the
//! shared read-only session policy, and no tool ever returns a credential.
//!
//! - [`sessions`]: one role session per account (assumed once, refreshed before expiry, never
//!   shown), and the service clients per (account, region) built on it.
//! - [`org`]: accounts discovered through AWS Organizations (`--organization`).
//! - [`inventory`]: the fan-out over accounts × regions × resource types, cached per item.
//! - `tools::identity`: `whoami`, `assume_role`, `get_access_key_info`, `decode_authorization_message`.
//! - `tools::accounts`: `list_accounts`.
//! - `tools::inventory`: `inventory`, `find_resource`.
//!
//! Calls go through shared's dispatch ([`Core::call_tool`]) after one step of this server's own
//! ([`StsServer::dispatch`]): `account` may also be an account id, and with `--organization` an
//! account of the organization (alias, id or name), whose role is the file's default `role_name`.
//! (Belongs in shared: a hook resolving `account` names the accounts file does not hold.)

pub(crate) mod inventory;
pub(crate) mod org;
pub(crate) mod sessions;
mod tools;

use std::{sync::Arc, time::Duration};

use rmcp::{
    ErrorData, RoleServer,
    handler::server::{router::tool::ToolRouter, tool::IntoCallToolResult},
    model::{CallToolRequestParams, CallToolResponse, ListToolsResult, PaginatedRequestParams, ServerConfig, Tool},
    service::{NotificationContext, RequestContext},
};
use serde_json::{Value, json};
use shared::{CommonArgs, ConfigError, Core, Op, ToolError, ToolSpec};

pub const NAME: &str = "aws-sts-mcp";

/// Command line of `aws-sts-mcp`.
#[derive(Debug, clap::Parser)]
#[command(name = NAME, version, about = "MCP server for identities and a live inventory across AWS accounts (read-only)")]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Inventory calls in flight at most.
    #[arg(long, default_value_t = 16, env = "MCP_STS_CONCURRENCY",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Also use the accounts of the AWS Organization (ListAccounts), assumed through the
    /// `role_name` of the accounts file's [defaults].
    #[arg(long, env = "MCP_STS_ORGANIZATION")]
    pub organization: bool,

    /// Time one inventory item (account × region × type, or one AssumeRole) may take, in ms.
    #[arg(long, default_value_t = 15_000, env = "MCP_STS_ITEM_DEADLINE_MS",
          value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub item_deadline_ms: u64,

    /// Time one inventory call may take in all, in ms; what is not done by then is reported as skipped.
    #[arg(long, default_value_t = 45_000, env = "MCP_STS_DEADLINE_MS",
          value_parser = clap::value_parser!(u64).range(100..=900_000))]
    pub deadline_ms: u64,

    /// AWS error codes that are expected (an SCP deny in some regions) and not reported as failures.
    #[arg(
        long = "ignore-error-codes",
        env = "MCP_STS_IGNORE_ERROR_CODES",
        value_delimiter = ','
    )]
    pub ignore_error_codes: Vec<String>,
}

const INSTRUCTIONS: &str = "Identities and a live inventory across the AWS accounts of this server's accounts file. \
Roles are assumed by the server and the sessions stay in it: no tool returns keys or tokens. list_accounts shows \
the accounts, their regions and sessions; whoami and assume_role show an identity; inventory lists S3 buckets, \
DynamoDB tables, Lambda functions, log groups and Bedrock knowledge bases across accounts × regions, and \
find_resource searches them by name. Inventory results start with `complete` and `counts`; every failure is an \
entry in `errors` naming the account, and the other results are still returned. Results are cached for a while \
(`refresh: true` re-reads). Results are paged: pass next_cursor back unchanged with the same arguments. Any \
`truncated` field says what was left out and how to get it.";

pub(crate) const GET_CALLER_IDENTITY: Op = Op::new("sts", "GetCallerIdentity", "sts:GetCallerIdentity");
pub(crate) const ASSUME_ROLE: Op = Op::new("sts", "AssumeRole", "sts:AssumeRole");
pub(crate) const GET_ACCESS_KEY_INFO: Op = Op::new("sts", "GetAccessKeyInfo", "sts:GetAccessKeyInfo");
pub(crate) const DECODE_MESSAGE: Op = Op::new("sts", "DecodeAuthorizationMessage", "sts:DecodeAuthorizationMessage");
pub(crate) const LIST_ORG_ACCOUNTS: Op = Op::new("organizations", "ListAccounts", "organizations:ListAccounts");
pub(crate) const LIST_BUCKETS: Op = Op::new("s3", "ListBuckets", "s3:ListAllMyBuckets");
pub(crate) const LIST_TABLES: Op = Op::new("dynamodb", "ListTables", "dynamodb:ListTables");
pub(crate) const LIST_FUNCTIONS: Op = Op::new("lambda", "ListFunctions", "lambda:ListFunctions");
pub(crate) const DESCRIBE_LOG_GROUPS: Op = Op::new("logs", "DescribeLogGroups", "logs:DescribeLogGroups");
pub(crate) const LIST_KNOWLEDGE_BASES: Op = Op::new("bedrock", "ListKnowledgeBases", "bedrock:ListKnowledgeBases");

// AssumeRole is not among the tools' operations: the policy grants it on the accounts' roles only
// (shared's statement for the file, `extra_iam_statements` for the organization).
const INVENTORY_OPS: &[Op] = &[
    LIST_BUCKETS,
    LIST_TABLES,
    LIST_FUNCTIONS,
    DESCRIBE_LOG_GROUPS,
    LIST_KNOWLEDGE_BASES,
    LIST_ORG_ACCOUNTS,
];

/// Every tool: name, capability, AWS operations (IAM actions) it may call.
pub(crate) const TOOLS: &[ToolSpec] = &[
    ToolSpec::read("whoami", &[GET_CALLER_IDENTITY]),
    ToolSpec::read("list_accounts", &[LIST_ORG_ACCOUNTS]),
    ToolSpec::read("assume_role", &[GET_CALLER_IDENTITY]),
    ToolSpec::read("inventory", INVENTORY_OPS),
    ToolSpec::read("find_resource", INVENTORY_OPS),
    ToolSpec::read("get_access_key_info", &[GET_ACCESS_KEY_INFO]),
    ToolSpec::read("decode_authorization_message", &[DECODE_MESSAGE]),
];

#[derive(Clone)]
pub struct StsServer {
    core: Core,
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    router: ToolRouter<StsServer>,
    pub(crate) sessions: sessions::Sessions,
    pub(crate) org: Option<org::Org>,
    pub(crate) inventory: inventory::Settings,
}

impl StsServer {
    fn all_tools() -> ToolRouter<Self> {
        Self::identity_tools() + Self::account_tools() + Self::inventory_tools()
    }
}

fn hints(code: &str, op: Op, _region: &str) -> Option<String> {
    match (op.operation, code) {
        ("AssumeRole", c) if c.starts_with("AccessDenied") => Some(
            "the role's trust policy does not let the server's identity assume it (or the external id is wrong): \
             check the role in the account, and whoami shows the server's identity"
                .into(),
        ),
        ("DecodeAuthorizationMessage", "InvalidAuthorizationMessageException") => Some(
            "pass the whole encoded message from the AccessDenied error, unchanged, with the account it came from"
                .into(),
        ),
        _ => None,
    }
}

impl shared::Server for StsServer {
    type Cli = Cli;
    const NAME: &'static str = NAME;
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn common(cli: &Cli) -> &CommonArgs {
        &cli.common
    }

    fn hints(code: &str, op: Op, region: &str) -> Option<String> {
        hints(code, op, region)
    }

    /// With `--organization`, the default role in every account of the organization.
    fn extra_iam_statements(&self) -> Vec<serde_json::Value> {
        self.inner
            .org
            .as_ref()
            .map(|o| {
                vec![serde_json::json!({
                    "Sid": "AssumeOrganizationRoles",
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": format!("arn:aws:iam::*:role/{}", o.role_name()),
                })]
            })
            .unwrap_or_default()
    }

    fn new(mut core: Core, cli: &Cli) -> Result<Self, ConfigError> {
        // Nothing this server returns is meaningfully null.
        core.drop_nulls = true;
        let mut router = core.gate(Self::all_tools(), TOOLS)?;
        // After gating: the session policy allows exactly the listed tools' actions.
        let sessions = sessions::Sessions::new(&core);
        let org = if cli.organization {
            router = open_account_names(router);
            Some(org::Org::new(&core, cli.common.accounts.as_deref())?)
        } else {
            None
        };
        let mut ignore: Vec<String> = cli
            .ignore_error_codes
            .iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        ignore.sort();
        ignore.dedup();
        let inventory = inventory::Settings {
            concurrency: usize::from(cli.concurrency),
            per_item: Duration::from_millis(cli.item_deadline_ms),
            overall: Duration::from_millis(cli.deadline_ms),
            ignore,
            cache: core.cache(20_000),
        };
        Ok(Self {
            core,
            inner: Arc::new(Inner {
                router,
                sessions,
                org,
                inventory,
            }),
        })
    }
}

/// With `--organization`, `account` takes names the accounts file does not hold: its schema lists
/// no fixed values (list_accounts shows them).
fn open_account_names(router: ToolRouter<StsServer>) -> ToolRouter<StsServer> {
    let mut open = ToolRouter::new();
    for mut route in router {
        let mut schema = (*route.attr.input_schema).clone();
        if let Some(p) = schema
            .get_mut("properties")
            .and_then(|p| p.get_mut("account"))
            .and_then(Value::as_object_mut)
        {
            p.remove("enum");
            p.insert(
                "description".into(),
                json!(
                    "Account alias, id or organization name from list_accounts (default: the server's own credentials)"
                ),
            );
        }
        route.attr.input_schema = Arc::new(schema);
        open.add_route(route);
    }
    open
}

impl StsServer {
    /// Resolve `account` names shared's dispatch does not know, then dispatch: an account id of
    /// the file becomes its alias; with `--organization`, an active account of the organization
    /// (alias, id or name) is dispatched with it as the call's account; a skipped (suspended,
    /// closed) or unknown one is refused naming it and saying why. Every path goes through
    /// shared's dispatch, so each call has its audit line.
    async fn dispatch(
        &self,
        mut request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let named = request
            .arguments
            .as_ref()
            .and_then(|a| a.get("account"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let file = self.core.accounts.as_deref();
        let Some(name) = named.filter(|n| file.is_some_and(|f| f.get(n).is_err())) else {
            return self.core.call_tool(self, request, context).await;
        };
        let rename = |request: &mut CallToolRequestParams, alias: &str| {
            if let Some(args) = request.arguments.as_mut() {
                args.insert("account".into(), json!(alias));
            }
        };
        if let Some(a) = file.and_then(|f| f.all().find(|a| a.id == name)) {
            rename(&mut request, &a.alias);
            return self.core.call_tool(self, request, context).await;
        }
        let Some(org) = &self.inner.org else {
            return self.core.call_tool(self, request, context).await;
        };
        let why = match org.discover(false).await {
            Ok((found, _)) => {
                let named = found.named(&name);
                if let org::Named::Active(a) = named {
                    rename(&mut request, &a.alias);
                    // The same dispatch, resolving `account` among the organization's accounts.
                    let mut core = self.core.clone();
                    core.accounts = Some(found.by_alias.clone());
                    return core.call_tool(self, request, context).await;
                }
                // An account of the file, by its organization name.
                if let org::Named::InFile(id) = &named
                    && let Some(a) = file.and_then(|f| f.all().find(|a| &a.id == id))
                {
                    rename(&mut request, &a.alias);
                    return self.core.call_tool(self, request, context).await;
                }
                named.refusal(&name, || {
                    format!(
                        "`{}` is neither an alias or id of the accounts file nor an active account of the \
                         organization; list_accounts shows them",
                        org::shown(&name)
                    )
                })
            }
            Err(e) => Some(format!(
                "`{}` is not in the accounts file, and the organization's accounts could not be listed: {e}",
                org::shown(&name)
            )),
        }
        .unwrap_or_default();
        // Shared's dispatch refuses the name (and writes the audit line); the refusal says why.
        let refused = self.core.call_tool(self, request, context).await?;
        let is_account_refusal = match &refused {
            CallToolResponse::Complete(r) => {
                r.structured_content.as_ref().and_then(|v| v["error"]["field"].as_str()) == Some("account")
            }
            _ => false,
        };
        if is_account_refusal {
            ToolError::invalid("account", why).into_call_tool_result()
        } else {
            Ok(refused)
        }
    }
}

impl shared::core::Tools for StsServer {
    fn tools(&self) -> (&Core, &ToolRouter<Self>) {
        (&self.core, &self.inner.router)
    }
}

impl shared::core::Resources for StsServer {
    const HAS_RESOURCES: bool = false;
}

// shared::server_handler!, with this server's dispatch in front of shared's.
impl rmcp::ServerHandler for StsServer {
    fn get_info(&self) -> ServerConfig {
        self.core.server_config(INSTRUCTIONS, false, false)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.dispatch(request, context).await
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(self.core.list_tools(self.inner.router.list_all(), Vec::new()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.router.get(name).cloned()
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.core.add_peer(context.peer);
    }

    shared::resource_methods!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_a_spec_and_the_annotations_agree() {
        shared::gate::check_specs(&StsServer::all_tools(), TOOLS).unwrap();
    }

    #[test]
    fn hints_name_what_to_check() {
        let h = hints("AccessDenied", ASSUME_ROLE, "us-east-1").unwrap_or_default();
        assert!(h.contains("trust policy") && h.contains("whoami"), "{h}");
        assert!(
            hints("AccessDenied", LIST_BUCKETS, "us-east-1").is_none(),
            "the shared hint applies"
        );
    }

    #[test]
    fn the_tool_list_is_lean() {
        let tools = StsServer::all_tools().list_all();
        let mut total = 0;
        for t in &tools {
            let mut schema = (*t.input_schema).clone();
            shared::schema::lean(&mut schema);
            let size = serde_json::json!({"name": t.name, "description": t.description, "inputSchema": schema})
                .to_string()
                .len()
                // `region` and `account`, injected by shared.
                + 160;
            total += size;
        }
        assert!(total <= 8 * 1024, "tools/list is {total} bytes");
        assert!(total / tools.len() <= 700, "{} bytes per tool", total / tools.len());
    }
}
