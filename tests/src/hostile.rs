//! Hostile input, generated from a server's live `tools/list` (issue 13): for every tool and every
//! argument, the values a confused or malicious model sends — wrong JSON types, missing required
//! arguments, empty, 1 MB, control-character, right-to-left and combining strings, `../`, `*`, `%`,
//! spaces and 2,000-character names, negative, zero, huge and fractional numbers, 20,000-item arrays and
//! 10,000-key objects, unknown arguments, forged and truncated cursors, contradictory pairs — and, as raw
//! JSON-RPC lines, invalid UTF-16 escapes, 10,000-level nesting and arguments that are not an object.
//!
//! [`run`] sends every [`Case`] to one server process (one for value cases over rmcp's client, one
//! for raw lines over a [`RawSession`]), each within [`DEADLINE`], then makes a normal call to the
//! same process to show it still serves; a process that stops answering is recorded and restarted
//! so one defect does not hide the rest. [`table`] prints the outcomes.
//!
//! What counts as an answer ([`Expect`]): a result, or a tool error whose `structuredContent.error`
//! has a `kind` (and a `field` when the kind is `invalid_argument`); never kind `internal` (a caught
//! panic), never JSON-RPC `-32603`, never silence. Raw lines may also get a JSON-RPC error.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use serde_json::{Map, Value, json};

use crate::{
    Mcp, McpBuilder, RawSession,
    contract::{UNKNOWN_ARGUMENT, sample_args, sample_value, tools_json},
};

/// How long one case (and the normal call after it) may take.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Stands for a value spliced into a raw line after serialization (a private-use character, so
/// serde_json writes it verbatim).
const SPLICE: &str = "\u{e000}SPLICE\u{e000}";

/// What is sent.
#[derive(Clone, Debug)]
pub enum Body {
    /// `tools/call` arguments, sent through rmcp's client.
    Args(Map<String, Value>),
    /// One whole JSON-RPC line, written as is; its `id` is [`Case::raw_id`].
    Raw(String),
}

/// What a case must get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A result, or a named tool error.
    Answer,
    /// A named tool error: the input must not be accepted (a forged cursor, say).
    Refusal,
    /// A tool error of kind `invalid_argument` naming this argument (or a path under it).
    Invalid(String),
    /// Raw line: a JSON-RPC error other than -32603 carrying the request id (or null), or an
    /// [`Expect::Answer`].
    Protocol,
}

/// One hostile call.
#[derive(Clone, Debug)]
pub struct Case {
    pub tool: String,
    /// What is hostile about it, for the failure list.
    pub what: String,
    pub body: Body,
    pub expect: Expect,
}

impl Case {
    fn args(tool: &str, what: impl Into<String>, args: Map<String, Value>, expect: Expect) -> Self {
        Self {
            tool: tool.to_owned(),
            what: what.into(),
            body: Body::Args(args),
            expect,
        }
    }

    /// A raw `tools/call` line: `args` serialized, then the [`SPLICE`] string (quotes included)
    /// replaced by `splice`.
    fn raw(tool: &str, what: impl Into<String>, args: &Value, splice: &str) -> Self {
        let line = json!({"jsonrpc": "2.0", "id": RAW_ID, "method": "tools/call", "params": {"name": tool, "arguments": args}})
            .to_string()
            .replace(&format!("\"{SPLICE}\""), splice);
        Self {
            tool: tool.to_owned(),
            what: what.into(),
            body: Body::Raw(line),
            expect: Expect::Protocol,
        }
    }

    /// The id every raw line carries (one raw request is in flight at a time).
    pub fn raw_id() -> &'static str {
        RAW_ID
    }
}

const RAW_ID: &str = "hostile";

/// Strings every string argument gets (name, value).
fn hostile_strings() -> Vec<(&'static str, Value)> {
    vec![
        ("empty string", json!("")),
        ("1 MB string", json!("a".repeat(1 << 20))),
        (
            "control characters and NUL",
            json!("a\u{0}b\u{1}\u{7}\u{8}\u{1b}[31m\r\n\t\u{7f}\u{85}z"),
        ),
        (
            "right-to-left and combining characters",
            json!(
                "\u{202e}gpj.exe\u{202c} \u{5e9}\u{5dc}\u{5d5}\u{5dd} \u{645}\u{631}\u{62d}\u{628}\u{627} e\u{301}\u{301}\u{20dd} \u{200b}\u{feff}\u{1f600}"
            ),
        ),
        ("../ path", json!("../../../etc/passwd")),
        ("glob *", json!("*")),
        ("percent escapes", json!("%00%2e%2e%2f%ZZ%")),
        ("spaces", json!("  a name with spaces  ")),
        ("2,000 characters", json!("n".repeat(2000))),
    ]
}

