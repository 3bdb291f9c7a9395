//! [`Core`]: what every server holds besides its own clients, built once at start-up and cloned
//! cheaply into each MCP session (or each request, in stateless HTTP and Lambda modes), and the
//! tool dispatch that wraps every call in the audit line and the output budget.

use std::{
    collections::BTreeMap,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::FutureExt;
use rmcp::{
    ErrorData, Peer, RoleServer,
    handler::server::{
        router::tool::ToolRouter,
        tool::{IntoCallToolResult, ToolCallContext},
    },
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, JsonObject,
        ListToolsResult, ServerCapabilities, ServerConfig, Tool,
    },
    service::RequestContext,
};
use serde_json::{Value, json};

use crate::{
    Budget, CommonArgs, Cursors, ToolError, TtlCache,
    accounts::{Accounts, is_region},
    audit,
    aws::ConfigError,
    context,
    gate::{self, ToolSpec},
};

/// How long clients may cache `tools/list` when the set only changes with a restart.
const STATIC_LIST_TTL_MS: u64 = 3_600_000;

#[derive(Clone, Debug)]
pub struct Core {
    /// Binary name (`aws-s3-mcp`): `serverInfo.name`, user agent and audit log.
    pub name: &'static str,
    pub version: &'static str,
    /// The server's own AWS configuration (its credentials, region and endpoints).
    pub sdk: aws_types::SdkConfig,
    pub budget: Budget,
    pub cursors: Cursors,
    pub allow_writes: bool,
    /// How long cached metadata stays fresh.
    pub cache_ttl: Duration,
    /// Drop `null` object fields from results: absent says the same in fewer tokens. Off for
    /// servers whose data has real nulls (DynamoDB items).
    pub drop_nulls: bool,
    /// Mask likely secrets in log and payload text (off with `--no-redact`).
    pub redact: bool,
    /// Mask likely secrets anywhere in every result (servers returning the user's data: objects,
    /// items, chunks); the result then says how many values were masked.
    pub redact_results: bool,
    /// The accounts file, when one was given: every tool then takes `account`.
    pub accounts: Option<Arc<Accounts>>,
    /// `--regions`: the regions tools may name without an accounts file (empty: any).
    pub regions: Arc<[String]>,
    /// Ask the user before destructive tools run (`--confirm-destructive`).
    pub confirm_destructive: bool,
    /// How long clients may cache `tools/list` (shorter for servers whose tools change).
    pub list_ttl_ms: u64,
    /// `--audit-table`: one DynamoDB item per tool call.
    pub audit_table: Option<Arc<crate::audit_table::AuditTable>>,
    args: Arc<CommonArgs>,
    gated: Arc<Mutex<GateInfo>>,
    peers: Arc<Mutex<Vec<Peer<RoleServer>>>>,
}

/// What gating decided, kept for calls to hidden tools and for AssumeRole.
#[derive(Debug, Default)]
struct GateInfo {
    hidden: BTreeMap<String, String>,
    actions: Vec<&'static str>,
}

impl Core {
    /// Resolve AWS configuration and the common settings. `name` is the binary name
    /// (`aws-s3-mcp`), reported as `serverInfo.name` and in the user agent and audit log.
    pub async fn load(name: &'static str, version: &'static str, args: &CommonArgs) -> Result<Self, ConfigError> {
        let sdk = crate::aws::load(name, version, args).await?;
        Self::with_sdk(name, version, args, sdk)
    }

