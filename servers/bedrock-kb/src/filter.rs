//! Metadata filters: plain JSON in the service's own shape (`{"equals": {"key": "k", "value": 1}}`,
//! `{"andAll": [..]}`) checked before anything is sent, so a mistake comes back naming the exact
//! part (`filter.andAll[1].equals.value`) instead of an opaque ValidationException, then turned
//! into the SDK's `RetrievalFilter`.

use std::collections::HashMap;

use aws_sdk_bedrockagentruntime::types::{FilterAttribute, RetrievalFilter};
use aws_smithy_types::{Document, Number};
use serde_json::Value;
use shared::ToolError;

/// The metadata key Bedrock puts on every chunk: the data source it came from.
pub(crate) const DATA_SOURCE_KEY: &str = "x-amz-bedrock-kb-data-source-id";

/// What a comparison operator accepts as its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Accepts {
    /// A string, number or boolean.
    Scalar,
    Number,
    String,
    /// A string or a number.
    StringOrNumber,
    /// A non-empty list of strings or numbers.
    List,
}

/// Every comparison operator of the service and the value it takes.
const COMPARISONS: &[(&str, Accepts)] = &[
    ("equals", Accepts::Scalar),
    ("notEquals", Accepts::Scalar),
    ("greaterThan", Accepts::Number),
    ("greaterThanOrEquals", Accepts::Number),
    ("lessThan", Accepts::Number),
    ("lessThanOrEquals", Accepts::Number),
    ("in", Accepts::List),
    ("notIn", Accepts::List),
    ("startsWith", Accepts::String),
    ("listContains", Accepts::StringOrNumber),
    ("stringContains", Accepts::String),
];
const GROUPS: &[&str] = &["andAll", "orAll"];
/// The service's limit on a metadata key's length.
const MAX_KEY_LEN: usize = 100;
/// Deeper nesting than this is almost certainly a generated mistake, and the service rejects it.
const MAX_DEPTH: usize = 10;

