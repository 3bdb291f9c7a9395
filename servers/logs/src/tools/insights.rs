//! Logs Insights: `run_insights_query` (start, poll with backoff, stop on timeout),
//! `get_insights_results` and `stop_insights_query` for queries left running, and
//! `top_error_patterns` (an Insights `pattern` query over error-like lines).
//!
//! Rows come back as plain objects without `@ptr`; the row cap is decided from the rows CloudWatch
//! returned (never from `recordsMatched`), and the byte cap is the output budget.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::{
    Client,
    operation::get_query_results::GetQueryResultsOutput,
    types::{QueryStatus, ResultField},
};
use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use shared::{
    Op, Output, Page, PageArgs, Target, ToolError, ToolResult,
    aws::call,
    context,
    poll::{self, Backoff, Poll, Polled},
    time::{self, TimeRange},
};

use crate::{LogsServer, names};

pub(crate) const START_QUERY: Op = Op::new("logs", "StartQuery", "logs:StartQuery");
pub(crate) const GET_QUERY_RESULTS: Op = Op::new("logs", "GetQueryResults", "logs:GetQueryResults");
pub(crate) const STOP_QUERY: Op = Op::new("logs", "StopQuery", "logs:StopQuery");
pub(crate) const GET_LOG_RECORD: Op = Op::new("logs", "GetLogRecord", "logs:GetLogRecord");

const DEFAULT_ROWS: u32 = 1_000;
const MAX_ROWS: u32 = 10_000;
const DEFAULT_TIMEOUT_SECS: u32 = 30;
/// `@message` values at least this long may have been clipped by CloudWatch and are worth a
/// GetLogRecord when the caller asks for restoring.
pub(crate) const CLIPPED_MIN_BYTES: usize = 1_000;
/// GetLogRecord calls one tool call makes at most.
pub(crate) const MAX_RESTORES: usize = 10;
/// Lines `top_error_patterns` counts as errors unless told otherwise.
const ERROR_REGEX: &str = "(?i)(error|exception|fail|fatal|panic|timed? ?out)";

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct QueryParams {
    /// Group names or ARNs.
    #[schemars(length(min = 1, max = 50))]
    pub log_groups: Vec<String>,
    /// Logs Insights QL.
    pub query: String,
    /// Default 1h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Default 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub max_rows: Option<u32>,
    /// Default 30, then stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 600))]
    pub timeout_secs: Option<u32>,
    /// On timeout, leave it running.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_running: bool,
    /// Re-read clipped @message in full (max 10).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restore_messages: bool,
}

#[derive(Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct ResultsParams {
    pub query_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub max_rows: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restore_messages: bool,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct StopParams {
    pub query_id: String,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct PatternsParams {
    #[schemars(length(min = 1, max = 50))]
    pub log_groups: Vec<String>,
    /// Default 24h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Error-line regex (default error|exception|fail…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Default 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub top: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 600))]
    pub timeout_secs: Option<u32>,
}

/// One Insights query to start and wait for.
struct Job<'a> {
    groups: &'a [String],
    query: &'a str,
    range: TimeRange,
    /// StartQuery's own row limit, when the query has no `limit` command.
    limit: Option<i32>,
    wait: Duration,
    /// Leave it running at the deadline instead of stopping it.
    keep_running: bool,
}

/// Which rows of a query result a call returns.
struct Rows<'a> {
    id: &'a str,
    /// At most this many of the rows CloudWatch returned.
    cap: usize,
    /// Re-read clipped `@message` values.
    restore: bool,
    /// Rows already returned (a cursor's position).
    skip: usize,
}

/// How a started query ended within its timeout.
enum Ran {
    Complete(GetQueryResultsOutput),
    /// Still running and left so on purpose (`keep_running`).
    LeftRunning(String),
}

/// A result row as a plain object, and its record pointer (`@ptr`) kept aside for GetLogRecord.
pub(crate) fn row(fields: &[ResultField]) -> (Map<String, Value>, Option<String>) {
    let mut obj = Map::new();
    let mut ptr = None;
    for f in fields {
        let (Some(name), Some(value)) = (f.field(), f.value()) else {
            continue;
        };
        if name == "@ptr" {
            ptr = Some(value.to_owned());
        } else {
            obj.insert(name.to_owned(), Value::String(value.to_owned()));
        }
    }
    (obj, ptr)
}

fn statistics(out: &GetQueryResultsOutput) -> Value {
    match out.statistics() {
        Some(s) => json!({
            "records_matched": s.records_matched(),
            "records_scanned": s.records_scanned(),
            "bytes_scanned": s.bytes_scanned(),
        }),
        None => Value::Null,
    }
}

