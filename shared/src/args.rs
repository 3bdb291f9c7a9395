//! Checks tool arguments against the tool's published input schema before the typed decode, so a
//! mistake is reported with the field's name and what it should be ("`page_size` must be an
//! integer between 1 and 1000"), and an unknown argument (usually a typo) is refused rather than
//! silently ignored.

use serde_json::{Map, Value};

use crate::ToolError;

/// Validate the top-level arguments of a call against `schema` (the tool's `inputSchema`).
pub fn validate(schema: &Map<String, Value>, args: Option<&Map<String, Value>>) -> Result<(), ToolError> {
    let empty = Map::new();
    let args = args.unwrap_or(&empty);
    let props = schema.get("properties").and_then(Value::as_object).unwrap_or(&empty);
    let expected = || {
        let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
        names.sort_unstable();
        names.join(", ")
    };
    let open = schema
        .get("additionalProperties")
        .is_some_and(|a| a.as_bool() == Some(true) || a.is_object());
    for name in args.keys() {
        if !props.contains_key(name) && !open {
            return Err(ToolError::invalid(
                name,
                format!("unknown argument; this tool takes: {}", expected()),
            ));
        }
    }
    for required in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if args.get(required).is_none_or(Value::is_null) {
            let desc = props
                .get(required)
                .and_then(|p| p.get("description"))
                .and_then(Value::as_str)
                .unwrap_or("");
            return Err(ToolError::invalid(
                required,
                format!("is required. {desc}").trim_end().to_owned(),
            ));
        }
    }
    for (name, value) in args {
        if let Some(prop) = props.get(name).and_then(Value::as_object) {
            check_tree(schema, name, prop, value, 0)?;
        }
    }
    Ok(())
}

/// A string argument the service bounds (a name, a version, an ARN): refused before any call
/// when longer, since a long value in a request URL cannot even be sent.
pub fn check_len(field: &str, value: Option<&str>, max: usize) -> Result<(), ToolError> {
    match value {
        Some(v) if v.len() > max => Err(ToolError::invalid(
            field,
            format!("is {} bytes; the service allows at most {max}", v.len()),
        )),
        _ => Ok(()),
    }
}

/// How deep nested arguments are checked (and may go): deeper is refused, not walked.
const MAX_DEPTH: usize = 64;