    pub(crate) fn with_sdk(
        name: &'static str,
        version: &'static str,
        args: &CommonArgs,
        sdk: aws_types::SdkConfig,
    ) -> Result<Self, ConfigError> {
        let accounts = args.accounts.as_deref().map(Accounts::load).transpose()?.map(Arc::new);
        // An empty MCP_REGIONS means "not set", like the other list variables.
        let regions: Vec<String> = args.regions.iter().filter(|r| !r.trim().is_empty()).cloned().collect();
        if let Some(bad) = regions.iter().find(|r| !is_region(r)) {
            return Err(ConfigError::Flag {
                flag: "--regions",
                message: format!("`{bad}` is not a region name like us-east-1"),
            });
        }
        let audit_table = crate::audit_table::AuditTable::from_args(args, &sdk)?;
        Ok(Self {
            name,
            version,
            sdk,
            budget: Budget::new(args.budget_bytes()),
            cursors: Cursors::from_env(),
            allow_writes: args.allow_writes,
            cache_ttl: Duration::from_secs(args.cache_ttl_secs),
            drop_nulls: false,
            redact: !args.no_redact,
            redact_results: false,
            accounts,
            regions: regions.into(),
            confirm_destructive: args.confirm_destructive,
            list_ttl_ms: STATIC_LIST_TTL_MS,
            audit_table,
            args: Arc::new(args.clone()),
            gated: Arc::default(),
            peers: Arc::default(),
        })
    }