/// Numbers every integer argument gets.
fn hostile_numbers() -> Vec<(&'static str, Value)> {
    vec![
        ("-1", json!(-1)),
        ("0", json!(0)),
        ("fraction 1.5", json!(1.5)),
        ("fraction -0.5", json!(-0.5)),
        ("2^53+1", json!(9_007_199_254_740_993u64)),
        ("u64::MAX", json!(u64::MAX)),
        ("i64::MIN", json!(i64::MIN)),
        ("1e300", json!(1e300)),
        ("-1e300", json!(-1e300)),
    ]
}

/// Cursors no server issued.
fn forged_cursors() -> Vec<(&'static str, Value)> {
    // {"token":"abc"} with a zero digest and a zero tag, in the servers' own format.
    let forged = "eyJ0b2tlbiI6ImFiYyJ9.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA";
    vec![
        ("forged cursor", json!(forged)),
        (
            "truncated cursor (two parts)",
            json!(&forged[..forged.rfind('.').unwrap_or(0)]),
        ),
        ("truncated cursor (cut tag)", json!(&forged[..forged.len() - 10])),
        ("cursor with four parts", json!(format!("{forged}.AAAA"))),
        ("cursor not base64", json!("!!!.@@@.###")),
        ("AWS-style token as cursor", json!("eyJ2IjoxLCJuZXh0IjoiYWJjIn0=")),
        (
            "forged cursor with a 100 KB payload",
            json!(format!(
                "{}.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA",
                "QUFB".repeat(25_000)
            )),
        ),
    ]
}

/// Resolve a local `$ref` against the tool's schema.
fn resolve<'a>(root: &'a Map<String, Value>, prop: &'a Value) -> &'a Value {
    let mut p = prop;
    for _ in 0..8 {
        let Some(path) = p.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/")) else {
            break;
        };
        let mut cur = None::<&Value>;
        for (i, part) in path.split('/').enumerate() {
            cur = if i == 0 {
                root.get(part)
            } else {
                cur.and_then(|c| c.get(part))
            };
        }
        match cur {
            Some(c) => p = c,
            None => break,
        }
    }
    p
}

/// The JSON types a property accepts (empty: anything).
fn types_of(root: &Map<String, Value>, prop: &Value) -> Vec<String> {
    let prop = resolve(root, prop);
    match prop.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => {
            for k in ["anyOf", "oneOf"] {
                if let Some(branches) = prop.get(k).and_then(Value::as_array) {
                    let mut all = Vec::new();
                    for b in branches {
                        let t = types_of(root, b);
                        if t.is_empty() {
                            return Vec::new();
                        }
                        all.extend(t);
                    }
                    return all;
                }
            }
            Vec::new()
        }
    }
}

fn deep(levels: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..levels {
        v = json!({ "a": v });
    }
    v
}

/// `{"a":{"a":…1…}}` `levels` deep, as text (too deep for any JSON parser's default limit).
fn deep_text(levels: usize) -> String {
    format!("{}1{}", "{\"a\":".repeat(levels), "}".repeat(levels))
}