fn status_of(out: &GetQueryResultsOutput) -> &str {
    out.status().map_or("Unknown", QueryStatus::as_str)
}

fn deadline(secs: Option<u32>) -> Result<Duration, ToolError> {
    match secs.unwrap_or(DEFAULT_TIMEOUT_SECS) {
        s @ 1..=600 => Ok(Duration::from_secs(s.into())),
        _ => Err(ToolError::invalid("timeout_secs", "give 1 to 600 seconds")),
    }
}

fn max_rows(n: Option<u32>) -> Result<usize, ToolError> {
    match n.unwrap_or(DEFAULT_ROWS) {
        n @ 1..=MAX_ROWS => Ok(n as usize),
        _ => Err(ToolError::invalid("max_rows", "give 1 to 10000")),
    }
}

/// Whether the query has its own `limit` command (then StartQuery's limit is not added).
fn has_limit(query: &str) -> bool {
    query.split('|').any(|s| {
        let mut words = s.split_whitespace();
        words.next().is_some_and(|w| w.eq_ignore_ascii_case("limit"))
    })
}

#[tool_router(router = insights_tools, vis = "pub(crate)")]
impl LogsServer {
    /// Run a Logs Insights query and wait for its rows. On timeout it is stopped (or left running
    /// with keep_running) and the query id returned.
    #[tool(annotations(
        title = "Run a Logs Insights query",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn run_insights_query(&self, Parameters(p): Parameters<QueryParams>) -> ToolResult {
        let range = self.query_checks(&p.log_groups, &p.start, &p.end, "1h")?;
        if p.query.trim().is_empty() {
            return Err(ToolError::invalid("query", "must not be empty"));
        }
        if self.inner.groups.is_restricted() && names::selects_groups(&p.query) {
            return Err(ToolError::invalid(
                "query",
                "this server only reads the log groups its --log-group patterns allow: name them in log_groups \
                 instead of SOURCE / logGroups(...) in the query",
            ));
        }
        let rows_cap = max_rows(p.max_rows)?;
        let wait = deadline(p.timeout_secs)?;
        // One row more than the cap tells whether the cap cut anything.
        let limit = (!has_limit(&p.query)).then_some(rows_cap as i32 + 1);
        let aws = self.inner.clients.get().await?;
        let job = Job {
            groups: &p.log_groups,
            query: &p.query,
            range,
            limit,
            wait,
            keep_running: p.keep_running,
        };
        let (id, ran) = self.start_and_wait(&aws, job).await?;
        let out = match ran {
            Ran::Complete(out) => out,
            Ran::LeftRunning(status) => {
                return Ok(Output(json!({
                    "query_id": id,
                    "status": status,
                    "note": format!(
                        "the query did not finish within {} s and is still running: read it with get_insights_results",
                        wait.as_secs()
                    ),
                })));
            }
        };
        let view = Rows {
            id: &id,
            cap: rows_cap,
            restore: p.restore_messages,
            skip: 0,
        };
        let mut result = self.rows_result(&aws, &out, view).await?;
        if result.get("truncated").is_some() {
            // The rest of the rows are read through get_insights_results: the call to make is
            // spelled out, since its cursor is bound to that tool's arguments.
            let kept = result["rows"].as_array().map_or(0, Vec::len);
            let args = ResultsParams {
                query_id: id.clone(),
                max_rows: p.max_rows,
                restore_messages: p.restore_messages,
                page: PageArgs::default(),
            };
            let page: Page<String> = Page {
                token: None,
                skip: kept,
            };
            let cursor = self.core.cursors.issue("get_insights_results", &args, &page);
            let mut arguments = serde_json::to_value(&args).unwrap_or_default();
            arguments["cursor"] = json!(cursor);
            result["next_call"] = json!({ "tool": "get_insights_results", "arguments": arguments });
        }
        Ok(Output(result))
    }