    /// The tools this server lists: `all` (every tool it has) less those whose capability is off
    /// or that `--tools`/`--exclude-tools` hide, with lean schemas and the `account`/`region`
    /// arguments added. Call once from the server's constructor, before building clients.
    pub fn gate<S: Send + Sync + 'static>(
        &mut self,
        all: ToolRouter<S>,
        specs: &[ToolSpec],
    ) -> Result<ToolRouter<S>, ConfigError> {
        let gated = gate::apply(all, specs, &self.args)?;
        let mut router = ToolRouter::new();
        for mut route in gated.router {
            route.attr = self.decorate(route.attr);
            router.add_route(route);
        }
        if let Ok(mut info) = self.gated.lock() {
            info.hidden = gated.hidden;
            info.actions = gated.actions.into_iter().collect();
        }
        Ok(router)
    }

    /// A tool definition as listed: lean schema, plus `account` (with an accounts file) and
    /// `region`. Used for static tools at start-up and for tools added at run time.
    pub fn decorate(&self, mut tool: Tool) -> Tool {
        let mut schema = (*tool.input_schema).clone();
        crate::schema::lean(&mut schema);
        let props = schema
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        let mut props = props;
        if let Some(accounts) = &self.accounts {
            props.insert(
                "account".into(),
                json!({"type": "string", "enum": accounts.aliases(),
                       "description": "Account alias (default: the server's own credentials)"}),
            );
        }
        let mut region = crate::schema::region_property();
        if self.accounts.is_none() && !self.regions.is_empty() {
            region["enum"] = json!(self.regions);
        }
        props.insert("region".into(), region);
        schema.insert("properties".into(), Value::Object(props));
        tool.input_schema = Arc::new(schema);
        tool
    }

    /// A run-time tool's definition as listed: lean schema, its own arguments only (run-time tools
    /// run with the server's own account and region, and may use those names themselves).
    pub fn lean_only(&self, mut tool: Tool) -> Tool {
        let mut schema = (*tool.input_schema).clone();
        crate::schema::lean(&mut schema);
        tool.input_schema = Arc::new(schema);
        tool
    }

    /// The inline session policy every AssumeRole carries when writes are off: only the IAM
    /// actions of the listed tools, so even a broad role cannot write through this server.
    pub fn session_policy(&self) -> Option<Arc<str>> {
        if self.allow_writes {
            return None;
        }
        Some(self.tools_policy(Vec::new()).to_string().into())
    }

    /// The least-privilege policy for the listed tools (`--print-iam-policy`), plus `extra`
    /// statements the server adds (e.g. reading tool schemas from S3).
    pub fn iam_policy(&self, mut extra: Vec<Value>) -> Value {
        // The audit table is written with the server's own credentials: never in a session policy.
        if let Some(table) = &self.audit_table {
            extra.push(table.policy_statement(&self.sdk));
        }
        self.tools_policy(extra)
    }

    fn tools_policy(&self, mut extra: Vec<Value>) -> Value {
        let actions = self.gated.lock().map(|i| i.actions.clone()).unwrap_or_default();
        if let Some(accounts) = &self.accounts {
            let roles: Vec<&str> = accounts.all().map(|a| a.role_arn.as_str()).collect();
            extra.push(
                json!({"Sid": "AssumeAccountRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": roles}),
            );
        }
        gate::policy(actions, extra)
    }

    pub fn server_info(&self) -> Implementation {
        Implementation::new(self.name, self.version)
    }

    /// What every server announces: tools (with `listChanged` when they change at run time),
    /// resources and completions when it has them, its name and version, and its instructions.
    pub fn server_config(&self, instructions: &str, resources: bool, dynamic_tools: bool) -> ServerConfig {
        let caps = ServerCapabilities::builder().enable_tools();
        let caps = match (resources, dynamic_tools) {
            (true, true) => caps
                .enable_tool_list_changed()
                .enable_resources()
                .enable_completions()
                .build(),
            (true, false) => caps.enable_resources().enable_completions().build(),
            (false, true) => caps.enable_tool_list_changed().build(),
            (false, false) => caps.build(),
        };
        ServerConfig::new(caps)
            .with_server_info(self.server_info())
            .with_instructions(instructions)
    }

    /// A metadata cache with this server's TTL.
    pub fn cache<K, V>(&self, capacity: u64) -> TtlCache<K, V>
    where
        K: std::hash::Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        TtlCache::new(capacity, self.cache_ttl)
    }

    /// The refusal a write gets in read-only mode (for tools whose writes depend on input).
    pub fn require_writes(&self, what: impl Into<String>) -> Result<(), ToolError> {
        if self.allow_writes {
            Ok(())
        } else {
            Err(ToolError::ReadOnly { what: what.into() })
        }
    }

    /// Remember a client session, so a change of the tool set reaches it.
    pub fn add_peer(&self, peer: Peer<RoleServer>) {
        if let Ok(mut peers) = self.peers.lock() {
            peers.retain(|p| !p.is_transport_closed());
            peers.push(peer);
        }
    }

    /// Send `notifications/tools/list_changed` to every connected client.
    pub async fn notify_tools_changed(&self) {
        let peers = self.peers.lock().map(|p| p.clone()).unwrap_or_default();
        for peer in peers {
            if let Err(e) = peer.notify_tool_list_changed().await {
                tracing::debug!("list_changed not delivered: {e}");
            }
        }
    }

    /// `tools/list`: the static tools and the server's run-time tools, sorted by name, with a
    /// caching hint.
    pub fn list_tools(&self, static_tools: Vec<Tool>, extra: Vec<Tool>) -> ListToolsResult {
        let mut tools = static_tools;
        tools.extend(extra.into_iter().map(|t| self.lean_only(t)));
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        ListToolsResult::with_all_items(tools).with_ttl_ms(self.list_ttl_ms)
    }

    /// Run a tool call: arguments checked against the tool's schema, `account` and `region`
    /// resolved into the call's context, confirmation asked for destructive tools, a panic turned
    /// into an error answer, one audit line written whatever the outcome, and the output budget
    /// applied. Servers reach this through [`tool_methods!`].
    pub async fn call_tool<S: Tools>(
        &self,
        server: &S,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let started = Instant::now();
        let tool = request.name.to_string();
        let caller = audit::caller_of(&context);
        let mut record = self
            .audit_table
            .as_ref()
            .map(|_| crate::audit_table::Record::start(self.name, self.version, &tool, caller.clone()));
        let router = server.tools().1;
        let definition = match router.get(&tool) {
            Some(t) => Some(t.clone()),
            None => server
                .extra_tools()
                .into_iter()
                .find(|t| t.name == tool)
                .map(|t| self.lean_only(t)),
        };
        let static_tool = router.has_route(&tool);
        let mut account_label = None;
        let prepared = match &definition {
            None => match self.hidden_flag(&tool) {
                Some(flag) => Err(gate::hidden_error(&tool, &flag)),
                None => {
                    return Err(ErrorData::invalid_params(
                        format!("tool not found: {tool}; tools/list shows the tools of this server"),
                        None,
                    ));
                }
            },
            Some(def) => self.prepare(def, &request, &context, static_tool).await,
        };
        let (response, request_ids) = match prepared {
            Err(e) => (e.into_call_tool_result(), Vec::new()),
            Ok((call, args)) => 'run: {
                account_label = call.account.as_ref().map(|a| a.label());
                // --audit-required: the record is written before the tool runs, or the tool does not run.
                if let (Some(table), Some(record)) = (&self.audit_table, record.as_mut())
                    && table.required()
                {
                    record.account = account_label.clone();
                    if let Err(refusal) = table.before(record).await {
                        break 'run (Ok(refusal.into()), Vec::new());
                    }
                }
                let mut request = request;
                request.arguments = Some(args.clone());
                let run = async {
                    let fut = async {
                        if static_tool {
                            router.call(ToolCallContext::new(server, request, context)).await
                        } else {
                            match server.call_extra(&tool, args).await {
                                Some(r) => r.into_call_tool_result(),
                                None => ToolError::Other(format!("{tool} is no longer available; call tools/list"))
                                    .into_call_tool_result(),
                            }
                        }
                    };
                    match AssertUnwindSafe(fut).catch_unwind().await {
                        Ok(r) => r,
                        Err(panic) => {
                            let what = panic
                                .downcast_ref::<&str>()
                                .map(|s| s.to_string())
                                .or_else(|| panic.downcast_ref::<String>().cloned())
                                .unwrap_or_default();
                            tracing::error!(tool, "tool panicked: {what}");
                            ToolError::Internal(tool.clone()).into_call_tool_result()
                        }
                    }
                };
                audit::collect_request_ids(context::scope(call, run)).await
            }
        };
        let (outcome, code) = match &response {
            Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => {
                let err = r.structured_content.as_ref().and_then(|v| v.get("error"));
                let kind = err.and_then(|e| e["kind"].as_str()).unwrap_or("invalid_argument");
                (kind.to_owned(), err.and_then(|e| e["code"].as_str()).map(str::to_owned))
            }
            Ok(_) => ("ok".to_owned(), None),
            Err(e) => ("rejected".to_owned(), Some(e.code.0.to_string())),
        };
        let line = audit::ToolCall {
            server: self.name,
            tool: &tool,
            caller: caller.as_ref(),
            account: account_label.as_deref(),
            elapsed: started.elapsed(),
            outcome: &outcome,
            error_code: code.as_deref(),
            request_ids: &request_ids,
        };
        audit::tool_call(&line);
        if let (Some(table), Some(record)) = (&self.audit_table, record) {
            table.after(record.finish(&line)).await;
        }
        response.map(|r| match r {
            CallToolResponse::Complete(result) => {
                CallToolResponse::Complete(self.fit(result, account_label.as_deref()))
            }
            other => other,
        })
    }

    fn hidden_flag(&self, tool: &str) -> Option<String> {
        self.gated.lock().ok().and_then(|i| i.hidden.get(tool).cloned())
    }

    /// Validate, resolve `account`/`region`, and ask for confirmation: the call's context and
    /// the arguments the tool itself sees.
    async fn prepare(
        &self,
        def: &Tool,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
        scoped: bool,
    ) -> Result<(context::Call, JsonObject), ToolError> {
        crate::args::validate(&def.input_schema, request.arguments.as_ref())?;
        let mut args = request.arguments.clone().unwrap_or_default();
        if !scoped {
            // Run-time tools own their whole argument list and run with the server's own account.
            let call = context::Call {
                tool: def.name.to_string(),
                ..Default::default()
            };
            return Ok((call, args));
        }
        let account = match args.remove("account") {
            None | Some(Value::Null) => None,
            Some(Value::String(alias)) => match &self.accounts {
                Some(accounts) => Some(accounts.get(&alias)?),
                None => {
                    return Err(ToolError::invalid(
                        "account",
                        "this server has no accounts file (--accounts)",
                    ));
                }
            },
            Some(_) => return Err(ToolError::invalid("account", "must be a string")),
        };
        let region = match args.remove("region") {
            None | Some(Value::Null) => None,
            Some(Value::String(r)) => {
                let allowed: Vec<String> = match &account {
                    Some(a) if !a.regions.is_empty() => a.regions.clone(),
                    Some(_) => Vec::new(),
                    None => self.regions.to_vec(),
                };
                if !is_region(&r) {
                    return Err(ToolError::invalid(
                        "region",
                        format!("`{r}` is not a region name like us-east-1"),
                    ));
                }
                if !allowed.is_empty() && !allowed.contains(&r) {
                    return Err(ToolError::invalid(
                        "region",
                        format!("`{r}` is not allowed here; use one of: {}", allowed.join(", ")),
                    ));
                }
                Some(r)
            }
            Some(_) => return Err(ToolError::invalid("region", "must be a string")),
        };
        let destructive = def.annotations.as_ref().and_then(|a| a.destructive_hint) == Some(true);
        if destructive && self.confirm_destructive {
            crate::confirm::ask(&context.peer, &def.name, &args, account.as_deref()).await?;
        }
        let call = context::Call {
            tool: def.name.to_string(),
            account,
            region,
        };
        Ok((call, args))
    }

    /// Apply the output budget to a result, keeping the text block in step with the structured one.
    fn fit(&self, mut result: CallToolResult, account: Option<&str>) -> CallToolResult {
        if let Some(mut value) = result.structured_content.take() {
            if self.drop_nulls {
                drop_nulls(&mut value);
            }
            if self.redact && self.redact_results && result.is_error != Some(true) {
                let masked = crate::Redactor::new(true).json(&mut value);
                if masked > 0 {
                    let before = value.get("redacted").and_then(Value::as_u64).unwrap_or(0);
                    value["redacted"] = json!(before + masked as u64);
                }
            }
            let mut fitted = self.budget.enforce(value);
            if result.is_error == Some(true) {
                // Errors name the account they happened in.
                if let (Some(label), Some(err)) = (account, fitted.get_mut("error")) {
                    err["account"] = json!(label);
                    if let Some(s) = err["summary"].as_str() {
                        let line = format!("{s} [account {label}]");
                        err["summary"] = json!(line);
                        result.content = vec![ContentBlock::text(line)];
                    }
                }
            } else {
                result.content = vec![ContentBlock::text(fitted.to_string())];
            }
            result.structured_content = Some(fitted);
        } else {
            let text_len: usize = result
                .content
                .iter()
                .filter_map(|c| c.as_text())
                .map(|t| t.text.len())
                .sum();
            if text_len > self.budget.max_bytes() {
                let joined: Vec<String> = result
                    .content
                    .iter()
                    .filter_map(|c| c.as_text())
                    .map(|t| t.text.clone())
                    .collect();
                let fitted = self.budget.enforce(serde_json::json!({ "text": joined.join("\n") }));
                result.content = vec![ContentBlock::text(fitted.to_string())];
            }
        }
        result
    }
}

fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// A successful tool result: the JSON goes out as `structuredContent`, plus the same JSON as text
/// for clients that only read text (filled in by [`Core::call_tool`] after the budget, so each
/// result is serialized once). No `outputSchema` is published: schemas cost every session context
/// tokens in `tools/list`, and results document themselves.
pub struct Output(pub Value);

impl IntoCallToolResult for Output {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        let mut result = CallToolResult::success(Vec::new());
        result.structured_content = Some(self.0);
        Ok(result.into())
    }
}

pub type ToolResult = Result<Output, ToolError>;

/// A server's [`Core`] and its listed tool router, plus the tools it adds at run time.
pub trait Tools: Sized + Send + Sync + 'static {
    fn tools(&self) -> (&Core, &ToolRouter<Self>);

    /// Tools that appear at run time (Lambda's functions as tools). They go through the same
    /// dispatch as static ones: schema check, audit line, budget.
    fn extra_tools(&self) -> Vec<Tool> {
        Vec::new()
    }

    /// Run a run-time tool; `None` when the name is not (or no longer) one of them.
    fn call_extra(
        &self,
        name: &str,
        args: JsonObject,
    ) -> impl std::future::Future<Output = Option<crate::ToolResult>> + Send {
        let _ = (name, args);
        async { None }
    }
}

