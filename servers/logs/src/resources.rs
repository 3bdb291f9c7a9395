//! MCP resources: `logs://{group}` (the latest events of the group's most recent stream, within
//! the budget, secrets masked), `resources/list` of the allowed groups with a cursor, and
//! completions of group names for the template.

use aws_sdk_cloudwatchlogs::types::OrderBy;
use rmcp::{
    ErrorData,
    model::{
        CompleteRequestParams, CompleteResult, ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult,
        Reference, Resource, ResourceContents, ResourceTemplate,
    },
};
use serde_json::json;
use shared::{
    Page, ToolError,
    aws::call,
    core::{MAX_COMPLETIONS, completion, resource_error},
};

use crate::{
    LogsServer,
    events::render,
    names,
    tools::{
        events::GET_LOG_EVENTS,
        groups::{AWS_PAGE, DESCRIBE_LOG_GROUPS, DESCRIBE_LOG_STREAMS},
    },
};

pub(crate) const TEMPLATE: &str = "logs://{group}";
const LIST: &str = "resources/list";
/// Events a resource read returns at most (before the budget).
const RECENT_EVENTS: i32 = 50;
/// DescribeLogGroups pages a completion reads at most.
const MAX_COMPLETION_PAGES: usize = 4;
const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

pub(crate) fn uri(group: &str) -> String {
    format!("logs://{}", names::uri_encode(group))
}

/// `logs:///aws/lambda/f` → `/aws/lambda/f` (escapes decoded).
fn parse_uri(uri: &str) -> Result<String, ErrorData> {
    uri.strip_prefix("logs://")
        .and_then(names::uri_decode)
        .filter(|g| !g.is_empty())
        .ok_or_else(|| ErrorData::invalid_params(format!("`{uri}` is not a log group URI; use logs://{{group}}"), None))
}

impl shared::core::Resources for LogsServer {
    fn templates(&self) -> ListResourceTemplatesResult {
        ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(TEMPLATE, "log-group-recent-events")
                .with_title("Recent log events")
                .with_description("The latest events of the log group's most recent stream, secrets masked.")
                .with_mime_type("application/json"),
        ])
    }

    async fn list(&self, cursor: Option<String>) -> Result<ListResourcesResult, ErrorData> {
        let err = |e| resource_error("", e, NOT_FOUND);
        // The position is AWS's token and how many groups of that page were already listed, so a
        // page cut by the output budget resumes at the next group.
        let at: Page<String> = match cursor.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(c) => self.core.cursors.open(LIST, &(), c).map_err(err)?,
            None => Page::default(),
        };
        let Some(prefix) = self.inner.groups.narrow(None) else {
            return Ok(ListResourcesResult::with_all_items(Vec::new()));
        };
        let (client, target) = self.inner.clients.get().await.map_err(err)?;
        let req = client
            .describe_log_groups()
            .set_log_group_name_prefix(prefix)
            .set_next_token(at.token.clone())
            .limit(AWS_PAGE);
        let out = call(DESCRIBE_LOG_GROUPS, &target, req.send()).await.map_err(err)?;
        let mut resources: Vec<Resource> = out
            .log_groups()
            .iter()
            .filter_map(|g| g.log_group_name())
            .filter(|n| self.inner.groups.allows(n))
            .skip(at.skip)
            .map(|name| {
                Resource::new(uri(name), name.to_owned())
                    .with_title(format!("Log group {name}"))
                    .with_mime_type("application/json")
                    .with_description("Recent events of this log group")
            })
            .collect();
        let fit = self.core.budget.fit_items(&resources, 600);
        let next = if fit < resources.len() {
            resources.truncate(fit);
            Some(Page {
                token: at.token.clone(),
                skip: at.skip + fit,
            })
        } else {
            out.next_token().map(|t| Page {
                token: Some(t.to_owned()),
                skip: 0,
            })
        };
        let mut result = ListResourcesResult::with_all_items(resources);
        result.next_cursor = next.map(|p| self.core.cursors.issue(LIST, &(), &p));
        Ok(result)
    }

    async fn read(&self, uri: &str) -> Result<ReadResourceResult, ErrorData> {
        let group = parse_uri(uri)?;
        let body = self
            .recent(&group)
            .await
            .map_err(|e| resource_error(uri, e, NOT_FOUND))?;
        let body = self.core.budget.enforce(body);
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(body.to_string(), uri).with_mime_type("application/json"),
        ]))
    }

    async fn complete(&self, request: CompleteRequestParams) -> Result<CompleteResult, ErrorData> {
        let is_template = matches!(&request.r#ref, Reference::Resource(r) if r.uri == TEMPLATE);
        let values = if is_template && request.argument.name == "group" {
            self.complete_groups(&request.argument.value).await
        } else {
            Vec::new()
        };
        completion(values)
    }
}

impl LogsServer {
    /// The latest events of the group's most recently written stream.
    async fn recent(&self, group: &str) -> Result<serde_json::Value, ToolError> {
        self.check_group("group", group)?;
        let (client, target) = self.inner.clients.get().await?;
        let streams = call(
            DESCRIBE_LOG_STREAMS,
            &target,
            client
                .describe_log_streams()
                .log_group_name(group)
                .order_by(OrderBy::LastEventTime)
                .descending(true)
                .limit(1)
                .send(),
        )
        .await?;
        let Some(stream) = streams.log_streams().first().and_then(|s| s.log_stream_name()) else {
            return Ok(json!({ "log_group": group, "events": [], "note": "the group has no streams" }));
        };
        let out = call(
            GET_LOG_EVENTS,
            &target,
            client
                .get_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .start_from_head(false)
                .limit(RECENT_EVENTS)
                .send(),
        )
        .await?;
        let mut redacted = 0;
        let events: Vec<_> = out
            .events()
            .iter()
            .map(|e| {
                let (ev, n) = render(self.redactor(), None, None, e.timestamp(), e.message());
                redacted += n;
                ev
            })
            .collect();
        Ok(json!({
            "log_group": group,
            "log_stream": stream,
            "events": events,
            "redacted": redacted,
            "more": "tail_log_stream and filter_log_events read further",
        }))
    }

    /// Allowed group names starting with `typed`. Failures give no suggestions, not an error.
    async fn complete_groups(&self, typed: &str) -> Vec<String> {
        let Some(prefix) = self.inner.groups.narrow(Some(typed)) else {
            return Vec::new();
        };
        let Ok((client, target)) = self.inner.clients.get().await else {
            return Vec::new();
        };
        let mut names = Vec::new();
        let mut token = None;
        for _ in 0..MAX_COMPLETION_PAGES {
            let req = client
                .describe_log_groups()
                .set_log_group_name_prefix(prefix.clone())
                .set_next_token(token.take())
                .limit(AWS_PAGE);
            let Ok(out) = call(DESCRIBE_LOG_GROUPS, &target, req.send()).await else {
                break;
            };
            names.extend(
                out.log_groups()
                    .iter()
                    .filter_map(|g| g.log_group_name())
                    .filter(|n| n.starts_with(typed) && self.inner.groups.allows(n))
                    .map(str::to_owned),
            );
            token = out.next_token().map(str::to_owned);
            if token.is_none() || names.len() > MAX_COMPLETIONS {
                break;
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(parse_uri("logs:///aws/lambda/f").ok().as_deref(), Some("/aws/lambda/f"));
        assert_eq!(parse_uri(&uri("a#b")).ok().as_deref(), Some("a#b"));
        for bad in ["logs://", "s3://x", "logs://%zz"] {
            assert!(parse_uri(bad).is_err(), "{bad}");
        }
    }
}
