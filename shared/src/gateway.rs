//! Amazon Bedrock AgentCore Gateway, Lambda-target side: the tool-schema file a target is created
//! with (`--print-tool-schemas gateway`), and the invocations the Gateway then makes.
//!
//! A Gateway invocation is a plain Lambda Invoke, not an HTTP event: the payload is the bare tool
//! arguments and the tool is named in the client context, `custom.bedrockAgentCoreToolName =
//! "<target>___<tool>"`. It is answered by sending the server itself a stateless `tools/call`, so
//! it passes the same dispatch as any MCP client's call (schema check, gates, audit line, output
//! budget), and the `CallToolResult` JSON is returned.
//!
//! The Gateway's schema model knows only `type`, `description`, `properties`, `required` and
//! `items`; it rejects `anyOf`, `default`, `$ref`, `enum`, bounds and type lists. [`gateway_schema`]
//! rewrites a JSON Schema into that subset and moves what it cannot say into the description, so
//! the model still reads the constraint and the server still enforces it.

use bytes::Bytes;
use http::{Request, header};
use http_body_util::{BodyExt, Full};
use rmcp::{
    ServerHandler,
    model::Tool,
    transport::streamable_http_server::{StreamableHttpService, session::local::LocalSessionManager},
};
use serde_json::{Map, Value, json};

use crate::audit::Caller;

/// The client-context key naming the tool of a Gateway invocation.
pub const TOOL_NAME_KEY: &str = "bedrockAgentCoreToolName";
/// The separator between the Gateway target's name and the tool's.
pub const TARGET_SEPARATOR: &str = "___";

/// Deepest schema nesting (and `$ref` chain) followed; deeper parts become a described free-form object.
const MAX_DEPTH: usize = 24;

/// The Gateway tool-schema file for `tools`: `{"inlinePayload": [{name, description, inputSchema}]}`.
pub fn tool_schema_file(tools: &[Tool]) -> Value {
    let payload: Vec<Value> = tools.iter().map(tool_definition).collect();
    json!({ "inlinePayload": payload })
}

fn tool_definition(tool: &Tool) -> Value {
    let description = tool
        .description
        .as_deref()
        .or(tool.title.as_deref())
        .unwrap_or(&tool.name)
        .to_owned();
    let mut input = gateway_schema(&Value::Object((*tool.input_schema).clone()));
    // The top level is always an object (a tool without arguments has no properties).
    input.insert("type".into(), json!("object"));
    json!({ "name": tool.name, "description": description, "inputSchema": input })
}

/// `schema` rewritten into the Gateway's subset, `$ref`s inlined from its `$defs`/`definitions`.
pub fn gateway_schema(schema: &Value) -> Map<String, Value> {
    let mut defs = Map::new();
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(d)) = schema.get(key) {
            defs.extend(d.iter().map(|(k, v)| (format!("#/{key}/{k}"), v.clone())));
        }
    }
    clean(schema, &defs, 0)
}

