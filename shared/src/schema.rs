//! Lean tool schemas. Every tool definition is paid for in the model's context on every turn, so
//! what schemars emits for Rust types is cut to what a model and a validator use: no `$schema`,
//! no `format: int32`, no `default: null`, no nullable unions where "not required" says it, and
//! object schemas where a bare `true` would trip clients that expect one.

use serde_json::{Map, Value};

/// Rewrite `schema` (a tool's `inputSchema`) in place.
pub fn lean(schema: &mut Map<String, Value>) {
    schema.remove("$schema");
    schema.remove("title");
    // At the top, `additionalProperties: true` is meaningful: it lets a tool (a Lambda function's,
    // say) take arguments it does not list, which the argument check otherwise refuses.
    let open = schema.get("additionalProperties").cloned();
    lean_object(schema);
    if let Some(Value::Bool(true)) = open {
        schema.insert("additionalProperties".into(), Value::Bool(true));
    }
}

fn lean_value(v: &mut Value) {
    match v {
        Value::Bool(true) => *v = Value::Object(Map::new()),
        Value::Object(m) => lean_object(m),
        _ => {}
    }
}

fn lean_object(m: &mut Map<String, Value>) {
    if matches!(
        m.get("format").and_then(Value::as_str),
        Some(
            "int8"
                | "int16"
                | "int32"
                | "int64"
                | "uint"
                | "uint8"
                | "uint16"
                | "uint32"
                | "uint64"
                | "double"
                | "float"
        )
    ) {
        m.remove("format");
    }
    // `default: null` and `default: false` say what absence already says.
    if m.get("default")
        .is_some_and(|d| d.is_null() || d == &Value::Bool(false))
    {
        m.remove("default");
    }
    if m.get("additionalProperties") == Some(&Value::Bool(true)) {
        m.remove("additionalProperties");
    }
    // ["string", "null"] → "string": optional already says absent is fine.
    if let Some(Value::Array(types)) = m.get("type") {
        let kept: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
        if kept.len() == 1 {
            m.insert("type".into(), kept[0].clone());
        } else if kept.len() < types.len() {
            m.insert("type".into(), Value::Array(kept));
        }
    }
    // An optional enum lists `null` among its values; absent says it.
    if let Some(Value::Array(values)) = m.get_mut("enum")
        && values.len() > 1
    {
        values.retain(|v| !v.is_null());
    }
    // anyOf [X, {type: null}] → X.
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = m.get(key) {
            let kept: Vec<Value> = alts
                .iter()
                .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                .cloned()
                .collect();
            if kept.len() == 1 && alts.len() == 2 {
                m.remove(key);
                if let Value::Object(inner) = &kept[0] {
                    for (k, v) in inner {
                        m.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
    }
    // A `const` with a redundant `type`, and `enum` with a redundant string type, are kept: clients
    // differ in what they accept.
    for key in ["properties", "$defs", "definitions", "patternProperties"] {
        if let Some(Value::Object(props)) = m.get_mut(key) {
            props.values_mut().for_each(lean_value);
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(v) = m.get_mut(key) {
            if key == "additionalProperties" && v.as_bool() == Some(true) {
                continue;
            }
            lean_value(v);
        }
    }
    for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(alts)) = m.get_mut(key) {
            alts.iter_mut().for_each(lean_value);
        }
    }
    // `items: {}` and `additionalProperties: {}` allow anything, as their absence does.
    for key in ["items", "additionalProperties"] {
        if m.get(key).is_some_and(|v| v.as_object().is_some_and(Map::is_empty)) {
            m.remove(key);
        }
    }
}

/// The `region` property every regional tool gets (see `Core::decorate`).
pub(crate) fn region_property() -> Value {
    serde_json::json!({"type": "string"})
}

/// Most bytes a server's tool list may cost on average per tool, and in total.
pub const MAX_AVG_TOOL_BYTES: usize = 700;
pub const MAX_LIST_BYTES: usize = 8 * 1024;

/// The size of one tool as a model pays for it: `{name, description, inputSchema}` as listed.
pub fn listed_size(tool: &rmcp::model::Tool) -> usize {
    crate::budget::json_len(&serde_json::json!({
        "name": tool.name,
        "description": tool.description,
        "inputSchema": tool.input_schema,
    }))
}

/// Check a server's tools (as listed without an accounts file) against the context budget, and
/// that every schema is made of objects. Returns (total bytes, bytes per tool). Servers call this
/// from a unit test; the benchmark prints the same figures.
pub fn check_list_budget(tools: Vec<rmcp::model::Tool>) -> Result<(usize, usize), String> {
    let mut total = 0;
    let n = tools.len().max(1);
    for mut t in tools {
        let mut schema = (*t.input_schema).clone();
        lean(&mut schema);
        if let Some(Value::Object(props)) = schema.get_mut("properties") {
            props.insert("region".into(), region_property());
        }
        if !all_objects(&Value::Object(schema.clone())) {
            return Err(format!("tool {}: a schema is not an object", t.name));
        }
        t.input_schema = std::sync::Arc::new(schema);
        total += listed_size(&t);
    }
    let avg = total / n;
    if avg > MAX_AVG_TOOL_BYTES || total > MAX_LIST_BYTES {
        return Err(format!(
            "tools/list costs {total} bytes, {avg} per tool: at most {MAX_AVG_TOOL_BYTES} per tool and {MAX_LIST_BYTES} in total"
        ));
    }
    Ok((total, avg))
}

/// Whether every sub-schema of `schema` is an object (a bare `true` or `false` is not portable).
pub fn all_objects(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            for key in ["properties", "$defs", "definitions"] {
                if let Some(Value::Object(props)) = m.get(key)
                    && !props.values().all(|p| p.is_object() && all_objects(p))
                {
                    return false;
                }
            }
            if let Some(items) = m.get("items")
                && !(items.is_object() && all_objects(items))
            {
                return false;
            }
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn noise_goes_and_meaning_stays() {
        let mut s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "ListParams",
            "type": "object",
            "properties": {
                "page_size": {"type": ["integer", "null"], "format": "uint32", "minimum": 1, "default": null},
                "key": true,
                "items": {"type": "array", "items": true},
                "mode": {"anyOf": [{"$ref": "#/$defs/Mode"}, {"type": "null"}], "description": "How."}
            },
            "required": []
        });
        lean(s.as_object_mut().unwrap());
        assert_eq!(
            s,
            json!({
                "type": "object",
                "properties": {
                    "page_size": {"type": "integer", "minimum": 1},
                    "key": {},
                    "items": {"type": "array"},
                    "mode": {"$ref": "#/$defs/Mode", "description": "How."}
                },
                "required": []
            })
        );
        assert!(all_objects(&s));
        assert!(!all_objects(&json!({"properties": {"x": true}})));
    }
}
