//! The hostile cases for one tool, generated from its `tools/list` entry, and for every tool of a
//! server.

use serde_json::{Map, Value, json};

use super::{Case, Expect, SPLICE, contradictions};
use crate::{
    contract::UNKNOWN_ARGUMENT,
    schema_sample::{resolve, sample_args, sample_value, types_of},
};

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