fn clean(node: &Value, defs: &Map<String, Value>, depth: usize) -> Map<String, Value> {
    let Some(obj) = node.as_object() else {
        // `true` or a non-schema: any value. The Gateway needs a type; objects are what our free-form
        // arguments (items, payloads) are.
        return described("object", "Any JSON object.".into());
    };
    if depth > MAX_DEPTH {
        return described("object", "Nested too deeply to describe here.".into());
    }
    let mut notes: Vec<String> = Vec::new();

    // `$ref`: inline the definition, keeping the referring node's own description.
    if let Some(target) = obj.get("$ref").and_then(Value::as_str) {
        let mut out = match defs.get(target) {
            Some(def) => clean(def, defs, depth + 1),
            None => described("object", format!("Schema {target}.")),
        };
        if let Some(d) = obj.get("description").and_then(Value::as_str) {
            out.insert(
                "description".into(),
                json!(join(Some(d), out.get("description").and_then(Value::as_str))),
            );
        }
        return out;
    }

    // allOf of one schema is that schema (schemars wraps described `$ref`s that way).
    if let Some(Value::Array(all)) = obj.get("allOf")
        && all.len() == 1
    {
        let mut merged = obj.clone();
        merged.remove("allOf");
        let mut out = clean(&all[0], defs, depth + 1);
        let own = clean_own(
            &merged,
            defs,
            depth,
            &mut notes,
            out.get("type").and_then(Value::as_str),
        );
        return merge_description(out_with(&mut out, own), &notes);
    }

    // anyOf/oneOf: no nullable variants (absent says it); constants become a list in the
    // description; otherwise the first variant, naming the others.
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(alts)) = obj.get(key) else {
            continue;
        };
        let alts: Vec<&Value> = alts.iter().filter(|a| !is_null_schema(a)).collect();
        let mut rest = obj.clone();
        rest.remove(key);
        if !alts.is_empty() && alts.iter().all(|a| a.get("const").is_some() || a.get("enum").is_some()) {
            let mut values: Vec<String> = Vec::new();
            let mut kind = "string";
            for a in &alts {
                let consts: Vec<&Value> = match (a.get("const"), a.get("enum")) {
                    (Some(c), _) => vec![c],
                    (None, Some(Value::Array(e))) => e.iter().collect(),
                    _ => Vec::new(),
                };
                for c in consts.into_iter().filter(|c| !c.is_null()) {
                    kind = json_type(c);
                    let text = match a.get("description").and_then(Value::as_str) {
                        Some(d) => format!("{} ({})", literal(c), d.trim_end_matches('.')),
                        None => literal(c),
                    };
                    values.push(text);
                }
            }
            notes.push(format!("One of: {}.", values.join(", ")));
            let mut out = clean_own(&rest, defs, depth, &mut notes, Some(kind));
            out.insert("type".into(), json!(kind));
            return merge_description(out, &notes);
        }
        if let Some(first) = alts.first() {
            let mut out = clean(first, defs, depth + 1);
            if alts.len() > 1 {
                let others: Vec<String> = alts[1..]
                    .iter()
                    .map(|a| {
                        let c = clean(a, defs, depth + 1);
                        c.get("type").and_then(Value::as_str).unwrap_or("object").to_owned()
                    })
                    .collect();
                notes.push(format!("May also be given as: {}.", others.join(" or ")));
            }
            let own = clean_own(&rest, defs, depth, &mut notes, out.get("type").and_then(Value::as_str));
            return merge_description(out_with(&mut out, own), &notes);
        }
    }

    let out = clean_own(obj, defs, depth, &mut notes, None);
    merge_description(out, &notes)
}

