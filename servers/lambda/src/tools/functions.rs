//! `list_functions` and `get_function`.

use aws_sdk_lambda::{operation::get_function::GetFunctionOutput, types::FunctionConfiguration};
use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Output, PageArgs, ToolError, ToolResult, aws::call, context, page::Walked};

use crate::{
    GET_FUNCTION, GET_FUNCTION_URL_CONFIG, LambdaServer,
    names::FunctionRef,
    scan::{self, Pos},
};

/// AWS pages one list_functions call may read while filtering (50 functions each).
const MAX_SCAN_PAGES: usize = 20;

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub(crate) struct ListFunctionsParams {
    /// Part of the function name (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Runtime or its start: `python`, `nodejs20.x`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub(crate) struct FunctionParams {
    /// Function name or ARN.
    pub function: String,
    /// Version or alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
}

/// One line of list_functions.
fn summary(f: &FunctionConfiguration) -> Value {
    json!({
        "name": f.function_name(),
        "runtime": f.runtime().map(|r| r.as_str()),
        "architecture": f.architectures().first().map(|a| a.as_str()),
        "memory_mb": f.memory_size(),
        "timeout_s": f.timeout(),
        "last_modified": scan::time(f.last_modified()),
        "description": f.description().filter(|d| !d.is_empty()),
        "state": f.state().map(|s| s.as_str()),
        "package_type": f.package_type().map(|p| p.as_str()).filter(|p| *p != "Zip"),
    })
}

#[tool_router(router = function_tools, vis = "pub(crate)")]
impl LambdaServer {
    /// List functions with runtime, architecture, memory, timeout, last modified, description.
    #[tool(annotations(
        title = "List functions",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn list_functions(&self, Parameters(p): Parameters<ListFunctionsParams>) -> ToolResult {
        let at: Pos = self.core.page(&p, &p.page)?;
        let want = p.page.size(50) as usize;
        let name = p
            .name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase);
        let runtime = p
            .runtime
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase);
        let (client, target) = self.inner.clients.get().await?;
        let allow = &self.inner.allow;
        let found = scan::functions(&client, &target, at, want, MAX_SCAN_PAGES, |f| {
            let n = f.function_name().unwrap_or_default();
            allow.allows(n)
                && name
                    .as_ref()
                    .is_none_or(|q| n.to_ascii_lowercase().contains(q.as_str()))
                && runtime.as_ref().is_none_or(|r| {
                    f.runtime()
                        .is_some_and(|rt| rt.as_str().to_ascii_lowercase().starts_with(r.as_str()))
                })
        })
        .await?;
        let (scanned, finished) = (found.scanned, found.finished);
        let walked = Walked {
            items: found.items.into_iter().map(|(at, f)| (at, summary(&f))).collect(),
            next: found.next,
            finished,
            pages: found.pages,
            scanned,
        };
        let filled = walked.items.len() >= want;
        let mut out = self.core.paged_walk(&p, walked, want, "functions", json!({})).0;
        if out.get("truncated").is_none() && out.get("next_cursor").is_some() && !filled {
            out["note"] = json!(format!(
                "looked at {scanned} functions without filling the page; pass next_cursor to keep looking"
            ));
        }
        Ok(Output(out))
    }

    /// One function: configuration, state, layers, concurrency, URL, tags, environment variable names (values only with --show-env-values, masked).
    #[tool(annotations(
        title = "Get function",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn get_function(&self, Parameters(p): Parameters<FunctionParams>) -> ToolResult {
        let f = self.function_arg("function", &p.function)?;
        let q = Self::qualifier_arg(p.qualifier.as_deref())?;
        let (mut v, cached) = self.function_details(&f, q.as_deref()).await?;
        v["cached"] = json!(cached);
        Ok(Output(v))
    }
}

impl LambdaServer {
    /// get_function's result (cached per account, region, function and qualifier).
    pub(crate) async fn function_details(
        &self,
        f: &FunctionRef,
        qualifier: Option<&str>,
    ) -> Result<(Value, bool), ToolError> {
        let key = context::scoped(&format!("{}\u{0}{}", f.id, qualifier.unwrap_or("")));
        self.inner
            .functions
            .get_or_fetch(key, self.fetch_function(f, qualifier))
            .await
    }

