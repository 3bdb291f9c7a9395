//! `describe_log_groups` and `describe_log_streams`.

use aws_sdk_cloudwatchlogs::types::{LogGroup, LogGroupClass, LogStream, OrderBy};
use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Op, Output, PageArgs, ToolError, ToolResult, aws::call, time::rfc3339_ms};

use crate::LogsServer;

pub(crate) const DESCRIBE_LOG_GROUPS: Op = Op::new("logs", "DescribeLogGroups", "logs:DescribeLogGroups");
pub(crate) const DESCRIBE_LOG_STREAMS: Op = Op::new("logs", "DescribeLogStreams", "logs:DescribeLogStreams");
/// Fixed AWS page size (the maximum), so a token always yields the same page.
pub(crate) const AWS_PAGE: i32 = 50;
/// AWS pages one call reads at most (an allowlist can hide most of a page).
const MAX_PAGES: usize = 10;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Class {
    Standard,
    InfrequentAccess,
    Delivery,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct GroupsParams {
    /// Names starting with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Names containing this (not with prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<Class>,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StreamOrder {
    #[default]
    LastEvent,
    Name,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct StreamsParams {
    pub log_group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<StreamOrder>,
    /// Name prefix (with order name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs,
}

pub(crate) fn group_json(g: &LogGroup) -> Value {
    json!({
        "name": g.log_group_name(),
        "created": g.creation_time().map(rfc3339_ms),
        "retention_days": g.retention_in_days(),
        "stored_bytes": g.stored_bytes(),
        "class": g.log_group_class().map(|c| c.as_str()),
        "kms_key": g.kms_key_id(),
    })
}

fn stream_json(s: &LogStream) -> Value {
    json!({
        "name": s.log_stream_name(),
        "created": s.creation_time().map(rfc3339_ms),
        "first_event": s.first_event_timestamp().map(rfc3339_ms),
        "last_event": s.last_event_timestamp().map(rfc3339_ms),
        "last_ingestion": s.last_ingestion_time().map(rfc3339_ms),
    })
}

#[tool_router(router = group_tools, vis = "pub(crate)")]
impl LogsServer {
    /// Log groups: stored bytes, retention, class, creation time.
    #[tool(annotations(
        title = "Describe log groups",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn describe_log_groups(&self, Parameters(p): Parameters<GroupsParams>) -> ToolResult {
        if p.prefix.is_some() && p.contains.is_some() {
            return Err(ToolError::invalid(
                "contains",
                "give either prefix or contains, not both",
            ));
        }
        let at = self.core.page(&p, &p.page)?;
        let want = p.page.size(50) as usize;
        let restricted = self.inner.groups.is_restricted();
        let mut envelope = json!({});
        if restricted {
            envelope["note"] = json!("only groups allowed by this server's --log-group patterns are listed");
        }
        // Ask AWS only for names the allowlist can allow.
        let Some(prefix) = self.inner.groups.narrow(p.prefix.as_deref()) else {
            envelope["log_groups"] = json!([]);
            return Ok(Output(envelope));
        };
        // AWS takes a prefix or a pattern, not both: with an allowlist prefix, `contains` is
        // matched here (case-insensitively, as AWS does).
        let (pattern, contains) = match (&prefix, &p.contains) {
            (Some(_), Some(c)) => (None, Some(c.to_lowercase())),
            (_, c) => (c.clone(), None),
        };
        let (client, target) = self.inner.clients.get().await?;
        let allow = &self.inner.groups;
        let contains = &contains;
        let walked = shared::page::walk_from(
            at,
            want,
            MAX_PAGES,
            |_| true,
            |token: Option<String>| {
                let req = client
                    .describe_log_groups()
                    .set_log_group_name_prefix(prefix.clone())
                    .set_log_group_name_pattern(pattern.clone())
                    .set_log_group_class(p.class.map(|c| match c {
                        Class::Standard => LogGroupClass::Standard,
                        Class::InfrequentAccess => LogGroupClass::InfrequentAccess,
                        Class::Delivery => LogGroupClass::Delivery,
                    }))
                    .set_next_token(token)
                    .limit(AWS_PAGE);
                let target = target.clone();
                async move {
                    let out = call(DESCRIBE_LOG_GROUPS, &target, req.send()).await?;
                    let items: Vec<Value> = out
                        .log_groups()
                        .iter()
                        .filter(|g| {
                            g.log_group_name().is_some_and(|n| {
                                allow.allows(n) && contains.as_ref().is_none_or(|c| n.to_lowercase().contains(c))
                            })
                        })
                        .map(group_json)
                        .collect();
                    Ok((items, out.next_token().map(str::to_owned)))
                }
            },
        )
        .await?;
        Ok(self.core.paged_walk(&p, walked, want, "log_groups", envelope))
    }

    /// Streams of a group, latest event first (or by name).
    #[tool(annotations(
        title = "Describe log streams",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn describe_log_streams(&self, Parameters(p): Parameters<StreamsParams>) -> ToolResult {
        self.check_group("log_group", &p.log_group)?;
        let order = p.order.unwrap_or_default();
        if p.prefix.is_some() && order == StreamOrder::LastEvent {
            return Err(ToolError::invalid(
                "prefix",
                "CloudWatch filters streams by prefix only in name order: add order = \"name\"",
            ));
        }
        let at = self.core.page(&p, &p.page)?;
        let want = p.page.size(50) as usize;
        let (client, target) = self.inner.clients.get().await?;
        let walked = shared::page::walk_from(
            at,
            want,
            MAX_PAGES,
            |_| true,
            |token: Option<String>| {
                let mut req = client
                    .describe_log_streams()
                    .set_log_stream_name_prefix(p.prefix.clone())
                    .set_next_token(token)
                    .limit(AWS_PAGE);
                req = if crate::names::is_arn(&p.log_group) {
                    req.log_group_identifier(&p.log_group)
                } else {
                    req.log_group_name(&p.log_group)
                };
                req = match order {
                    StreamOrder::LastEvent => req.order_by(OrderBy::LastEventTime).descending(true),
                    StreamOrder::Name => req.order_by(OrderBy::LogStreamName),
                };
                let target = target.clone();
                async move {
                    let out = call(DESCRIBE_LOG_STREAMS, &target, req.send()).await?;
                    let items: Vec<Value> = out.log_streams().iter().map(stream_json).collect();
                    Ok((items, out.next_token().map(str::to_owned)))
                }
            },
        )
        .await?;
        let envelope = json!({ "log_group": p.log_group });
        Ok(self.core.paged_walk(&p, walked, want, "log_streams", envelope))
    }
}