/// The node's own keywords (no composition): type, properties, required, items, and the rest
/// turned into notes.
fn clean_own(
    obj: &Map<String, Value>,
    defs: &Map<String, Value>,
    depth: usize,
    notes: &mut Vec<String>,
    inherited_type: Option<&str>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let kind = match obj.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(types)) => {
            let kept: Vec<&str> = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            if kept.len() > 1 {
                notes.push(format!("May also be given as: {}.", kept[1..].join(" or ")));
            }
            kept.first().map(|t| (*t).to_owned())
        }
        _ => None,
    }
    .or_else(|| inherited_type.map(str::to_owned))
    .or_else(|| {
        if obj.contains_key("properties") || obj.contains_key("additionalProperties") {
            Some("object".into())
        } else if obj.contains_key("items") {
            Some("array".into())
        } else if let Some(c) = obj.get("const") {
            Some(json_type(c).into())
        } else if let Some(Value::Array(e)) = obj.get("enum") {
            e.iter().find(|v| !v.is_null()).map(|v| json_type(v).to_owned())
        } else {
            None
        }
    });
    let kind = match kind {
        Some(k) => k,
        None => {
            notes.push("Any JSON object.".into());
            "object".into()
        }
    };

    if let Some(Value::Array(values)) = obj.get("enum") {
        let listed: Vec<String> = values.iter().filter(|v| !v.is_null()).map(literal).collect();
        notes.push(format!("One of: {}.", listed.join(", ")));
    }
    if let Some(c) = obj.get("const") {
        notes.push(format!("Must be {}.", literal(c)));
    }
    let mut bounds: Vec<String> = Vec::new();
    for (key, before, after) in [
        ("minimum", "at least ", ""),
        ("exclusiveMinimum", "more than ", ""),
        ("maximum", "at most ", ""),
        ("exclusiveMaximum", "less than ", ""),
        ("multipleOf", "a multiple of ", ""),
        ("minLength", "at least ", " characters"),
        ("maxLength", "at most ", " characters"),
        ("pattern", "matching ", ""),
        ("format", "format ", ""),
        ("minItems", "at least ", " items"),
        ("maxItems", "at most ", " items"),
        ("minProperties", "at least ", " entries"),
        ("maxProperties", "at most ", " entries"),
    ] {
        if let Some(v) = obj.get(key) {
            bounds.push(format!("{before}{}{after}", literal(v)));
        }
    }
    if obj.get("uniqueItems") == Some(&Value::Bool(true)) {
        bounds.push("no duplicates".into());
    }
    if !bounds.is_empty() {
        notes.push(format!("Constraints: {}.", bounds.join("; ")));
    }
    if let Some(d) = obj.get("default").filter(|d| !d.is_null()) {
        notes.push(format!("Default: {}.", literal(d)));
    }

    out.insert("type".into(), json!(kind));
    if let Some(d) = obj.get("description").and_then(Value::as_str) {
        out.insert("description".into(), json!(d));
    }
    if kind == "object" {
        if let Some(Value::Object(props)) = obj.get("properties") {
            let cleaned: Map<String, Value> = props
                .iter()
                .map(|(k, v)| (k.clone(), Value::Object(clean(v, defs, depth + 1))))
                .collect();
            if let Some(Value::Array(required)) = obj.get("required") {
                let kept: Vec<Value> = required
                    .iter()
                    .filter(|r| r.as_str().is_some_and(|r| cleaned.contains_key(r)))
                    .cloned()
                    .collect();
                if !kept.is_empty() {
                    out.insert("required".into(), Value::Array(kept));
                }
            }
            out.insert("properties".into(), Value::Object(cleaned));
        }
        if let Some(extra) = obj.get("additionalProperties").filter(|v| v.is_object()) {
            let value_type = clean(extra, defs, depth + 1);
            let t = value_type.get("type").and_then(Value::as_str).unwrap_or("object");
            let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            notes.push(format!("Any keys, each {article} {t}."));
        }
    }
    if kind == "array" {
        match obj.get("items") {
            // The Gateway rejects `items: {}`: an unconstrained array has no `items` at all.
            Some(items) if items.as_object().is_some_and(|m| !m.is_empty()) => {
                out.insert("items".into(), Value::Object(clean(items, defs, depth + 1)));
            }
            _ => {}
        }
    }
    out
}

fn out_with(out: &mut Map<String, Value>, own: Map<String, Value>) -> Map<String, Value> {
    let mut merged = std::mem::take(out);
    if let Some(d) = own.get("description").and_then(Value::as_str) {
        let inner = merged.get("description").and_then(Value::as_str).map(str::to_owned);
        merged.insert("description".into(), json!(join(Some(d), inner.as_deref())));
    }
    merged
}

fn merge_description(mut out: Map<String, Value>, notes: &[String]) -> Map<String, Value> {
    if notes.is_empty() {
        return out;
    }
    let own = out.get("description").and_then(Value::as_str).map(str::to_owned);
    out.insert(
        "description".into(),
        json!(join(own.as_deref(), Some(&notes.join(" ")))),
    );
    out
}