    async fn fetch_function(&self, f: &FunctionRef, qualifier: Option<&str>) -> Result<Value, ToolError> {
        let (client, target) = self.inner.clients.get().await?;
        let get = call(
            GET_FUNCTION,
            &target,
            client
                .get_function()
                .function_name(&f.id)
                .set_qualifier(qualifier.map(str::to_owned))
                .send(),
        );
        // URLs belong to the function or an alias, never to a numbered version.
        let alias = qualifier.filter(|q| *q != "$LATEST" && !q.chars().all(|c| c.is_ascii_digit()));
        let url = async {
            if qualifier.is_some() && alias.is_none() {
                return Ok(None);
            }
            let req = client
                .get_function_url_config()
                .function_name(&f.id)
                .set_qualifier(alias.map(str::to_owned))
                .send();
            match call(GET_FUNCTION_URL_CONFIG, &target, req).await {
                Ok(u) => Ok(Some(json!({
                    "url": u.function_url(),
                    "auth_type": u.auth_type().as_str(),
                    "invoke_mode": u.invoke_mode().map(|m| m.as_str()),
                    "cors_origins": u.cors().map(|c| c.allow_origins().to_vec()),
                }))),
                Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
                Err(e) => Err(e),
            }
        };
        let (got, url) = futures::join!(get, url);
        let got = got?;
        let mut v = describe_function(&got, self.inner.show_env_values, &self.inner.redactor);
        match url {
            Ok(u) => v["function_url"] = json!(u),
            Err(e) => v["function_url_error"] = json!(e.to_string()),
        }
        Ok(v)
    }
}

/// GetFunction's answer as get_function shows it. Environment values only with `show_values`,
/// and then through the redactor.
pub(crate) fn describe_function(got: &GetFunctionOutput, show_values: bool, redactor: &shared::Redactor) -> Value {
    let Some(c) = got.configuration() else {
        return json!({ "error": "GetFunction returned no configuration" });
    };
    let env = c.environment();
    let vars = env.and_then(|e| e.variables());
    let environment = match vars {
        None => Value::Null,
        Some(vars) if show_values => {
            let mut values = json!(vars);
            let redacted = redactor.json(&mut values);
            json!({ "variables": values, "redacted": redacted })
        }
        Some(vars) => {
            let mut names: Vec<&String> = vars.keys().collect();
            names.sort();
            json!({ "names": names, "values": "hidden (the operator can start the server with --show-env-values)" })
        }
    };
    let mut tags: Vec<(&String, &String)> = got.tags().map(|t| t.iter().collect()).unwrap_or_default();
    tags.sort();
    let tags: serde_json::Map<String, Value> = tags.into_iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    json!({
        "name": c.function_name(),
        "arn": c.function_arn(),
        "version": c.version(),
        "description": c.description().filter(|d| !d.is_empty()),
        "runtime": c.runtime().map(|r| r.as_str()),
        "handler": c.handler(),
        "package_type": c.package_type().map(|p| p.as_str()),
        "architectures": c.architectures().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "memory_mb": c.memory_size(),
        "timeout_s": c.timeout(),
        "ephemeral_storage_mb": c.ephemeral_storage().map(|e| e.size()),
        "role": c.role(),
        "state": c.state().map(|s| s.as_str()),
        "state_reason": c.state_reason(),
        "state_reason_code": c.state_reason_code().map(|s| s.as_str()),
        "last_update_status": c.last_update_status().map(|s| s.as_str()),
        "last_update_status_reason": c.last_update_status_reason(),
        "last_modified": scan::time(c.last_modified()),
        "code_size": c.code_size(),
        "code_sha256": c.code_sha256(),
        "code": got.code().map(|l| json!({"repository_type": l.repository_type(), "image_uri": l.image_uri()})),
        "layers": c.layers().iter().map(|l| json!({"arn": l.arn(), "code_size": l.code_size()})).collect::<Vec<_>>(),
        "reserved_concurrency": got.concurrency().and_then(|c| c.reserved_concurrent_executions()),
        "environment": environment,
        "environment_error": env.and_then(|e| e.error()).map(|e| json!({"code": e.error_code(), "message": e.message()})),
        "vpc": c.vpc_config().filter(|v| v.vpc_id().is_some_and(|id| !id.is_empty())).map(|v| json!({
            "vpc_id": v.vpc_id(), "subnet_ids": v.subnet_ids(), "security_group_ids": v.security_group_ids()})),
        "dead_letter_target": c.dead_letter_config().and_then(|d| d.target_arn()),
        "tracing": c.tracing_config().and_then(|t| t.mode()).map(|m| m.as_str()),
        "logging": c.logging_config().map(|l| json!({"log_group": l.log_group(), "format": l.log_format().map(|f| f.as_str())})),
        "tags": tags,
        "tags_error": got.tags_error().map(|e| e.message()),
    })
}
