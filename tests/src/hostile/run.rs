//! Sending the cases to one server process, judging each answer, and the outcome table.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use serde_json::{Map, Value, json};

use super::{Body, Case, DEADLINE, Expect, cases, real_cursor_cases};
use crate::{Mcp, McpBuilder, RawSession, contract::tools_json, schema_sample::sample_args};

/// Cursors the server issues from the listings `launch`'s endpoint answers with a next token: one
/// call per listing tool that needs no argument, with `page_size` 1.
async fn issued_cursors(mcp: &Mcp, tools: &[Value]) -> Vec<Case> {
    let mut out = Vec::new();
    for t in tools {
        let schema = &t["inputSchema"];
        let needs_nothing = schema["required"].as_array().is_none_or(|r| r.is_empty());
        if !needs_nothing || schema["properties"].get("cursor").is_none() {
            continue;
        }
        let name = t["name"].as_str().unwrap_or_default();
        let mut args = sample_args(t);
        if schema["properties"].get("page_size").is_some() {
            args.insert("page_size".into(), json!(1));
        }
        if let Ok(r) = call_json(mcp, name, args.clone()).await
            && let Some(c) = r["structuredContent"]["next_cursor"].as_str()
        {
            out.extend(real_cursor_cases(t, &args, c, tools));
        }
    }
    out
}

/// One server's outcomes.
#[derive(Debug, Default)]
pub struct Report {
    pub server: String,
    pub cases: usize,
    /// Outcome label (`result`, a tool error kind, `json-rpc -32700`, `FAILED`) → count.
    pub outcomes: BTreeMap<String, usize>,
    pub failures: Vec<String>,
    pub elapsed: Duration,
    /// How many cases replayed a cursor the server really issued (0: no listing gave one).
    pub issued_cursor_cases: usize,
}

/// Judge a `tools/call` result (as JSON): its outcome label, or why it is a failure.
pub fn judge_result(result: &Value, expect: &Expect) -> Result<String, String> {
    if result["isError"] != true {
        return match expect {
            Expect::Answer | Expect::Protocol => {
                if result["content"].as_array().is_some_and(|c| !c.is_empty())
                    || result["structuredContent"].is_object()
                {
                    Ok("result".into())
                } else {
                    Err(format!("an empty result: {result:.300}"))
                }
            }
            _ => Err(format!("accepted: {:.300}", result["structuredContent"].to_string())),
        };
    }
    let e = &result["structuredContent"]["error"];
    let Some(kind) = e["kind"].as_str() else {
        return Err(format!(
            "a tool error without structuredContent.error.kind: {result:.300}"
        ));
    };
    if kind == "internal" {
        return Err(format!("an internal error (a panic in the tool): {e:.300}"));
    }
    let field = e["field"].as_str().unwrap_or_default();
    if kind == "invalid_argument" && field.is_empty() {
        return Err(format!("invalid_argument without a field: {e:.300}"));
    }
    if let Expect::Invalid(want) = expect {
        let under = field
            .strip_prefix(want.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[', '/']));
        if kind != "invalid_argument" || !under {
            return Err(format!(
                "want invalid_argument naming `{want}`, got kind {kind} field {field:?}: {:.300}",
                e["summary"]
            ));
        }
    }
    Ok(kind.to_owned())
}

/// Judge a raw answer line.
pub fn judge_raw(line: &str, expect: &Expect) -> Result<String, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("an answer that is not JSON ({e}): {line:.300}"))?;
    if !(v["id"] == Case::raw_id() || v["id"].is_null()) {
        return Err(format!("an answer with another id: {line:.300}"));
    }
    if let Some(err) = v.get("error") {
        let code = err["code"].as_i64().unwrap_or_default();
        if code == -32603 {
            return Err(format!("JSON-RPC internal error: {line:.300}"));
        }
        return match expect {
            Expect::Protocol => Ok(format!("json-rpc {code}")),
            _ => Err(format!("a JSON-RPC error instead of a tool error: {line:.300}")),
        };
    }
    judge_result(&v["result"], expect)
}

/// The tool used for the normal call after each case: the first that needs no argument, else the
/// first listed, with sample arguments.
fn normal_call(tools: &[Value]) -> (String, Map<String, Value>) {
    let t = tools
        .iter()
        .find(|t| t["inputSchema"]["required"].as_array().is_none_or(|r| r.is_empty()))
        .or_else(|| tools.first())
        .cloned()
        .unwrap_or_default();
    (t["name"].as_str().unwrap_or_default().to_owned(), sample_args(&t))
}