    /// Status and rows of a query (e.g. one left running), paged.
    #[tool(annotations(
        title = "Get Logs Insights results",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn get_insights_results(&self, Parameters(p): Parameters<ResultsParams>) -> ToolResult {
        self.check_query_id(&p.query_id).await?;
        let rows_cap = max_rows(p.max_rows)?;
        let at: Page<String> = self.core.page(&p, &p.page)?;
        let aws = self.inner.clients.get().await?;
        let out = call(
            GET_QUERY_RESULTS,
            &aws.1,
            aws.0.get_query_results().query_id(&p.query_id).send(),
        )
        .await?;
        let view = Rows {
            id: &p.query_id,
            cap: rows_cap,
            restore: p.restore_messages,
            skip: at.skip,
        };
        let mut result = self.rows_result(&aws, &out, view).await?;
        if result.get("truncated").is_some() {
            let kept = result["rows"].as_array().map_or(0, Vec::len);
            let page: Page<String> = Page {
                token: None,
                skip: at.skip + kept,
            };
            result["next_cursor"] = json!(self.core.cursors.issue(&context::tool(), &p, &page));
        }
        if status_of(&out) != "Complete" {
            result["note"] = json!("the query has not completed: rows so far; call again for the rest");
        }
        Ok(Output(result))
    }

    /// Stop a running Insights query.
    #[tool(annotations(
        title = "Stop a Logs Insights query",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn stop_insights_query(&self, Parameters(p): Parameters<StopParams>) -> ToolResult {
        self.check_query_id(&p.query_id).await?;
        let (client, target) = self.inner.clients.get().await?;
        let out = call(STOP_QUERY, &target, client.stop_query().query_id(&p.query_id).send()).await?;
        Ok(Output(json!({ "query_id": p.query_id, "stopped": out.success() })))
    }

    /// Most frequent error message patterns, with counts and a sample (Insights `pattern`).
    #[tool(annotations(
        title = "Top error patterns",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn top_error_patterns(&self, Parameters(p): Parameters<PatternsParams>) -> ToolResult {
        let range = self.query_checks(&p.log_groups, &p.start, &p.end, "24h")?;
        let regex = p.regex.as_deref().unwrap_or(ERROR_REGEX);
        if regex.is_empty() || regex.contains('/') {
            return Err(ToolError::invalid("regex", "give a non-empty regex without `/`"));
        }
        let top = p.top.unwrap_or(10).clamp(1, 100);
        let wait = deadline(p.timeout_secs)?;
        let query = format!("filter @message like /{regex}/ | pattern @message | sort @sampleCount desc | limit {top}");
        let aws = self.inner.clients.get().await?;
        let job = Job {
            groups: &p.log_groups,
            query: &query,
            range,
            limit: None,
            wait,
            keep_running: false,
        };
        let (id, ran) = self.start_and_wait(&aws, job).await?;
        let Ran::Complete(out) = ran else {
            return Err(ToolError::Other(format!("Logs Insights query {id} did not complete")));
        };
        let mut redacted = 0;
        let patterns: Vec<Value> = out
            .results()
            .iter()
            .take(top as usize)
            .map(|r| {
                let (obj, _) = row(r);
                let mut v = pattern_json(&obj);
                redacted += self.redactor().json(&mut v);
                v
            })
            .collect();
        Ok(Output(json!({
            "query_id": id,
            "query": query,
            "patterns": patterns,
            "statistics": statistics(&out),
            "redacted": redacted,
        })))
    }
}

/// A `pattern` result row: the pattern, its count, severity, and one sample line.
pub(crate) fn pattern_json(obj: &Map<String, Value>) -> Value {
    let s = |k: &str| obj.get(k).and_then(Value::as_str);
    let count = s("@sampleCount").and_then(|c| c.trim().parse::<f64>().ok());
    // @logSamples is a JSON list of sample lines (or a single line).
    let sample = s("@logSamples").map(|raw| match serde_json::from_str::<Value>(raw) {
        Ok(Value::Array(items)) => items.into_iter().next().map_or(Value::Null, |v| match v {
            Value::Object(mut m) => m.remove("@message").unwrap_or(Value::Object(m)),
            other => other,
        }),
        _ => Value::String(raw.to_owned()),
    });
    json!({
        "pattern": s("@pattern"),
        "count": count.map(|c| c as u64),
        "severity": s("@severityLabel"),
        "sample": sample,
    })
}

impl LogsServer {
    /// The checks every query tool makes: 1-50 groups, each valid and allowed, and a time range.
    fn query_checks(
        &self,
        groups: &[String],
        start: &Option<String>,
        end: &Option<String>,
        default_start: &str,
    ) -> Result<TimeRange, ToolError> {
        if groups.is_empty() || groups.len() > 50 {
            return Err(ToolError::invalid("log_groups", "give 1 to 50 log group names"));
        }
        for g in groups {
            self.check_group("log_groups", g)?;
        }
        time::range(
            start.as_deref().map(|v| ("start", v)),
            end.as_deref().map(|v| ("end", v)),
            default_start,
            time::now_ms(),
        )
    }

