//! [`Core`]: what every server holds besides its own clients, built once at start-up and cloned
//! cheaply into each MCP session (or each request, in stateless HTTP and Lambda modes), and the
//! tool dispatch that wraps every call in the audit line and the output budget.

use std::time::{Duration, Instant};

use aws_types::SdkConfig;
use rmcp::{
    ErrorData, RoleServer,
    handler::server::{
        router::tool::ToolRouter,
        tool::{IntoCallToolResult, ToolCallContext},
    },
    model::{
        CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ServerCapabilities,
        ServerConfig,
    },
    service::RequestContext,
};
use serde_json::Value;

use crate::{Budget, CommonArgs, Cursors, ToolError, TtlCache, audit, aws::ConfigError};

#[derive(Clone, Debug)]
pub struct Core {
    pub name: &'static str,
    pub version: &'static str,
    pub sdk: SdkConfig,
    pub budget: Budget,
    pub cursors: Cursors,
    pub allow_writes: bool,
    pub cache_ttl: Duration,
    /// Drop `null` object fields from results: absent says the same in fewer tokens. Off for
    /// servers whose data has real nulls (DynamoDB items).
    pub drop_nulls: bool,
}

impl Core {
    /// Resolve AWS configuration and the common settings. `name` is the binary name
    /// (`aws-s3-mcp`), reported as `serverInfo.name` and in the user agent and audit log.
    pub async fn load(name: &'static str, version: &'static str, args: &CommonArgs) -> Result<Self, ConfigError> {
        let sdk = crate::aws::load(name, version, args).await?;
        Ok(Self::with_sdk(name, version, args, sdk))
    }

    pub fn with_sdk(name: &'static str, version: &'static str, args: &CommonArgs, sdk: SdkConfig) -> Self {
        Self {
            name,
            version,
            sdk,
            budget: Budget::new(args.budget_bytes()),
            cursors: Cursors::from_env(),
            allow_writes: args.allow_writes,
            cache_ttl: Duration::from_secs(args.cache_ttl_secs),
            drop_nulls: false,
        }
    }

    pub fn server_info(&self) -> Implementation {
        Implementation::new(self.name, self.version)
    }

    /// What every server announces: tools, resources and completions, its name and version, and
    /// its instructions for the model.
    pub fn server_config(&self, instructions: &str) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_completions()
                .build(),
        )
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

    /// Run a tool through `router`: the budget is applied to its result and one audit line is
    /// written, whatever the outcome. Servers call this from `ServerHandler::call_tool`.
    pub async fn call_tool<S: Send + Sync + 'static>(
        &self,
        server: &S,
        router: &ToolRouter<S>,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let started = Instant::now();
        let tool = request.name.to_string();
        let checked = match router.get(&tool) {
            Some(t) => crate::args::validate(&t.input_schema, request.arguments.as_ref()),
            None => Ok(()),
        };
        let (response, request_ids) = match checked {
            Ok(()) => audit::collect_request_ids(router.call(ToolCallContext::new(server, request, context))).await,
            Err(e) => (e.into_call_tool_result(), Vec::new()),
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
        audit::tool_call(
            self.name,
            &tool,
            started.elapsed(),
            &outcome,
            code.as_deref(),
            &request_ids,
        );
        response.map(|r| match r {
            CallToolResponse::Complete(result) => CallToolResponse::Complete(self.fit(result)),
            other => other,
        })
    }

    /// Apply the output budget to a result, keeping the text block in step with the structured one.
    fn fit(&self, mut result: CallToolResult) -> CallToolResult {
        if let Some(mut value) = result.structured_content.take() {
            if self.drop_nulls {
                drop_nulls(&mut value);
            }
            let fitted = self.budget.enforce(value);
            if result.is_error != Some(true) {
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

/// A server's [`Core`] and its (write-gated) tool router, for [`tool_methods!`].
pub trait Tools: Sized + Send + Sync + 'static {
    fn tools(&self) -> (&Core, &ToolRouter<Self>);
}

/// The tool methods of `rmcp::ServerHandler`, the same for every server: calls go through
/// [`Core::call_tool`] (argument checks, audit line, output budget) to the server's router, and
/// listings show only what the router holds. Expand inside `impl ServerHandler for X` where
/// `X: Tools`. (A macro rather than a blanket impl: `ServerHandler` has many other methods.)
#[macro_export]
macro_rules! tool_methods {
    () => {
        async fn call_tool(
            &self,
            request: rmcp::model::CallToolRequestParams,
            context: rmcp::service::RequestContext<rmcp::RoleServer>,
        ) -> Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
            let (core, router) = $crate::core::Tools::tools(self);
            core.call_tool(self, router, request, context).await
        }

        async fn list_tools(
            &self,
            _request: Option<rmcp::model::PaginatedRequestParams>,
            _context: rmcp::service::RequestContext<rmcp::RoleServer>,
        ) -> Result<rmcp::model::ListToolsResult, rmcp::ErrorData> {
            Ok(rmcp::model::ListToolsResult::with_all_items(
                $crate::core::Tools::tools(self).1.list_all(),
            ))
        }

        fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
            $crate::core::Tools::tools(self).1.get(name).cloned()
        }
    };
}

/// A server's MCP resources and completions, for [`resource_methods!`].
pub trait Resources: Send + Sync + 'static {
    fn templates(&self) -> rmcp::model::ListResourceTemplatesResult;
    fn list(
        &self,
        cursor: Option<String>,
    ) -> impl std::future::Future<Output = Result<rmcp::model::ListResourcesResult, ErrorData>> + Send;
    fn read(
        &self,
        uri: &str,
    ) -> impl std::future::Future<Output = Result<rmcp::model::ReadResourceResult, ErrorData>> + Send;
    fn complete(
        &self,
        request: rmcp::model::CompleteRequestParams,
    ) -> impl std::future::Future<Output = Result<rmcp::model::CompleteResult, ErrorData>> + Send;
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
/// `shared::server_handler!(S3Server, INSTRUCTIONS);`
#[macro_export]
macro_rules! server_handler {
    ($server:ty, $instructions:expr) => {
        impl rmcp::ServerHandler for $server {
            fn get_info(&self) -> rmcp::model::ServerConfig {
                $crate::core::Tools::tools(self).0.server_config($instructions)
            }

            $crate::tool_methods!();

            $crate::resource_methods!();
        }
    };
}