/// Every case for one tool (its `tools/list` entry as JSON).
pub fn tool_cases(tool: &Value) -> Vec<Case> {
    let name = tool["name"].as_str().unwrap_or_default();
    let empty = Map::new();
    let schema = tool["inputSchema"].as_object().unwrap_or(&empty);
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let required: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let base = sample_args(tool);
    let with = |p: &str, v: Value| {
        let mut a = base.clone();
        a.insert(p.to_owned(), v);
        a
    };
    let mut out = Vec::new();

    // Unknown arguments.
    out.push(Case::args(
        name,
        "unknown argument",
        with(UNKNOWN_ARGUMENT, json!(1)),
        Expect::Invalid(UNKNOWN_ARGUMENT.into()),
    ));
    out.push(Case::args(
        name,
        "unknown argument __proto__",
        with("__proto__", json!({"admin": true})),
        Expect::Invalid("__proto__".into()),
    ));
    // Missing required arguments, one at a time and all at once.
    for r in &required {
        let mut a = base.clone();
        a.remove(r);
        out.push(Case::args(
            name,
            format!("missing required {r}"),
            a,
            Expect::Invalid(r.clone()),
        ));
    }
    if required.len() >= 2 {
        out.push(Case::args(name, "no arguments at all", Map::new(), Expect::Refusal));
    }

    for (p, prop) in &props {
        let resolved = resolve(schema, prop);
        let types = types_of(schema, prop);
        let accepts = |t: &str| types.iter().any(|x| x == t || (t == "integer" && x == "number"));
        if !types.is_empty() {
            let mut wrong = vec![
                ("string", json!("not-the-right-type")),
                ("integer", json!(12345)),
                ("boolean", json!(true)),
                ("object", json!({"zz": 1})),
                ("array", json!([1, "x"])),
            ];
            if required.contains(p) {
                wrong.push(("null", Value::Null));
            }
            for (t, v) in wrong {
                if !accepts(t) {
                    out.push(Case::args(
                        name,
                        format!("{p}: wrong type {v}"),
                        with(p, v),
                        Expect::Invalid(p.clone()),
                    ));
                }
            }
        }
        let enum_values = resolved.get("enum").and_then(Value::as_array);
        if let Some(values) = enum_values {
            out.push(Case::args(
                name,
                format!("{p}: not one of the enum values"),
                with(p, json!("NOT_A_VALUE")),
                Expect::Invalid(p.clone()),
            ));
            out.push(Case::args(
                name,
                format!("{p}: empty enum value"),
                with(p, json!("")),
                Expect::Invalid(p.clone()),
            ));
            if let Some(first) = values.first().and_then(Value::as_str)
                && first.to_ascii_lowercase() != first
            {
                out.push(Case::args(
                    name,
                    format!("{p}: enum value in lower case"),
                    with(p, json!(first.to_ascii_lowercase())),
                    Expect::Answer,
                ));
            }
        } else if accepts("string") || types.is_empty() {
            for (what, v) in hostile_strings() {
                out.push(Case::args(name, format!("{p}: {what}"), with(p, v), Expect::Answer));
            }
            // Invalid UTF-16 escapes only exist in JSON text.
            for (what, esc) in [
                ("lone high surrogate", r#""a\ud800b""#),
                ("lone low surrogate", r#""\udfff""#),
                ("reversed surrogate pair", r#""\ude00\ud83d""#),
            ] {
                out.push(Case::raw(
                    name,
                    format!("{p}: {what} (raw)"),
                    &Value::Object(with(p, json!(SPLICE))),
                    esc,
                ));
            }
            if p == "cursor" {
                for (what, v) in forged_cursors() {
                    out.push(Case::args(name, format!("{p}: {what}"), with(p, v), Expect::Refusal));
                }
            }
        }
        if accepts("integer") || accepts("number") {
            for (what, v) in hostile_numbers() {
                out.push(Case::args(name, format!("{p}: {what}"), with(p, v), Expect::Answer));
            }
        }
        if accepts("array") || types.is_empty() {
            let item = resolved.get("items").cloned().unwrap_or(json!({}));
            let sample = sample_value(schema, &item);
            out.push(Case::args(
                name,
                format!("{p}: huge array (20,000 items)"),
                with(p, Value::Array(vec![sample.clone(); 20_000])),
                Expect::Answer,
            ));
            out.push(Case::args(
                name,
                format!("{p}: empty array"),
                with(p, json!([])),
                Expect::Answer,
            ));
            out.push(Case::args(
                name,
                format!("{p}: array of mixed item types"),
                with(p, json!([null, 1.5, -1, {}, [], "", "../*", true])),
                Expect::Answer,
            ));
            if let Some(max) = resolved.get("maxItems").and_then(Value::as_u64) {
                out.push(Case::args(
                    name,
                    format!("{p}: maxItems + 1 items"),
                    with(p, Value::Array(vec![sample; max as usize + 1])),
                    Expect::Answer,
                ));
            }
        }
        if accepts("object") || types.is_empty() {
            let many: Map<String, Value> = (0..10_000).map(|i| (format!("k{i}"), json!(i))).collect();
            out.push(Case::args(
                name,
                format!("{p}: object with 10,000 keys"),
                with(p, Value::Object(many)),
                Expect::Answer,
            ));
            out.push(Case::args(
                name,
                format!("{p}: object 100 levels deep"),
                with(p, deep(100)),
                Expect::Answer,
            ));
            out.push(Case::args(
                name,
                format!("{p}: hostile keys and tags"),
                with(
                    p,
                    json!({"": null, "../": "*", "$N": "1e999", "\u{0}": {"$B": "!!!"}, "$SS": [], "$M": 5}),
                ),
                Expect::Answer,
            ));
        }
        if types.is_empty() {
            for (what, v) in [
                (
                    "a number of 39 digits",
                    json!({"$N": "123456789012345678901234567890123456789"}),
                ),
                ("a number out of range", json!({"$N": "1E+126"})),
                ("bad base64", json!({"$B": "***"})),
                ("an empty set", json!({"$SS": []})),
                ("a set with duplicates", json!({"$NS": ["1", "1.0"]})),
            ] {
                out.push(Case::args(name, format!("{p}: {what}"), with(p, v), Expect::Answer));
            }
        }
    }

    // Raw lines for the tool as a whole.
    let target = props
        .iter()
        .find(|(_, prop)| {
            let t = types_of(schema, prop);
            t.is_empty() || t.iter().any(|t| t == "object")
        })
        .map(|(p, _)| p.clone())
        .unwrap_or_else(|| UNKNOWN_ARGUMENT.to_owned());
    out.push(Case::raw(
        name,
        format!("{target}: 10,000-level nested object (raw)"),
        &Value::Object(with(&target, json!(SPLICE))),
        &deep_text(10_000),
    ));
    for (what, args) in [
        ("arguments is an array (raw)", json!(SPLICE)),
        ("arguments is a string (raw)", json!(SPLICE)),
    ] {
        let splice = if what.contains("array") { "[1,2]" } else { "\"x\"" };
        out.push(Case::raw(name, what, &args, splice));
    }
    out
}

/// Arguments that are each valid but contradict each other, per server (tool, patch over the
/// sample arguments, what). Tools a server does not list are skipped.
pub fn contradictions(bin: &str) -> Vec<(&'static str, Value, &'static str)> {
    match bin {
        "aws-s3-mcp" => vec![
            (
                "put_object",
                json!({"text": "a", "base64": "YQ=="}),
                "text and base64 together",
            ),
            (
                "get_object",
                json!({"range_start": 1_000_000_000_000u64, "max_bytes": 1}),
                "range start past any object",
            ),
            (
                "copy_object",
                json!({"source_bucket": "b", "source_key": "k", "bucket": "b", "key": "k"}),
                "copy onto itself",
            ),
            (
                "list_objects",
                json!({"prefix": "b/", "start_after": "z"}),
                "start_after beyond the prefix",
            ),
            (
                "find_objects",
                json!({"pattern": "a/**", "prefix": "b/"}),
                "pattern outside the prefix",
            ),
            (
                "get_object",
                json!({"version_id": "v1", "range_start": 0, "max_bytes": 0}),
                "zero bytes of a version",
            ),
        ],
        "aws-dynamodb-mcp" => vec![
            (
                "query",
                json!({"index": "gsi", "consistent_read": true}),
                "consistent read on an index",
            ),
            (
                "query",
                json!({"partition_key": "a", "key_condition_expression": "pk = :a"}),
                "partition_key and key_condition_expression",
            ),
            (
                "scan",
                json!({"segment": 5, "total_segments": 2}),
                "segment beyond total_segments",
            ),
            ("scan", json!({"segment": 0}), "segment without total_segments"),
            (
                "scan",
                json!({"projection": ["a"], "projection_expression": "b"}),
                "projection and projection_expression",
            ),
            (
                "execute_partiql",
                json!({"statement": "SELECT * FROM \"t\" WHERE pk = ?", "parameters": [1, 2, 3]}),
                "more parameters than placeholders",
            ),
            (
                "execute_partiql",
                json!({"statement": "DELETE FROM \"t\" WHERE pk = 'a'", "consistent_read": true}),
                "a write with consistent_read",
            ),
            (
                "update_item",
                json!({"update_expression": "SET a = :a", "expression_attribute_values": {}}),
                "a placeholder with no value",
            ),
        ],
        "aws-lambda-mcp" => vec![
            (
                "invoke_function",
                json!({"invocation_type": "Event", "log_tail": true}),
                "Event with log_tail",
            ),
            (
                "invoke_function",
                json!({"invocation_type": "DryRun", "timeout_secs": 0}),
                "DryRun with a zero timeout",
            ),
            (
                "get_function",
                json!({"function": "f:1", "qualifier": "2"}),
                "two qualifiers",
            ),
            (
                "list_aliases",
                json!({"function": "arn:aws:lambda:eu-west-1:123456789012:function:f", "region": "us-east-1"}),
                "an ARN of another region",
            ),
        ],
        "aws-logs-mcp" => vec![
            (
                "describe_log_groups",
                json!({"prefix": "a", "contains": "b"}),
                "prefix and contains",
            ),
            (
                "describe_log_streams",
                json!({"order": "last_event", "prefix": "x"}),
                "prefix with order last_event",
            ),
            (
                "filter_log_events",
                json!({"start": "now", "end": "7d"}),
                "start after end",
            ),
            (
                "run_insights_query",
                json!({"start": "2026-01-02", "end": "2026-01-01"}),
                "start after end",
            ),
            (
                "top_error_patterns",
                json!({"start": "1h", "end": "2d"}),
                "start after end",
            ),
            ("tail_log_stream", json!({"start": "now+1d"}), "start in the future"),
        ],
        "aws-bedrock-kb-mcp" => vec![
            (
                "retrieve",
                json!({"rerank_count": 50, "number_of_results": 5}),
                "rerank more than retrieved",
            ),
            (
                "retrieve",
                json!({"rerank_count": 5}),
                "rerank_count without a rerank model",
            ),
            (
                "retrieve",
                json!({"search_type": "SEMANTIC", "filter": {"equals": {"key": "a", "value": 1}, "orAll": []}}),
                "two filter operators at once",
            ),
            (
                "retrieve_and_generate",
                json!({"session_id": "s-1", "number_of_results": 100}),
                "a session of another knowledge base",
            ),
        ],
        "aws-sts-mcp" => vec![
            (
                "inventory",
                json!({"accounts": ["nobody"], "regions": ["us-east-1", "us-east-1"]}),
                "unknown account, repeated region",
            ),
            (
                "find_resource",
                json!({"types": [], "regions": []}),
                "no types and no regions",
            ),
        ],
        _ => vec![],
    }
}

/// Every case for a server: each tool's, then its contradictions. Generated one tool at a time as
/// the iterator is consumed (the 1 MB and huge values of all tools at once would be hundreds of MB).
pub fn cases<'a>(bin: &str, tools: &'a [Value]) -> impl Iterator<Item = Case> + 'a {
    let mut contradictory = Vec::new();
    for (tool, patch, what) in contradictions(bin) {
        let Some(t) = tools.iter().find(|t| t["name"] == tool) else {
            continue;
        };
        let mut args = sample_args(t);
        if let Some(p) = patch.as_object() {
            args.extend(p.clone());
        }
        contradictory.push(Case::args(tool, format!("contradictory: {what}"), args, Expect::Answer));
    }
    tools.iter().flat_map(tool_cases).chain(contradictory)
}

/// Cases around a cursor the server really issued (`cursor`, from `tool` called with `args`): cut
/// short, one character changed, replayed with another argument, given to another tool. All must
/// be refused; only `page_size` may change between pages.
pub fn real_cursor_cases(tool: &Value, args: &Map<String, Value>, cursor: &str, tools: &[Value]) -> Vec<Case> {
    let name = tool["name"].as_str().unwrap_or_default();
    let with = |edit: &dyn Fn(&mut Map<String, Value>)| {
        let mut a = args.clone();
        edit(&mut a);
        a
    };
    let mut out = Vec::new();
    let mut cut = |what: &str, c: String| {
        out.push(Case::args(
            name,
            format!("real cursor {what}"),
            with(&|a| {
                a.insert("cursor".into(), json!(c));
            }),
            Expect::Refusal,
        ))
    };
    for k in [1, cursor.len() / 2, cursor.len().saturating_sub(1)] {
        if let Some(prefix) = cursor.get(..k) {
            cut(&format!("cut to {k} characters"), prefix.to_owned());
        }
    }
    let mid = cursor.len() / 2;
    if let Some(c) = cursor.get(mid..=mid) {
        let flipped = if c == "A" { "B" } else { "A" };
        cut(
            "with one character changed",
            format!("{}{flipped}{}", &cursor[..mid], &cursor[mid + 1..]),
        );
    }
    cut("with a character appended", format!("{cursor}A"));
    // The same cursor with the listing's arguments changed.
    let props = tool["inputSchema"]["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    for (p, prop) in &props {
        if ["cursor", "page_size", "region"].contains(&p.as_str()) || prop.get("type") != Some(&json!("string")) {
            continue;
        }
        out.push(Case::args(
            name,
            format!("real cursor replayed with another {p}"),
            with(&|a| {
                a.insert("cursor".into(), json!(cursor));
                a.insert(p.clone(), json!("zz-other"));
            }),
            Expect::Refusal,
        ));
    }
    // Only page_size may change.
    out.push(Case::args(
        name,
        "real cursor with another page_size",
        with(&|a| {
            a.insert("cursor".into(), json!(cursor));
            a.insert("page_size".into(), json!(2));
        }),
        Expect::Answer,
    ));
    // Given to every other tool that takes a cursor.
    for other in tools {
        let o = other["name"].as_str().unwrap_or_default();
        if o == name || other["inputSchema"]["properties"].get("cursor").is_none() {
            continue;
        }
        let mut a = sample_args(other);
        a.insert("cursor".into(), json!(cursor));
        out.push(Case::args(o, format!("real cursor of {name}"), a, Expect::Refusal));
    }
    out
}

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