    /// With an allowlist, only queries this server started may be read or stopped: a query id
    /// does not say which groups it reads.
    async fn check_query_id(&self, id: &str) -> Result<(), ToolError> {
        if id.trim().is_empty() {
            return Err(ToolError::invalid("query_id", "must not be empty"));
        }
        if self.inner.groups.is_restricted() && self.inner.started.get(&context::scoped(id)).await.is_none() {
            return Err(ToolError::NotAllowed {
                kind: "Logs Insights query",
                name: id.to_owned(),
                patterns: format!("queries started by this server over {}", self.inner.patterns),
                flag: "--log-group",
            });
        }
        Ok(())
    }

    /// StartQuery, then GetQueryResults with backoff until the query completes or `wait` passes;
    /// then StopQuery (unless `keep_running`), so no query is left costing money unasked.
    async fn start_and_wait(
        &self,
        (client, target): &(Client, Target),
        job: Job<'_>,
    ) -> Result<(String, Ran), ToolError> {
        let Job {
            groups,
            query,
            range,
            limit,
            wait,
            keep_running,
        } = job;
        let mut req = client
            .start_query()
            .query_string(query)
            .start_time(range.start_ms.div_euclid(1000))
            // Seconds, rounded up so the last partial second is inside the range.
            .end_time((range.end_ms + 999).div_euclid(1000))
            .set_limit(limit);
        let arns = groups.iter().any(|g| names::is_arn(g));
        for g in groups {
            req = if arns {
                req.log_group_identifiers(g)
            } else {
                req.log_group_names(g)
            };
        }
        let started = call(START_QUERY, target, req.send()).await?;
        let Some(id) = started.query_id().map(str::to_owned) else {
            return Err(ToolError::Other("StartQuery answered without a query id".into()));
        };
        self.inner.started.insert(context::scoped(&id), ()).await;
        let polled = poll::until(
            wait,
            &Backoff::default(),
            || {
                let fut = client.get_query_results().query_id(&id).send();
                let id = id.clone();
                async move {
                    let out = call(GET_QUERY_RESULTS, target, fut).await?;
                    match out.status() {
                        Some(QueryStatus::Complete) => Ok(Poll::Done(out)),
                        Some(s @ (QueryStatus::Failed | QueryStatus::Cancelled | QueryStatus::Timeout)) => {
                            Err(ToolError::Other(format!(
                                "Logs Insights query {id} ended with status {}: check the query and the time range",
                                s.as_str()
                            )))
                        }
                        _ => Ok(Poll::Pending((status_of(&out).to_owned(), statistics(&out)))),
                    }
                }
            },
            || {
                let fut = (!keep_running).then(|| client.stop_query().query_id(&id).send());
                async move {
                    match fut {
                        Some(f) => call(STOP_QUERY, target, f).await.map(|_| ()),
                        None => Ok(()),
                    }
                }
            },
        )
        .await?;
        match polled {
            Polled::Done(out) => Ok((id, Ran::Complete(out))),
            Polled::TimedOut { last, cancelled } => {
                let status = last.as_ref().map_or("Scheduled", |(s, _)| s.as_str()).to_owned();
                if keep_running {
                    return Ok((id, Ran::LeftRunning(status)));
                }
                let scanned = last
                    .as_ref()
                    .and_then(|(_, st)| st["records_scanned"].as_f64())
                    .map(|n| format!(", {n} records scanned"))
                    .unwrap_or_default();
                let stop = match cancelled {
                    Ok(()) => "it was stopped (StopQuery), so it costs nothing more".to_owned(),
                    Err(e) => format!("stopping it failed ({e}): stop it with stop_insights_query"),
                };
                Err(ToolError::Other(format!(
                    "Logs Insights query {id} did not complete within {} s (last status {status}{scanned}); {stop}. \
                     Narrow the time range or the groups, or raise timeout_secs",
                    wait.as_secs()
                )))
            }
        }
    }

