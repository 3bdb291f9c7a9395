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
    model::{CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation},
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