async fn call_json(mcp: &Mcp, tool: &str, args: Map<String, Value>) -> Result<Value, String> {
    match tokio::time::timeout(DEADLINE, mcp.try_call(tool, Value::Object(args))).await {
        Err(_) => Err(format!("no answer within {DEADLINE:?}")),
        Ok(Err(e)) => Err(format!("a protocol-level error: {e}")),
        Ok(Ok(r)) => serde_json::to_value(&r).map_err(|e| format!("result not serializable: {e}")),
    }
}

/// Run every case of [`cases`] against the server `launch` starts (it should send AWS calls to a
/// fake endpoint or nowhere), each followed by a normal call to the same process.
pub async fn run(bin: &str, launch: McpBuilder) -> Report {
    let started = Instant::now();
    let mut mcp = launch.clone().start().await;
    let tools = tools_json(&mcp).await;
    let (normal_tool, normal_args) = normal_call(&tools);
    let normal_line = json!({"jsonrpc": "2.0", "id": "normal", "method": "tools/call",
        "params": {"name": normal_tool, "arguments": normal_args}})
    .to_string();
    let issued = issued_cursors(&mcp, &tools).await;
    let mut raw: Option<RawSession> = None;
    let mut report = Report {
        server: bin.to_owned(),
        ..Default::default()
    };
    report.issued_cursor_cases = issued.len();
    for case in cases(bin, &tools).chain(issued) {
        report.cases += 1;
        let is_raw = matches!(case.body, Body::Raw(_));
        let (verdict, healthy) = match case.body {
            Body::Args(args) => {
                let verdict = call_json(&mcp, &case.tool, args)
                    .await
                    .and_then(|r| judge_result(&r, &case.expect));
                let healthy = call_json(&mcp, &normal_tool, normal_args.clone())
                    .await
                    .and_then(|r| judge_result(&r, &Expect::Answer).map(|_| ()));
                (verdict, healthy)
            }
            Body::Raw(line) => {
                if raw.is_none() {
                    raw = Some(launch.clone().start_raw().await);
                }
                let session = raw.as_mut().expect("started above");
                let verdict = session
                    .send_raw(&line, DEADLINE)
                    .await
                    .and_then(|a| judge_raw(&a, &case.expect));
                let healthy = session.send_raw(&normal_line, DEADLINE).await.and_then(|a| {
                    let v: Value = serde_json::from_str(&a).map_err(|e| e.to_string())?;
                    if v["id"] == "normal" && v["result"].is_object() {
                        Ok(())
                    } else {
                        Err(format!("the normal call got {a:.300}"))
                    }
                });
                (verdict, healthy)
            }
        };
        let label = match verdict {
            Ok(label) => label,
            Err(why) => {
                report
                    .failures
                    .push(format!("{bin} {} [{}]: {why}", case.tool, case.what));
                "FAILED".into()
            }
        };
        *report.outcomes.entry(label).or_default() += 1;
        if let Err(why) = healthy {
            report.failures.push(format!(
                "{bin} {} [{}]: the server did not answer a normal call afterwards ({why}); restarted",
                case.tool, case.what
            ));
            if is_raw {
                raw = None;
            } else {
                let old = std::mem::replace(&mut mcp, launch.clone().start().await);
                let _ = tokio::time::timeout(Duration::from_secs(2), old.close()).await;
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), mcp.close()).await;
    report.elapsed = started.elapsed();
    report
}

/// The outcomes of every server side by side: one row per server, one column per outcome.
pub fn table(reports: &[Report]) -> String {
    let mut columns: Vec<String> = reports
        .iter()
        .flat_map(|r| r.outcomes.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    // Results first, failures last.
    columns.sort_by_key(|c| (c != "result", c == "FAILED", c.clone()));
    let mut out = format!(
        "| server | cases | {} | restarts | issued-cursor cases | seconds |\n",
        columns.join(" | ")
    );
    out.push_str(&format!("|---|---:|{}---:|---:|---:|\n", "---:|".repeat(columns.len())));
    let mut total = 0;
    for r in reports {
        total += r.cases;
        let cells: Vec<String> = columns
            .iter()
            .map(|c| r.outcomes.get(c).copied().unwrap_or(0).to_string())
            .collect();
        let restarts = r.failures.iter().filter(|f| f.ends_with("restarted")).count();
        out.push_str(&format!(
            "| {} | {} | {} | {restarts} | {} | {:.1} |\n",
            r.server,
            r.cases,
            cells.join(" | "),
            r.issued_cursor_cases,
            r.elapsed.as_secs_f64()
        ));
    }
    let sums: Vec<String> = columns
        .iter()
        .map(|c| {
            reports
                .iter()
                .map(|r| r.outcomes.get(c).copied().unwrap_or(0))
                .sum::<usize>()
                .to_string()
        })
        .collect();
    out.push_str(&format!("| **all** | {total} | {} | | | |\n", sums.join(" | ")));
    out
}
