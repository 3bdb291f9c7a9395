//! Who and what reaches a function: `get_function_policy` (its resource policy, parsed) and
//! `list_event_source_mappings` (queues, streams and topics that invoke it).

use rmcp::{handler::server::wrapper::Parameters, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Output, Page, PageArgs, ToolResult, aws::call};

use crate::{GET_POLICY, LIST_EVENT_SOURCE_MAPPINGS, LambdaServer, names, tools::functions::FunctionParams};

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub(crate) struct ListMappingsParams {
    /// Function name or ARN (default: every function).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Only mappings reading this queue, stream or topic ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source_arn: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[tool_router(router = access_tools, vis = "pub(crate)")]
impl LambdaServer {
    /// Who may invoke a function: its resource-based policy, one entry per statement.
    #[tool(annotations(
        title = "Get function policy",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn get_function_policy(&self, Parameters(p): Parameters<FunctionParams>) -> ToolResult {
        let f = self.function_arg("function", &p.function)?;
        let q = Self::qualifier_arg(p.qualifier.as_deref())?;
        let (client, target) = self.inner.clients.get().await?;
        let req = client.get_policy().function_name(&f.id).set_qualifier(q.clone()).send();
        match call(GET_POLICY, &target, req).await {
            Ok(out) => {
                let text = out.policy().unwrap_or("{}");
                let doc: Value = serde_json::from_str(text).unwrap_or_else(|_| json!({ "unparsed": text }));
                let statements: Vec<Value> = match &doc["Statement"] {
                    Value::Array(s) => s.iter().map(statement).collect(),
                    Value::Object(_) => vec![statement(&doc["Statement"])],
                    _ => Vec::new(),
                };
                Ok(Output(json!({
                    "function": f.name,
                    "qualifier": q,
                    "statements": statements,
                    "revision_id": out.revision_id(),
                })))
            }
            // The same code means "no such function" and "no policy": GetFunction tells which.
            Err(e) if e.code() == Some("ResourceNotFoundException") => {
                self.function_details(&f, q.as_deref()).await?;
                Ok(Output(json!({
                    "function": f.name,
                    "qualifier": q,
                    "statements": [],
                    "note": "no resource-based policy: only principals of this account whose IAM policies allow lambda:InvokeFunction can invoke it",
                })))
            }
            Err(e) => Err(e),
        }
    }

    /// Event source mappings (SQS, Kinesis, DynamoDB streams, Kafka, MQ) of one function or all, with state and last result.
    #[tool(annotations(
        title = "List event source mappings",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn list_event_source_mappings(&self, Parameters(p): Parameters<ListMappingsParams>) -> ToolResult {
        let f = match p.function.as_deref() {
            Some(name) => Some(self.function_arg("function", name)?),
            None => None,
        };
        shared::args::check_len("event_source_arn", p.event_source_arn.as_deref(), 2048)?;
        let at: Page<String> = self.core.page(&p, &p.page)?;
        let (client, target) = self.inner.clients.get().await?;
        let req = client
            .list_event_source_mappings()
            .set_function_name(f.as_ref().map(|f| f.id.clone()))
            .set_event_source_arn(p.event_source_arn.clone().filter(|a| !a.trim().is_empty()))
            .set_marker(at.token.clone())
            .max_items(p.page.size(100).min(100) as i32)
            .send();
        let out = call(LIST_EVENT_SOURCE_MAPPINGS, &target, req).await?;
        let allow = &self.inner.allow;
        let items: Vec<Value> = out
            .event_source_mappings()
            .iter()
            // Without a function, AWS lists every mapping: keep those of allowed functions.
            .filter(|m| allow.allows(names::name_of_arn(m.function_arn().unwrap_or_default())))
            .map(|m| {
                let source = m.event_source_arn().map(|a| json!(a)).or_else(|| {
                    let mut s: Vec<&String> = m.topics().iter().chain(m.queues()).collect();
                    s.sort();
                    (!s.is_empty()).then(|| json!(s))
                });
                json!({
                    "uuid": m.uuid(),
                    "function": m.function_arn().map(names::name_of_arn),
                    "event_source": source,
                    "state": m.state(),
                    "state_reason": m.state_transition_reason(),
                    "last_processing_result": m.last_processing_result(),
                    "batch_size": m.batch_size(),
                    "batching_window_s": m.maximum_batching_window_in_seconds().filter(|w| *w > 0),
                    "starting_position": m.starting_position().map(|s| s.as_str()),
                    "filters": m.filter_criteria().map(|c| c.filters().iter().filter_map(|f| f.pattern()).collect::<Vec<_>>()),
                    "maximum_retry_attempts": m.maximum_retry_attempts(),
                    "on_failure": m.destination_config().and_then(|d| d.on_failure()).and_then(|o| o.destination()),
                    "last_modified": shared::time::opt_rfc3339(m.last_modified()),
                })
            })
            .collect();
        let next = out.next_marker().filter(|m| !m.is_empty()).map(str::to_owned);
        let envelope = match &f {
            Some(f) => json!({ "function": f.name }),
            None => json!({}),
        };
        self.core.paged(&p, &at, next, items, "mappings", envelope)
    }
}

/// One policy statement, with its principal and the conditions that matter named plainly.
fn statement(s: &Value) -> Value {
    let principal = match &s["Principal"] {
        Value::String(p) if p == "*" => json!("anyone (*)"),
        Value::Object(m) => {
            let mut who = Vec::new();
            for (kind, v) in m {
                let list: Vec<String> = match v {
                    Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                    Value::String(s) => vec![s.clone()],
                    _ => Vec::new(),
                };
                who.extend(list.into_iter().map(|p| format!("{kind}: {p}")));
            }
            json!(who)
        }
        other => other.clone(),
    };
    let cond = &s["Condition"];
    let find = |key: &str| -> Option<Value> {
        cond.as_object()?.values().find_map(|ops| {
            ops.as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
        })
    };
    json!({
        "sid": s["Sid"],
        "effect": s["Effect"],
        "principal": principal,
        "action": s["Action"],
        "resource": s["Resource"],
        "source_arn": find("AWS:SourceArn"),
        "source_account": find("AWS:SourceAccount"),
        "principal_org_id": find("aws:PrincipalOrgID"),
        "function_url_auth_type": find("lambda:FunctionUrlAuthType"),
        "condition": cond.as_object().filter(|c| !c.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_name_principals_and_sources() {
        let s = statement(&json!({
            "Sid": "s3", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "arn:f",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bkt"}, "StringEquals": {"AWS:SourceAccount": "1"}}
        }));
        assert_eq!(s["principal"], json!(["Service: s3.amazonaws.com"]));
        assert_eq!(s["source_arn"], "arn:aws:s3:::bkt");
        assert_eq!(s["source_account"], "1");
        assert_eq!(statement(&json!({"Principal": "*"}))["principal"], "anyone (*)");
    }
}
