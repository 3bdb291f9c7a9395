//! `filter_log_events` (one or more groups, a bounded walk over CloudWatch's scan pages) and
//! `tail_log_stream` (the last events of a stream, or forward from a time, with a cursor each way).

use std::time::{Duration, Instant};

use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::{
    Op, Output, Page, PageArgs, ToolError, ToolResult,
    aws::call,
    budget, context,
    time::{self, rfc3339_ms},
};

use crate::{
    LogsServer,
    events::{Event, render},
    names,
};

pub(crate) const FILTER_LOG_EVENTS: Op = Op::new("logs", "FilterLogEvents", "logs:FilterLogEvents");
pub(crate) const GET_LOG_EVENTS: Op = Op::new("logs", "GetLogEvents", "logs:GetLogEvents");
/// FilterLogEvents calls one tool call makes at most: CloudWatch may answer many empty pages
/// with a token while it scans a long range.
const MAX_SCAN_PAGES: usize = 20;
/// Wall time after which a scan stops at the next page boundary and hands back a cursor.
const SCAN_TIME: Duration = Duration::from_secs(20);

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct FilterParams {
    /// Group names or ARNs.
    #[schemars(length(min = 1, max = 10))]
    pub log_groups: Vec<String>,
    /// CloudWatch filter pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_pattern: Option<String>,
    /// Stream name prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_prefix: Option<String>,
    /// Default 1h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Default now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs,
}

/// Where a filter scan is: the group's index, CloudWatch's token in it, and the window and AWS page
/// size fixed by the first call (so "now" does not move under a cursor).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Scan {
    g: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<String>,
    s: i64,
    e: i64,
    l: i32,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct TailParams {
    pub log_group: String,
    pub log_stream: String,
    /// Read forward from here (default: the last events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs,
}

/// One GetLogEvents request and the part of its answer a cursor stands for. Re-running the same
/// request (same token, pinned times and size) returns the same page, so a page cut by the budget
/// resumes exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Read {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<String>,
    /// Start from the head (forward) rather than the tail.
    h: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e: Option<i64>,
    /// The caller's own end, for the reads that follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<i64>,
    n: i32,
    #[serde(default)]
    lo: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hi: Option<usize>,
    /// Reading towards older events: when the budget cuts, keep the newest.
    o: bool,
}

impl Read {
    fn window(&self, lo: usize, hi: Option<usize>, older: bool) -> Self {
        Self {
            lo,
            hi,
            o: older,
            ..self.clone()
        }
    }

    fn token(&self, t: &str, forward: bool) -> Self {
        Self {
            t: Some(t.to_owned()),
            h: forward,
            e: self.u,
            lo: 0,
            hi: None,
            o: !forward,
            ..self.clone()
        }
    }
}

/// Which of `len` events (in a window `[lo, hi)`) fit, keeping the end of the window when reading
/// towards older events: `(kept_lo, kept_hi)`.
fn keep(lo: usize, hi: usize, fit: usize, older: bool) -> (usize, usize) {
    let fit = fit.min(hi - lo);
    if older { (hi - fit, hi) } else { (lo, lo + fit) }
}