fn operators() -> String {
    COMPARISONS
        .iter()
        .map(|(n, _)| *n)
        .chain(GROUPS.iter().copied())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Check `value` (found at `path`, e.g. `filter`) and translate it.
pub(crate) fn parse(value: &Value, path: &str) -> Result<RetrievalFilter, ToolError> {
    parse_at(value, path, 0)
}

fn parse_at(value: &Value, path: &str, depth: usize) -> Result<RetrievalFilter, ToolError> {
    if depth > MAX_DEPTH {
        return Err(ToolError::invalid(
            path,
            format!("filters nest at most {MAX_DEPTH} levels deep"),
        ));
    }
    let Some(obj) = value.as_object() else {
        return Err(ToolError::invalid(
            path,
            format!(
                "must be an object with one operator, like {{\"equals\": {{\"key\": \"k\", \"value\": \"v\"}}}}; got {}",
                kind(value)
            ),
        ));
    };
    let mut entries = obj.iter();
    let (op, body) = match (entries.next(), entries.next()) {
        (Some(one), None) => one,
        (None, _) => {
            return Err(ToolError::invalid(
                path,
                format!("is empty: give one operator ({})", operators()),
            ));
        }
        (Some(_), Some(_)) => {
            let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
            return Err(ToolError::invalid(
                path,
                format!(
                    "has {} operators ({}); give one, and combine several with {{\"andAll\": [..]}} or {{\"orAll\": [..]}}",
                    keys.len(),
                    keys.join(", ")
                ),
            ));
        }
    };
    let here = format!("{path}.{op}");
    if GROUPS.contains(&op.as_str()) {
        let Some(items) = body.as_array() else {
            return Err(ToolError::invalid(
                here,
                format!("must be a list of filters; got {}", kind(body)),
            ));
        };
        if items.len() < 2 {
            return Err(ToolError::invalid(
                here,
                format!(
                    "needs at least 2 filters (has {}); use the single filter on its own instead",
                    items.len()
                ),
            ));
        }
        let parsed = items
            .iter()
            .enumerate()
            .map(|(i, f)| parse_at(f, &format!("{here}[{i}]"), depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(if op == "andAll" {
            RetrievalFilter::AndAll(parsed)
        } else {
            RetrievalFilter::OrAll(parsed)
        });
    }
    let Some(&(_, accepts)) = COMPARISONS.iter().find(|(n, _)| n == op) else {
        let suggestion = suggest(op)
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        return Err(ToolError::invalid(
            path,
            format!("unknown operator `{op}`{suggestion}; the operators are {}", operators()),
        ));
    };
    let attribute = attribute(body, &here, accepts)?;
    Ok(match op.as_str() {
        "equals" => RetrievalFilter::Equals(attribute),
        "notEquals" => RetrievalFilter::NotEquals(attribute),
        "greaterThan" => RetrievalFilter::GreaterThan(attribute),
        "greaterThanOrEquals" => RetrievalFilter::GreaterThanOrEquals(attribute),
        "lessThan" => RetrievalFilter::LessThan(attribute),
        "lessThanOrEquals" => RetrievalFilter::LessThanOrEquals(attribute),
        "in" => RetrievalFilter::In(attribute),
        "notIn" => RetrievalFilter::NotIn(attribute),
        "startsWith" => RetrievalFilter::StartsWith(attribute),
        "listContains" => RetrievalFilter::ListContains(attribute),
        _ => RetrievalFilter::StringContains(attribute),
    })
}

/// The operator a misspelt one most likely meant: the same letters in another case or with
/// underscores (`starts_with`), or a few letters short (`equal`, `and`).
fn suggest(op: &str) -> Option<&'static str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '-'], "");
    let typed = norm(op);
    COMPARISONS
        .iter()
        .map(|(n, _)| *n)
        .chain(GROUPS.iter().copied())
        .find(|n| {
            let n = norm(n);
            n == typed || (!typed.is_empty() && n.starts_with(&typed) && n.len() - typed.len() <= 3)
        })
}

/// `{"key": .., "value": ..}` with the value the operator takes.
fn attribute(body: &Value, path: &str, accepts: Accepts) -> Result<FilterAttribute, ToolError> {
    let Some(obj) = body.as_object() else {
        return Err(ToolError::invalid(
            path,
            format!(
                "must be {{\"key\": \"<metadata key>\", \"value\": ..}}; got {}",
                kind(body)
            ),
        ));
    };
    if let Some(extra) = obj.keys().find(|k| *k != "key" && *k != "value") {
        return Err(ToolError::invalid(
            format!("{path}.{extra}"),
            "is not a field here: give only `key` and `value`",
        ));
    }
    let key = match obj.get("key") {
        Some(Value::String(k)) if !k.is_empty() && k.chars().count() <= MAX_KEY_LEN => k.clone(),
        Some(Value::String(_)) => {
            return Err(ToolError::invalid(
                format!("{path}.key"),
                format!("must be a metadata key of 1 to {MAX_KEY_LEN} characters"),
            ));
        }
        Some(other) => {
            return Err(ToolError::invalid(
                format!("{path}.key"),
                format!("must be a string (a metadata key); got {}", kind(other)),
            ));
        }
        None => {
            return Err(ToolError::invalid(
                format!("{path}.key"),
                "is missing: name the metadata key",
            ));
        }
    };
    let value_path = format!("{path}.value");
    let Some(value) = obj.get("value") else {
        return Err(ToolError::invalid(value_path, "is missing"));
    };
    check_value(value, &value_path, accepts)?;
    let attribute = FilterAttribute::builder()
        .key(key)
        .value(document(value))
        .build()
        .map_err(|e| ToolError::invalid(path, e.to_string()))?;
    Ok(attribute)
}

fn check_value(value: &Value, path: &str, accepts: Accepts) -> Result<(), ToolError> {
    let ok = match accepts {
        Accepts::Scalar => matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)),
        Accepts::Number => value.is_number(),
        Accepts::String => value.is_string(),
        Accepts::StringOrNumber => value.is_string() || value.is_number(),
        Accepts::List => {
            let Some(items) = value.as_array() else {
                return Err(ToolError::invalid(
                    path,
                    format!("must be a list of strings or numbers; got {}", kind(value)),
                ));
            };
            if items.is_empty() {
                return Err(ToolError::invalid(path, "must list at least one value"));
            }
            if let Some((i, bad)) = items
                .iter()
                .enumerate()
                .find(|(_, v)| !(v.is_string() || v.is_number()))
            {
                return Err(ToolError::invalid(
                    format!("{path}[{i}]"),
                    format!("must be a string or a number; got {}", kind(bad)),
                ));
            }
            true
        }
    };
    if ok {
        return Ok(());
    }
    let want = match accepts {
        Accepts::Scalar => "a string, number or boolean",
        Accepts::Number => "a number",
        Accepts::String => "a string",
        Accepts::StringOrNumber => "a string or a number",
        Accepts::List => "a list",
    };
    Err(ToolError::invalid(path, format!("must be {want}; got {}", kind(value))))
}

fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => "a string".into(),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// JSON → the SDK's document type (integers stay integers: the service compares them as numbers).
pub(crate) fn document(v: &Value) -> Document {
    match v {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(if let Some(u) = n.as_u64() {
            Number::PosInt(u)
        } else if let Some(i) = n.as_i64() {
            Number::NegInt(i)
        } else {
            Number::Float(n.as_f64().unwrap_or_default())
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(document).collect()),
        Value::Object(m) => Document::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), document(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// The SDK's document type → JSON (metadata values in results).
pub(crate) fn json(d: &Document) -> Value {
    match d {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => Value::from(*u),
        Document::Number(Number::NegInt(i)) => Value::from(*i),
        Document::Number(Number::Float(f)) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Document::String(s) => Value::String(s.clone()),
        Document::Array(items) => Value::Array(items.iter().map(json).collect()),
        Document::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), json(v))).collect()),
    }
}

/// The filter a request carries: the caller's, narrowed to `data_sources` when any are given
/// (Bedrock tags every chunk with its data source id, so the restriction is one more condition).
pub(crate) fn combine(filter: Option<&Value>, data_sources: &[String]) -> Result<Option<RetrievalFilter>, ToolError> {
    let user = filter
        .filter(|f| !f.is_null())
        .map(|f| parse(f, "filter"))
        .transpose()?;
    for (i, id) in data_sources.iter().enumerate() {
        if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(ToolError::invalid(
                format!("data_source_ids[{i}]"),
                format!("`{id}` is not a data source id; list_knowledge_bases shows each base's data sources"),
            ));
        }
    }
    let restriction = match data_sources {
        [] => None,
        [one] => Some(RetrievalFilter::Equals(attr(
            DATA_SOURCE_KEY,
            Document::String(one.clone()),
        )?)),
        many => Some(RetrievalFilter::In(attr(
            DATA_SOURCE_KEY,
            Document::Array(many.iter().cloned().map(Document::String).collect()),
        )?)),
    };
    Ok(match (user, restriction) {
        (Some(u), Some(r)) => Some(RetrievalFilter::AndAll(vec![u, r])),
        (u, r) => u.or(r),
    })
}