fn join(a: Option<&str>, b: Option<&str>) -> String {
    match (
        a.map(str::trim).filter(|s| !s.is_empty()),
        b.map(str::trim).filter(|s| !s.is_empty()),
    ) {
        (Some(a), Some(b)) if a.ends_with(['.', '!', '?', ':', ')']) => format!("{a} {b}"),
        (Some(a), Some(b)) => format!("{a}. {b}"),
        (Some(a), None) => a.to_owned(),
        (None, Some(b)) => b.to_owned(),
        (None, None) => String::new(),
    }
}

fn described(kind: &str, description: String) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!(kind));
    m.insert("description".into(), json!(description));
    m
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null") || v.get("const").is_some_and(Value::is_null)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        _ => "object",
    }
}

/// A value as the description shows it: strings in backticks, the rest as JSON.
fn literal(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Invocations

/// The tool a Gateway invocation names (`<target>___<tool>` in the client context, the target
/// prefix dropped), or `None` when the invocation is not the Gateway's.
pub fn tool_name(context: &lambda_http::Context) -> Option<String> {
    let name = context.client_context.as_ref()?.custom.get(TOOL_NAME_KEY)?;
    // Our tool names never contain the separator, so the last one ends the target's name.
    Some(
        name.rsplit_once(TARGET_SEPARATOR)
            .map_or(name.as_str(), |(_, tool)| tool)
            .to_owned(),
    )
}

/// The audit caller of a Gateway invocation: the gateway (its end user is not passed to targets).
pub fn caller(context: &lambda_http::Context) -> Caller {
    let custom = context.client_context.as_ref().map(|c| &c.custom);
    let gateway = custom
        .and_then(|c| c.get("bedrockAgentCoreGatewayId"))
        .cloned()
        .unwrap_or_else(|| "agentcore-gateway".into());
    Caller {
        kind: "gateway",
        principal: gateway,
        client_id: custom.and_then(|c| c.get("bedrockAgentCoreTargetId")).cloned(),
    }
}

/// Run `tool` with `arguments` through `mcp` (a stateless service) and return the
/// `CallToolResult` JSON; a protocol error (unknown tool, malformed arguments) comes back as an
/// error result so the Gateway relays it to the model.
pub async fn invoke<S>(
    mcp: &StreamableHttpService<S, LocalSessionManager>,
    tool: &str,
    arguments: Value,
    caller: Caller,
) -> Value
where
    S: ServerHandler + Send + 'static,
{
    let arguments = if arguments.is_null() { json!({}) } else { arguments };
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": tool, "arguments": arguments}});
    let request = Request::post("http://localhost/mcp")
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json, text/event-stream")
        .extension(caller)
        .body(Full::new(Bytes::from(body.to_string())));
    let request = match request {
        Ok(r) => r,
        Err(e) => return error_result(format!("cannot build the tools/call request: {e}")),
    };
    let response = mcp.handle(request).await;
    let status = response.status();
    let bytes = match response.into_body().collect().await {
        Ok(c) => c.to_bytes(),
        Err(never) => match never {},
    };
    match rpc_answer(&bytes) {
        Some(answer) => match (answer.get("result"), answer.get("error")) {
            (Some(result), _) => result.clone(),
            (None, Some(error)) => error_result(
                error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("the tool call was refused")
                    .to_owned(),
            ),
            _ => error_result(format!("unexpected answer: {answer}")),
        },
        None => error_result(format!(
            "the server answered HTTP {status}: {}",
            String::from_utf8_lossy(&bytes).chars().take(500).collect::<String>()
        )),
    }
}

/// The JSON-RPC answer in a JSON body or an SSE stream (a tool that reports progress first).
fn rpc_answer(body: &[u8]) -> Option<Value> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Some(v);
    }
    let text = std::str::from_utf8(body).ok()?;
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("id").is_some() && (v.get("result").is_some() || v.get("error").is_some()))
}

