//! Arguments generated from a tool's `inputSchema`, shared by the contract checks
//! ([`crate::contract`]) and the hostile-input suite ([`crate::hostile`]): `$ref` resolution,
//! the JSON types a property accepts, a plausible value per property ([`sample_value`]: the first
//! enum value, `"e2e-sample"` for strings, the minimum (or 1) for numbers, `false`, `[]`, `{}`),
//! every required argument ([`sample_args`]), and a value of a type the property refuses
//! ([`wrong_value`]).

use serde_json::{Map, Value, json};

/// A tool's `inputSchema` (panics when it is not an object: the contract requires one).
pub fn schema_of(tool: &Value) -> &Map<String, Value> {
    tool["inputSchema"].as_object().expect("inputSchema is an object")
}

/// Resolve a local `$ref` (`#/$defs/X`, `#/definitions/X`) against the tool's schema.
pub fn resolve<'a>(root: &'a Map<String, Value>, prop: &'a Value) -> &'a Value {
    let mut p = prop;
    for _ in 0..8 {
        let Some(path) = p.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/")) else {
            break;
        };
        let mut parts = path.split('/');
        let mut cur = parts.next().and_then(|first| root.get(first));
        for part in parts {
            cur = cur.and_then(|c| c.get(part));
        }
        match cur {
            Some(c) => p = c,
            None => break,
        }
    }
    p
}

/// The JSON types a property accepts (empty: anything).
pub fn types_of(root: &Map<String, Value>, prop: &Value) -> Vec<String> {
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

/// The string [`sample_args`] uses: a valid bucket, table or function name.
pub const SAMPLE: &str = "e2e-sample";

/// A plausible value for a property: its first enum value, else by type (`text` for strings).
pub fn sample_value(root: &Map<String, Value>, prop: &Value) -> Value {
    sample_value_with(root, prop, SAMPLE)
}

pub fn sample_value_with(root: &Map<String, Value>, prop: &Value, text: &str) -> Value {
    let p = resolve(root, prop);
    if let Some(v) = p.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return v.clone();
    }
    if let Some(v) = p.get("const") {
        return v.clone();
    }
    if let Some(v) = p.get("default").filter(|v| !v.is_null()) {
        return v.clone();
    }
    let types = types_of(root, p);
    let t = types
        .iter()
        .find(|t| *t != "null")
        .map(String::as_str)
        .unwrap_or("string");
    match t {
        "integer" | "number" => {
            let min = p.get("minimum").and_then(Value::as_f64).unwrap_or(1.0).max(1.0);
            json!(min as i64)
        }
        "boolean" => json!(false),
        "array" => {
            let min = p.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let item = p.get("items").cloned().unwrap_or(json!({}));
            json!(
                (0..min)
                    .map(|_| sample_value_with(root, &item, text))
                    .collect::<Vec<_>>()
            )
        }
        "object" => json!({}),
        _ => json!(text),
    }
}

/// Arguments for `tool`: every required property with a [`sample_value`].
pub fn sample_args(tool: &Value) -> Map<String, Value> {
    sample_args_with(tool, SAMPLE)
}

/// [`sample_args`] with `text` for every string (a name inside the allowlist, say).
pub fn sample_args_with(tool: &Value, text: &str) -> Map<String, Value> {
    let schema = schema_of(tool);
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut args = Map::new();
    for r in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let prop = props.get(r).cloned().unwrap_or(json!({}));
        args.insert(r.to_owned(), sample_value_with(schema, &prop, text));
    }
    args
}

/// A value whose JSON type `types` does not accept, if there is one.
pub fn wrong_value(types: &[String]) -> Option<Value> {
    let accepts = |t: &str| types.iter().any(|x| x == t);
    [
        (json!("not-the-right-type"), &["string"][..]),
        (json!(12345), &["integer", "number"][..]),
        (json!(true), &["boolean"][..]),
        (json!({"zz": 1}), &["object"][..]),
        (json!([1]), &["array"][..]),
    ]
    .into_iter()
    .find(|(_, ts)| !ts.iter().any(|t| accepts(t)))
    .map(|(v, _)| v)
}