/// The tool methods of `rmcp::ServerHandler`, the same for every server: calls go through
/// [`Core::call_tool`], listings are sorted and carry a caching hint. Expand inside
/// `impl ServerHandler for X` where `X: Tools`.
#[macro_export]
macro_rules! tool_methods {
    () => {
        async fn call_tool(
            &self,
            request: rmcp::model::CallToolRequestParams,
            context: rmcp::service::RequestContext<rmcp::RoleServer>,
        ) -> Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
            let core = $crate::core::Tools::tools(self).0;
            core.call_tool(self, request, context).await
        }

        async fn list_tools(
            &self,
            _request: Option<rmcp::model::PaginatedRequestParams>,
            _context: rmcp::service::RequestContext<rmcp::RoleServer>,
        ) -> Result<rmcp::model::ListToolsResult, rmcp::ErrorData> {
            let (core, router) = $crate::core::Tools::tools(self);
            Ok(core.list_tools(router.list_all(), $crate::core::Tools::extra_tools(self)))
        }

        fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
            let (core, router) = $crate::core::Tools::tools(self);
            router.get(name).cloned().or_else(|| {
                $crate::core::Tools::extra_tools(self)
                    .into_iter()
                    .find(|t| t.name == name)
                    .map(|t| core.lean_only(t))
            })
        }

        async fn on_initialized(&self, context: rmcp::service::NotificationContext<rmcp::RoleServer>) {
            $crate::core::Tools::tools(self).0.add_peer(context.peer);
        }
    };
}