fn attr(key: &str, value: Document) -> Result<FilterAttribute, ToolError> {
    FilterAttribute::builder()
        .key(key)
        .value(value)
        .build()
        .map_err(|e| ToolError::Other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(v: Value) -> (String, String) {
        match parse(&v, "filter").unwrap_err() {
            ToolError::InvalidArgument { field, message } => (field, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_operator_translates() {
        for (op, value) in [
            ("equals", json!("a")),
            ("notEquals", json!(true)),
            ("greaterThan", json!(3)),
            ("greaterThanOrEquals", json!(-2)),
            ("lessThan", json!(2.5)),
            ("lessThanOrEquals", json!(10)),
            ("in", json!(["a", "b"])),
            ("notIn", json!([1, 2])),
            ("startsWith", json!("pre")),
            ("listContains", json!("tag")),
            ("stringContains", json!("sub")),
        ] {
            let f = parse(&json!({ op: {"key": "k", "value": value} }), "filter").unwrap();
            let (name, a) = match &f {
                RetrievalFilter::Equals(a) => ("equals", a),
                RetrievalFilter::NotEquals(a) => ("notEquals", a),
                RetrievalFilter::GreaterThan(a) => ("greaterThan", a),
                RetrievalFilter::GreaterThanOrEquals(a) => ("greaterThanOrEquals", a),
                RetrievalFilter::LessThan(a) => ("lessThan", a),
                RetrievalFilter::LessThanOrEquals(a) => ("lessThanOrEquals", a),
                RetrievalFilter::In(a) => ("in", a),
                RetrievalFilter::NotIn(a) => ("notIn", a),
                RetrievalFilter::StartsWith(a) => ("startsWith", a),
                RetrievalFilter::ListContains(a) => ("listContains", a),
                RetrievalFilter::StringContains(a) => ("stringContains", a),
                other => panic!("{other:?}"),
            };
            assert_eq!(name, op);
            assert_eq!(a.key(), "k");
            assert_eq!(json(a.value()), value, "{op}");
        }
    }

    #[test]
    fn nested_groups_translate() {
        let f = parse(
            &json!({"andAll": [
                {"equals": {"key": "team", "value": "search"}},
                {"orAll": [
                    {"greaterThan": {"key": "year", "value": 2020}},
                    {"listContains": {"key": "tags", "value": "faq"}}
                ]}
            ]}),
            "filter",
        )
        .unwrap();
        let RetrievalFilter::AndAll(items) = f else { panic!() };
        assert_eq!(items.len(), 2);
        let RetrievalFilter::OrAll(inner) = &items[1] else {
            panic!()
        };
        assert!(
            matches!(&inner[0], RetrievalFilter::GreaterThan(a) if a.value() == &Document::Number(Number::PosInt(2020)))
        );
    }

    #[test]
    fn errors_point_at_the_bad_part() {
        let (f, m) = field(json!({"andAll": [
            {"equals": {"key": "a", "value": 1}},
            {"equals": {"key": "b", "value": null}}
        ]}));
        assert_eq!(f, "filter.andAll[1].equals.value");
        assert!(m.contains("null"), "{m}");
        let (f, _) =
            field(json!({"orAll": [{"in": {"key": "a", "value": [1]}}, {"in": {"key": "b", "value": ["x", {}]}}]}));
        assert_eq!(f, "filter.orAll[1].in.value[1]");
        let (f, m) = field(json!({"greaterThan": {"key": "year", "value": "2020"}}));
        assert_eq!(f, "filter.greaterThan.value");
        assert!(m.contains("a number"), "{m}");
        let (f, m) = field(json!({"equal": {"key": "a", "value": 1}}));
        assert_eq!(f, "filter");
        assert!(m.contains("did you mean `equals`"), "{m}");
        let (_, m) = field(json!({"starts_with": {"key": "a", "value": "x"}}));
        assert!(m.contains("`startsWith`"), "{m}");
        let (f, m) = field(json!({"andAll": [{"equals": {"key": "a", "value": 1}}]}));
        assert_eq!(f, "filter.andAll");
        assert!(m.contains("at least 2"), "{m}");
        let (f, _) = field(json!({"equals": {"key": "a", "value": 1}, "notEquals": {"key": "a", "value": 2}}));
        assert_eq!(f, "filter");
        let (f, _) = field(json!({"equals": {"key": "", "value": 1}}));
        assert_eq!(f, "filter.equals.key");
        let (f, _) = field(json!({"equals": {"value": 1}}));
        assert_eq!(f, "filter.equals.key");
        let (f, _) = field(json!({"equals": {"key": "a", "value": 1, "op": "x"}}));
        assert_eq!(f, "filter.equals.op");
        let (f, _) = field(json!({"in": {"key": "a", "value": []}}));
        assert_eq!(f, "filter.in.value");
        let (f, _) = field(json!({"equals": {"key": "a", "value": [1]}}));
        assert_eq!(f, "filter.equals.value");
        let (f, _) = field(json!({"stringContains": {"key": "a", "value": 5}}));
        assert_eq!(f, "filter.stringContains.value");
        let (f, _) = field(json!({"andAll": "x"}));
        assert_eq!(f, "filter.andAll");
        let (f, _) = field(json!([]));
        assert_eq!(f, "filter");
        let (f, _) = field(json!({}));
        assert_eq!(f, "filter");
    }

    #[test]
    fn depth_is_bounded() {
        let mut f = json!({"equals": {"key": "a", "value": 1}});
        for _ in 0..12 {
            f = json!({"andAll": [f.clone(), {"equals": {"key": "b", "value": 2}}]});
        }
        let (_, m) = field(f);
        assert!(m.contains("levels"), "{m}");
    }

    #[test]
    fn data_sources_narrow_the_filter() {
        assert!(combine(None, &[]).unwrap().is_none());
        let one = combine(None, &["DS1".into()]).unwrap().unwrap();
        assert!(matches!(&one, RetrievalFilter::Equals(a) if a.key() == DATA_SOURCE_KEY));
        let both = combine(
            Some(&json!({"equals": {"key": "a", "value": 1}})),
            &["D1".into(), "D2".into()],
        )
        .unwrap()
        .unwrap();
        let RetrievalFilter::AndAll(items) = both else { panic!() };
        assert!(matches!(&items[1], RetrievalFilter::In(a) if json(a.value()) == json!(["D1", "D2"])));
        let e = combine(None, &["ok".into(), "../x".into()]).unwrap_err();
        assert!(matches!(e, ToolError::InvalidArgument { field, .. } if field == "data_source_ids[1]"));
    }

    #[test]
    fn documents_round_trip() {
        let v = json!({"a": [1, -2, 2.5, "s", true, null], "b": {"c": 18446744073709551615u64}});
        assert_eq!(json(&document(&v)), v);
    }
}