fn error_result(message: String) -> Value {
    json!({"content": [{"type": "text", "text": message}], "isError": true})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_rewritten_into_the_gateway_subset() {
        let schema = json!({
            "type": "object",
            "$defs": {"Mode": {"type": "string", "enum": ["fast", "slow"], "description": "How to run"}},
            "properties": {
                "bucket": {"type": "string", "description": "Bucket name", "minLength": 3, "maxLength": 63},
                "limit": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000, "default": 100},
                "mode": {"$ref": "#/$defs/Mode"},
                "tags": {"type": "array", "items": {}},
                "keys": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
                "order": {"oneOf": [{"const": "asc", "description": "Oldest first"}, {"const": "desc"}]},
                "item": {"description": "A DynamoDB item"},
                "env": {"type": "object", "additionalProperties": {"type": "string"}}
            },
            "required": ["bucket", "ghost"]
        });
        let out = Value::Object(gateway_schema(&schema));
        assert_eq!(
            out["required"],
            json!(["bucket"]),
            "only listed properties stay required"
        );
        let p = &out["properties"];
        assert_eq!(
            p["bucket"],
            json!({"type": "string",
            "description": "Bucket name. Constraints: at least 3 characters; at most 63 characters."})
        );
        assert_eq!(p["limit"]["type"], "integer");
        assert_eq!(
            p["limit"]["description"],
            "Constraints: at least 1; at most 1000. Default: 100."
        );
        assert_eq!(
            p["mode"],
            json!({"type": "string", "description": "How to run. One of: `fast`, `slow`."})
        );
        assert_eq!(p["tags"], json!({"type": "array"}));
        assert_eq!(p["keys"], json!({"type": "array", "items": {"type": "string"}}));
        assert_eq!(
            p["order"],
            json!({"type": "string", "description": "One of: `asc` (Oldest first), `desc`."})
        );
        assert_eq!(p["item"]["type"], "object");
        assert_eq!(p["env"]["description"], "Any keys, each a string.");
        let text = out.to_string();
        for banned in [
            "anyOf",
            "oneOf",
            "$ref",
            "$defs",
            "enum",
            "default\"",
            "minimum",
            "additionalProperties",
        ] {
            assert!(!text.contains(banned), "{banned} left in {text}");
        }
    }

    #[test]
    fn recursive_definitions_end() {
        let schema = json!({"type": "object", "properties": {"node": {"$ref": "#/$defs/Node"}},
                            "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}}});
        let out = Value::Object(gateway_schema(&schema));
        assert!(out.to_string().contains("Nested too deeply"));
    }

    #[test]
    fn tool_schema_file_is_an_inline_payload() {
        let schema: rmcp::model::JsonObject =
            serde_json::from_value(json!({"type": "object", "properties": {}})).unwrap();
        let tool = Tool::new("list_buckets", "List buckets", std::sync::Arc::new(schema));
        let file = tool_schema_file(&[tool]);
        assert_eq!(
            file,
            json!({"inlinePayload": [{"name": "list_buckets", "description": "List buckets",
                                     "inputSchema": {"type": "object", "properties": {}}}]})
        );
    }

    #[test]
    fn the_target_prefix_is_dropped_from_tool_names() {
        let mut context = lambda_http::Context::default();
        assert_eq!(tool_name(&context), None);
        // As the runtime parses the `Lambda-Runtime-Client-Context` header.
        context.client_context = Some(
            serde_json::from_value(json!({"custom": {TOOL_NAME_KEY: "s3-target___list_buckets",
                                                     "bedrockAgentCoreGatewayId": "gw-123"}}))
            .unwrap(),
        );
        assert_eq!(tool_name(&context).as_deref(), Some("list_buckets"));
        assert_eq!(caller(&context).principal, "gw-123");
    }

    #[test]
    fn answers_are_found_in_json_and_sse_bodies() {
        let json_body = br#"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#;
        assert!(rpc_answer(json_body).unwrap().get("result").is_some());
        let sse = b"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32602,\"message\":\"no\"}}\n\n";
        assert_eq!(rpc_answer(sse).unwrap()["error"]["message"], "no");
        assert_eq!(rpc_answer(b"Not Found"), None);
    }
}