/// Check `value` against `prop`, then what it contains against the nested schemas (objects with
/// `properties`, arrays with `items`, maps with `additionalProperties`, `$ref`s into `$defs`), so
/// an error names the nested field: `sort_key.op`, `requests.orders.keys`.
fn check_tree(
    root: &Map<String, Value>,
    path: &str,
    prop: &Map<String, Value>,
    value: &Value,
    depth: usize,
) -> Result<(), ToolError> {
    if depth > MAX_DEPTH {
        return Err(ToolError::invalid(
            path,
            format!("is nested more than {MAX_DEPTH} levels deep"),
        ));
    }
    let prop = resolve(root, prop);
    check_value(path, prop, value)?;
    match value {
        Value::Object(map) => {
            let nested = prop.get("properties").and_then(Value::as_object);
            if nested.is_some() {
                for required in prop
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if map.get(required).is_none_or(Value::is_null) {
                        return Err(ToolError::invalid(format!("{path}.{required}"), "is required"));
                    }
                }
            }
            for (k, v) in map {
                let child = nested
                    .and_then(|n| n.get(k))
                    .or_else(|| prop.get("additionalProperties").filter(|a| a.is_object()))
                    .and_then(Value::as_object);
                match child {
                    Some(c) => check_tree(root, &format!("{path}.{k}"), c, v, depth + 1)?,
                    None if nested.is_some() && prop.get("additionalProperties") == Some(&Value::Bool(false)) => {
                        return Err(ToolError::invalid(format!("{path}.{k}"), "unknown field"));
                    }
                    None => depth_ok(&format!("{path}.{k}"), v, depth + 1)?,
                }
            }
        }
        Value::Array(items) => {
            let item = prop.get("items").and_then(Value::as_object);
            for (i, v) in items.iter().enumerate() {
                match item {
                    Some(it) => check_tree(root, &format!("{path}[{i}]"), it, v, depth + 1)?,
                    None => depth_ok(&format!("{path}[{i}]"), v, depth + 1)?,
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Free-form values (any JSON) are only checked for depth.
fn depth_ok(path: &str, value: &Value, depth: usize) -> Result<(), ToolError> {
    if depth > MAX_DEPTH {
        return Err(ToolError::invalid(
            path,
            format!("is nested more than {MAX_DEPTH} levels deep"),
        ));
    }
    match value {
        Value::Object(m) => m.values().try_for_each(|v| depth_ok(path, v, depth + 1)),
        Value::Array(a) => a.iter().try_for_each(|v| depth_ok(path, v, depth + 1)),
        _ => Ok(()),
    }
}

/// Follow a local `$ref` (`#/$defs/X`), keeping the referring schema's own keywords.
fn resolve<'a>(root: &'a Map<String, Value>, prop: &'a Map<String, Value>) -> &'a Map<String, Value> {
    let Some(r) = prop.get("$ref").and_then(Value::as_str) else {
        return prop;
    };
    let name = r.rsplit('/').next().unwrap_or("");
    ["$defs", "definitions"]
        .iter()
        .find_map(|d| root.get(*d).and_then(|defs| defs.get(name)).and_then(Value::as_object))
        .unwrap_or(prop)
}

fn types_of(prop: &Map<String, Value>) -> Vec<&str> {
    match prop.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

fn check_value(name: &str, prop: &Map<String, Value>, value: &Value) -> Result<(), ToolError> {
    let types = types_of(prop);
    if !types.is_empty() {
        let ok = types.iter().any(|t| match *t {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            "null" => value.is_null(),
            _ => true,
        });
        if !ok {
            let wanted: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
            return Err(ToolError::invalid(
                name,
                format!("must be {} (got {})", wanted.join(" or "), kind(value)),
            ));
        }
    }
    if let Some(n) = value.as_f64() {
        let (min, max) = (
            prop.get("minimum").and_then(Value::as_f64),
            prop.get("maximum").and_then(Value::as_f64),
        );
        if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
            let range = match (min, max) {
                (Some(a), Some(b)) => format!("between {a} and {b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => unreachable!(),
            };
            return Err(ToolError::invalid(name, format!("must be {range} (got {n})")));
        }
    }
    if let (Some(options), Some(s)) = (prop.get("enum").and_then(Value::as_array), value.as_str())
        && !options.iter().any(|o| o.as_str() == Some(s))
    {
        let list: Vec<String> = options
            .iter()
            .filter_map(|o| o.as_str().map(|s| format!("`{s}`")))
            .collect();
        return Err(ToolError::invalid(
            name,
            format!("must be one of {} (got `{s}`)", list.join(", ")),
        ));
    }
    Ok(())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Map<String, Value> {
        json!({
            "type": "object",
            "required": ["bucket"],
            "properties": {
                "bucket": {"type": "string", "description": "Bucket name."},
                "page_size": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000},
                "order": {"type": "string", "enum": ["asc", "desc"]},
                "key": {}
            }
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn check(args: Value) -> Result<(), String> {
        validate(&schema(), args.as_object()).map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_good_arguments() {
        check(json!({"bucket": "b", "page_size": 5, "key": {"any": 1}})).unwrap();
        check(json!({"bucket": "b", "page_size": null})).unwrap();
    }

    #[test]
    fn names_the_field_and_the_fix() {
        let e = check(json!({})).unwrap_err();
        assert!(
            e.contains("`bucket`") && e.contains("required") && e.contains("Bucket name."),
            "{e}"
        );
        let e = check(json!({"bucket": 3})).unwrap_err();
        assert!(
            e.contains("`bucket`") && e.contains("must be string (got an integer)"),
            "{e}"
        );
        let e = check(json!({"bucket": "b", "page_size": 0})).unwrap_err();
        assert!(e.contains("between 1 and 1000"), "{e}");
        let e = check(json!({"bucket": "b", "page_size": "lots"})).unwrap_err();
        assert!(e.contains("`page_size`") && e.contains("integer"), "{e}");
        let e = check(json!({"bucket": "b", "order": "up"})).unwrap_err();
        assert!(e.contains("`asc`"), "{e}");
    }

    #[test]
    fn nested_fields_are_named() {
        let schema = json!({
            "type": "object",
            "$defs": {"Cond": {"type": "object", "required": ["op"], "properties": {
                "op": {"type": "string", "enum": ["=", "<"]}, "value": {}}}},
            "properties": {
                "sort_key": {"$ref": "#/$defs/Cond"},
                "requests": {"type": "object", "additionalProperties": {"type": "object",
                    "properties": {"keys": {"type": "array", "items": {}}}}}
            }
        });
        let check = |args: Value| validate(schema.as_object().unwrap(), args.as_object()).map_err(|e| e.to_string());
        let e = check(json!({"sort_key": {"op": "~"}})).unwrap_err();
        assert!(e.contains("`sort_key.op`"), "{e}");
        let e = check(json!({"sort_key": {"value": 1}})).unwrap_err();
        assert!(e.contains("`sort_key.op`") && e.contains("required"), "{e}");
        let e = check(json!({"requests": {"orders": {"keys": 5}}})).unwrap_err();
        assert!(e.contains("`requests.orders.keys`") && e.contains("array"), "{e}");
        check(json!({"sort_key": {"op": "=", "value": {"a": [1]}}, "requests": {"t": {"keys": [{}]}}})).unwrap();
        let mut deep = json!(1);
        for _ in 0..100 {
            deep = json!([deep]);
        }
        let e = check(json!({"sort_key": {"op": "=", "value": deep}})).unwrap_err();
        assert!(e.contains("`sort_key.value") && e.contains("nested"), "{e}");
    }

    #[test]
    fn unknown_arguments_are_refused_with_the_list() {
        let e = check(json!({"bucket": "b", "prefx": "a"})).unwrap_err();
        assert!(
            e.contains("`prefx`") && e.contains("bucket, key, order, page_size"),
            "{e}"
        );
    }
}