/// A server's MCP resources and completions, for [`resource_methods!`]. Every method has a
/// default, so a server writes only what it has.
pub trait Resources: Send + Sync + 'static {
    /// Whether the server has resources at all (advertised in its capabilities).
    const HAS_RESOURCES: bool = true;

    fn templates(&self) -> rmcp::model::ListResourceTemplatesResult {
        rmcp::model::ListResourceTemplatesResult::with_all_items(Vec::new())
    }
    fn list(
        &self,
        cursor: Option<String>,
    ) -> impl std::future::Future<Output = Result<rmcp::model::ListResourcesResult, ErrorData>> + Send {
        let _ = cursor;
        async { Ok(rmcp::model::ListResourcesResult::with_all_items(Vec::new())) }
    }
    fn read(
        &self,
        uri: &str,
    ) -> impl std::future::Future<Output = Result<rmcp::model::ReadResourceResult, ErrorData>> + Send {
        let e = ErrorData::resource_not_found(format!("no resource {uri}"), None);
        async { Err(e) }
    }
    fn complete(
        &self,
        request: rmcp::model::CompleteRequestParams,
    ) -> impl std::future::Future<Output = Result<rmcp::model::CompleteResult, ErrorData>> + Send {
        let _ = request;
        async { completion(Vec::new()) }
    }
}

/// Most completion values one answer carries (MCP's limit).
pub const MAX_COMPLETIONS: usize = 100;