#[tool_router(router = event_tools, vis = "pub(crate)")]
impl LogsServer {
    /// Events matching a filter pattern, group after group, oldest first. scan_complete false:
    /// CloudWatch has not finished the range yet.
    #[tool(annotations(
        title = "Filter log events",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn filter_log_events(&self, Parameters(p): Parameters<FilterParams>) -> ToolResult {
        if p.log_groups.is_empty() || p.log_groups.len() > 10 {
            return Err(ToolError::invalid("log_groups", "give 1 to 10 log group names"));
        }
        for g in &p.log_groups {
            self.check_group("log_groups", g)?;
        }
        let at: Page<Scan> = self.core.page(&p, &p.page)?;
        let want = p.page.size(100) as usize;
        let at = match at.token {
            Some(_) => at,
            None => {
                let now = time::now_ms();
                let r = time::range(
                    p.start.as_deref().map(|v| ("start", v)),
                    p.end.as_deref().map(|v| ("end", v)),
                    "1h",
                    now,
                )?;
                let first = Scan {
                    g: 0,
                    t: None,
                    s: r.start_ms,
                    e: r.end_ms,
                    l: want.clamp(1, 10_000) as i32,
                };
                Page {
                    token: Some(first),
                    skip: 0,
                }
            }
        };
        let Some(window) = at.token.clone() else {
            return Err(ToolError::Cursor("empty cursor".into()));
        };
        let (client, target) = self.inner.clients.get().await?;
        let several = p.log_groups.len() > 1;
        let started = Instant::now();
        let groups = &p.log_groups;
        let redactor = self.redactor();
        let walked = shared::page::walk_from(
            at,
            want,
            MAX_SCAN_PAGES,
            |_| true,
            |scan: Option<Scan>| {
                let scan = scan.unwrap_or_else(|| window.clone());
                let group = groups.get(scan.g).cloned();
                let out_of_time = started.elapsed() > SCAN_TIME;
                let mut req = client
                    .filter_log_events()
                    .set_filter_pattern(p.filter_pattern.clone())
                    .set_log_stream_name_prefix(p.stream_prefix.clone())
                    .start_time(scan.s)
                    .end_time(scan.e)
                    .limit(scan.l)
                    .set_next_token(scan.t.clone());
                if let Some(g) = &group {
                    req = if names::is_arn(g) {
                        req.log_group_identifier(g)
                    } else {
                        req.log_group_name(g)
                    };
                }
                let target = target.clone();
                async move {
                    let Some(group) = group else {
                        return Err(ToolError::Cursor(
                            "the cursor names a group this call does not have".into(),
                        ));
                    };
                    if out_of_time {
                        // Hand the same position back: the walk stops at its cap without more calls.
                        return Ok((Vec::new(), Some(scan)));
                    }
                    let out = call(FILTER_LOG_EVENTS, &target, req.send()).await?;
                    let events: Vec<(Event, usize)> = out
                        .events()
                        .iter()
                        .map(|e| {
                            render(
                                redactor,
                                several.then_some(group.as_str()),
                                e.log_stream_name(),
                                e.timestamp(),
                                e.message(),
                            )
                        })
                        .collect();
                    let next = match out.next_token() {
                        Some(t) => Some(Scan {
                            t: Some(t.to_owned()),
                            ..scan
                        }),
                        None if scan.g + 1 < groups.len() => Some(Scan {
                            g: scan.g + 1,
                            t: None,
                            ..scan
                        }),
                        None => None,
                    };
                    Ok((events, next))
                }
            },
        )
        .await?;
        let finished = walked.finished;
        let pages = walked.pages;
        let (walked, masks) = split_counts(walked);
        let envelope = json!({
            "start": rfc3339_ms(window.s),
            "end": rfc3339_ms(window.e),
            "scan_complete": finished,
            "aws_pages": pages,
            "redacted": 0,
        });
        let mut out = self.core.paged_walk(&p, walked, want, "events", envelope).0;
        let kept = out["events"].as_array().map_or(0, Vec::len);
        out["redacted"] = json!(masks.iter().take(kept).sum::<usize>());
        if !finished && kept == 0 {
            out["note"] = json!(
                "CloudWatch is still scanning the range and found nothing yet: call again with cursor = next_cursor"
            );
        }
        Ok(Output(out))
    }