    /// The rows of a query result from row `skip`: plain objects, capped at `rows_cap` rows of
    /// those CloudWatch returned, clipped `@message` values optionally restored, secrets masked,
    /// and cut to the output budget (with a `truncated` note).
    async fn rows_result(
        &self,
        aws: &(Client, Target),
        out: &GetQueryResultsOutput,
        view: Rows<'_>,
    ) -> Result<Value, ToolError> {
        let Rows {
            id,
            cap: rows_cap,
            restore,
            skip,
        } = view;
        let returned = out.results().len();
        let mut rows: Vec<(Map<String, Value>, Option<String>)> =
            out.results().iter().take(rows_cap).skip(skip).map(|r| row(r)).collect();
        let mut restored = 0;
        if restore {
            restored = self.restore(aws, &mut rows).await?;
        }
        let mut redacted = 0;
        let mut values: Vec<Value> = rows
            .into_iter()
            .map(|(obj, _)| {
                let mut v = Value::Object(obj);
                redacted += self.redactor().json(&mut v);
                v
            })
            .collect();
        let mut result = json!({
            "query_id": id,
            "status": status_of(out),
            "statistics": statistics(out),
            "rows_returned": returned,
            "redacted": redacted,
        });
        if restore {
            result["restored_messages"] = json!(restored);
        }
        if returned > rows_cap {
            result["rows_capped"] = json!(format!(
                "CloudWatch returned {returned} rows; the first {rows_cap} (max_rows) are here. Add stats or a \
                 narrower filter to the query, or raise max_rows"
            ));
        }
        let n = values.len();
        let overhead = shared::budget::json_len(&result) + 1_000;
        let fit = self.core.budget.fit_items(&values, overhead);
        if fit < n {
            values.truncate(fit);
            let note = self.core.budget.dropped_note(
                "/rows",
                fit,
                n - fit,
                "the output budget cut the rows: follow next_call or next_cursor in this result for the rest",
            );
            shared::budget::attach(&mut result, note);
        }
        result["rows"] = Value::Array(values);
        Ok(result)
    }

    /// Replace `@message` values that may have been clipped with the full record (GetLogRecord),
    /// at most [`MAX_RESTORES`] of them. Returns how many were restored.
    async fn restore(
        &self,
        (client, target): &(Client, Target),
        rows: &mut [(Map<String, Value>, Option<String>)],
    ) -> Result<usize, ToolError> {
        let wanted: Vec<(usize, String)> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, (obj, ptr))| {
                let long = obj
                    .get("@message")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.len() >= CLIPPED_MIN_BYTES);
                long.then(|| ptr.clone().map(|p| (i, p))).flatten()
            })
            .take(MAX_RESTORES)
            .collect();
        let calls = wanted.iter().map(|(_, ptr)| {
            let fut = client.get_log_record().log_record_pointer(ptr).send();
            async move { call(GET_LOG_RECORD, target, fut).await }
        });
        let records = futures::future::join_all(calls).await;
        let mut restored = 0;
        for ((i, _), rec) in wanted.iter().zip(records) {
            let rec = rec?;
            let full = rec.log_record().and_then(|m| m.get("@message"));
            if let (Some(full), Some((obj, _))) = (full, rows.get_mut(*i)) {
                let longer = obj
                    .get("@message")
                    .and_then(Value::as_str)
                    .is_none_or(|m| full.len() > m.len());
                if longer {
                    obj.insert("@message".into(), Value::String(full.clone()));
                    restored += 1;
                }
            }
        }
        Ok(restored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(f: &str, v: &str) -> ResultField {
        ResultField::builder().field(f).value(v).build()
    }

    #[test]
    fn rows_are_plain_objects_without_ptr() {
        let (obj, ptr) = row(&[
            field("@timestamp", "2026-11-30 12:00:00.000"),
            field("@message", "hi"),
            field("@ptr", "P1"),
        ]);
        assert_eq!(
            Value::Object(obj),
            json!({"@timestamp": "2026-11-30 12:00:00.000", "@message": "hi"})
        );
        assert_eq!(ptr.as_deref(), Some("P1"));
    }

    #[test]
    fn limit_commands_are_seen() {
        assert!(has_limit("fields @message | limit 20"));
        assert!(has_limit("fields @message\n| LIMIT 5"));
        assert!(!has_limit("fields @message | filter @message like /limit/"));
    }

    #[test]
    fn pattern_rows() {
        let mut obj = Map::new();
        obj.insert("@pattern".into(), json!("ERROR <*> failed"));
        obj.insert("@sampleCount".into(), json!("42"));
        obj.insert("@severityLabel".into(), json!("ERROR"));
        obj.insert("@logSamples".into(), json!("[{\"@message\":\"ERROR db failed\"}]"));
        assert_eq!(
            pattern_json(&obj),
            json!({"pattern": "ERROR <*> failed", "count": 42, "severity": "ERROR", "sample": "ERROR db failed"})
        );
    }

    #[test]
    fn bounds_name_their_field() {
        assert!(deadline(Some(0)).unwrap_err().to_string().contains("`timeout_secs`"));
        assert_eq!(deadline(None).ok(), Some(Duration::from_secs(30)));
        assert!(max_rows(Some(10_001)).unwrap_err().to_string().contains("`max_rows`"));
    }
}