/// A completion answer from candidate values (at most [`MAX_COMPLETIONS`] are sent, with the total).
pub fn completion(mut values: Vec<String>) -> Result<rmcp::model::CompleteResult, ErrorData> {
    let total = values.len();
    values.truncate(MAX_COMPLETIONS);
    let has_more = total > values.len();
    rmcp::model::CompletionInfo::with_pagination(values, Some(total as u32), has_more)
        .map(rmcp::model::CompleteResult::new)
        .map_err(|e| ErrorData::internal_error(e, None))
}

/// A resource read that failed: not-found codes become MCP's resource-not-found (-32002), the rest
/// an internal error carrying the tool error's line.
pub fn resource_error(uri: &str, e: ToolError, not_found: &[&str]) -> ErrorData {
    let data = Some(json!({ "uri": uri, "error": e.to_json()["error"] }));
    if e.code().is_some_and(|c| not_found.contains(&c)) {
        ErrorData::resource_not_found(e.to_string(), data)
    } else if matches!(e, ToolError::InvalidArgument { .. } | ToolError::NotAllowed { .. }) {
        ErrorData::invalid_params(e.to_string(), data)
    } else {
        ErrorData::internal_error(e.to_string(), data)
    }
}

/// The resource and completion methods of `rmcp::ServerHandler`, forwarding to [`Resources`].
/// Expand inside `impl ServerHandler for X` where `X: Resources`.
#[macro_export]
macro_rules! resource_methods {
    () => {
        async fn list_resources(
            &self,
            request: Option<rmcp::model::PaginatedRequestParams>,
            _context: rmcp::service::RequestContext<rmcp::RoleServer>,
        ) -> Result<rmcp::model::ListResourcesResult, rmcp::ErrorData> {
            $crate::core::Resources::list(self, request.and_then(|r| r.cursor)).await
        }

        async fn list_resource_templates(
            &self,
            _request: Option<rmcp::model::PaginatedRequestParams>,
            _context: rmcp::service::RequestContext<rmcp::RoleServer>,
        ) -> Result<rmcp::model::ListResourceTemplatesResult, rmcp::ErrorData> {
            Ok($crate::core::Resources::templates(self))
        }

        async fn read_resource(
            &self,
            request: rmcp::model::ReadResourceRequestParams,
            _context: rmcp::service::RequestContext<rmcp::RoleServer>,
        ) -> Result<rmcp::model::ReadResourceResponse, rmcp::ErrorData> {
            $crate::core::Resources::read(self, &request.uri)
                .await
                .map(Into::into)
        }

        async fn complete(
            &self,
            request: rmcp::model::CompleteRequestParams,
            _context: rmcp::service::RequestContext<rmcp::RoleServer>,
        ) -> Result<rmcp::model::CompleteResult, rmcp::ErrorData> {
            $crate::core::Resources::complete(self, request).await
        }
    };
}

/// `impl rmcp::ServerHandler` for a server that implements [`Tools`] and [`Resources`]:
/// `shared::server_handler!(S3Server, INSTRUCTIONS);` Add `dynamic_tools` for servers whose
/// tools change at run time (they announce `listChanged`).
#[macro_export]
macro_rules! server_handler {
    ($server:ty, $instructions:expr) => {
        $crate::server_handler!($server, $instructions, false);
    };
    ($server:ty, $instructions:expr, dynamic_tools) => {
        $crate::server_handler!($server, $instructions, true);
    };
    ($server:ty, $instructions:expr, $dynamic:expr) => {
        impl rmcp::ServerHandler for $server {
            fn get_info(&self) -> rmcp::model::ServerConfig {
                $crate::core::Tools::tools(self).0.server_config(
                    $instructions,
                    <$server as $crate::core::Resources>::HAS_RESOURCES,
                    $dynamic,
                )
            }

            $crate::tool_methods!();

            $crate::resource_methods!();
        }
    };
}