    /// The last page_size events of a stream, or forward from start. Pass older_cursor or
    /// newer_cursor as cursor to read on.
    #[tool(annotations(
        title = "Tail a log stream",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn tail_log_stream(&self, Parameters(p): Parameters<TailParams>) -> ToolResult {
        self.check_group("log_group", &p.log_group)?;
        if p.log_stream.is_empty() {
            return Err(ToolError::invalid(
                "log_stream",
                "must not be empty; describe_log_streams lists the streams",
            ));
        }
        let tool = context::tool();
        let read: Read = match p.page.cursor.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(c) => self.core.cursors.open(&tool, &p, c)?,
            None => {
                let now = time::now_ms();
                let end = p.end.as_deref().map(|v| time::parse("end", v, now)).transpose()?;
                let n = p.page.size(50) as i32;
                match p.start.as_deref() {
                    Some(v) => {
                        let s = time::parse("start", v, now)?;
                        if end.is_some_and(|e| e < s) {
                            return Err(ToolError::invalid("end", "`end` is before `start`"));
                        }
                        Read {
                            t: None,
                            h: true,
                            s: Some(s),
                            e: end,
                            u: end,
                            n,
                            lo: 0,
                            hi: None,
                            o: false,
                        }
                    }
                    // The end is pinned so that re-running this request gives the same page.
                    None => Read {
                        t: None,
                        h: false,
                        s: None,
                        e: Some(end.unwrap_or(now)),
                        u: end,
                        n,
                        lo: 0,
                        hi: None,
                        o: true,
                    },
                }
            }
        };
        let (client, target) = self.inner.clients.get().await?;
        let mut req = client
            .get_log_events()
            .log_stream_name(&p.log_stream)
            .start_from_head(read.h)
            .set_next_token(read.t.clone())
            .set_start_time(read.s)
            .set_end_time(read.e)
            .limit(read.n);
        req = if names::is_arn(&p.log_group) {
            req.log_group_identifier(&p.log_group)
        } else {
            req.log_group_name(&p.log_group)
        };
        let out = call(GET_LOG_EVENTS, &target, req.send()).await?;
        let all = out.events();
        let hi = read.hi.unwrap_or(all.len()).min(all.len());
        let lo = read.lo.min(hi);
        let rendered: Vec<(Event, usize)> = all[lo..hi]
            .iter()
            .map(|e| render(self.redactor(), None, None, e.timestamp(), e.message()))
            .collect();
        let cursor_room =
            2 * (300 + out.next_forward_token().map_or(0, str::len) + read.t.as_ref().map_or(0, String::len));
        let envelope_len = budget::json_len(&p) + cursor_room + 400;
        let events: Vec<&Event> = rendered.iter().map(|(e, _)| e).collect();
        // When reading towards older events the newest are kept, so measure from the end.
        let fit = if read.o {
            let rev: Vec<&Event> = events.iter().rev().copied().collect();
            self.core.budget.fit_items(&rev, envelope_len)
        } else {
            self.core.budget.fit_items(&events, envelope_len)
        };
        let (kept_lo, kept_hi) = keep(lo, hi, fit, read.o);
        let kept: Vec<&(Event, usize)> = rendered[kept_lo - lo..kept_hi - lo].iter().collect();
        let redacted: usize = kept.iter().map(|(_, m)| m).sum();
        let older = if kept_lo > 0 {
            Some(read.window(0, Some(kept_lo), true))
        } else if !all.is_empty() {
            out.next_backward_token().map(|t| read.token(t, false))
        } else {
            None
        };
        let newer = if kept_hi < all.len() {
            Some(read.window(kept_hi, None, false))
        } else {
            out.next_forward_token().map(|t| read.token(t, true))
        };
        let mut result = json!({
            "log_group": p.log_group,
            "log_stream": p.log_stream,
            "events": kept.iter().map(|(e, _)| e).collect::<Vec<_>>(),
            "redacted": redacted,
        });
        if let Some(r) = older {
            result["older_cursor"] = json!(self.core.cursors.issue(&tool, &p, &r));
        }
        if let Some(r) = newer {
            result["newer_cursor"] = json!(self.core.cursors.issue(&tool, &p, &r));
        }
        if all.is_empty() && !read.o {
            result["note"] = json!("no newer events yet: call again later with cursor = newer_cursor");
        }
        let dropped = (hi - lo) - (kept_hi - kept_lo);
        if dropped > 0 {
            let which = if read.o { "older_cursor" } else { "newer_cursor" };
            let note = self.core.budget.dropped_note(
                "/events",
                kept_hi - kept_lo,
                dropped,
                format!("the output budget cut this page: call {tool} with cursor = {which} for the rest"),
            );
            budget::attach(&mut result, note);
        }
        Ok(Output(result))
    }
}

/// Split rendered events from their redaction counts.
fn split_counts<K>(w: shared::page::Walked<K, (Event, usize)>) -> (shared::page::Walked<K, Event>, Vec<usize>) {
    let mut masks = Vec::with_capacity(w.items.len());
    let items = w
        .items
        .into_iter()
        .map(|(at, (e, m))| {
            masks.push(m);
            (at, e)
        })
        .collect();
    (
        shared::page::Walked {
            items,
            next: w.next,
            finished: w.finished,
            pages: w.pages,
            scanned: w.scanned,
        },
        masks,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_keeps_the_newest_when_reading_back_and_the_oldest_when_reading_on() {
        assert_eq!(keep(0, 10, 3, true), (7, 10));
        assert_eq!(keep(0, 10, 3, false), (0, 3));
        assert_eq!(keep(4, 10, 99, false), (4, 10));
        assert_eq!(keep(2, 2, 1, true), (2, 2));
    }

    #[test]
    fn token_reads_follow_the_callers_end_not_the_pinned_one() {
        let r = Read {
            t: None,
            h: false,
            s: None,
            e: Some(100),
            u: None,
            n: 5,
            lo: 0,
            hi: None,
            o: true,
        };
        let newer = r.token("f/1", true);
        assert_eq!((newer.e, newer.h, newer.o), (None, true, false));
        let again = r.window(0, Some(3), true);
        assert_eq!((again.e, again.hi, again.t), (Some(100), Some(3), None));
    }
}
