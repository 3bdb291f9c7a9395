//! Amazon Bedrock AgentCore Gateway, Lambda targets: every server's `--print-tool-schemas gateway`
//! export passes a validator of the Gateway's schema subset and lists exactly the server's tools
//! with their constraints in words; and the Lambda binary, run under cargo-lambda's emulator,
//! answers a Gateway-style invocation (bare arguments, tool named in the client context) by
//! running a real tool against LocalStack through the ordinary dispatch (schema check, audit).

use std::{collections::BTreeSet, convert::Infallible, time::Duration};

use aws_mcp_tests::{
    LambdaEmulator, Mcp, Service, emulators::NOWHERE, fixtures::s3::bucket_named, require, server_bin,
};
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Map, Value, json};

const SERVERS: &[&str] = &[
    "aws-s3-mcp",
    "aws-dynamodb-mcp",
    "aws-lambda-mcp",
    "aws-logs-mcp",
    "aws-bedrock-kb-mcp",
];
/// Checked when built (it is the newest server).
const OPTIONAL_SERVERS: &[&str] = &["aws-sts-mcp"];
/// Every capability on, so every tool is exported.
const ALL_TOOLS: &[&str] = &["--allow-writes", "--allow-invoke", "--allow-generate"];

// ---------------------------------------------------------------------------------------------
// The schema export

/// The keywords of the Gateway's `SchemaDefinition` (API reference, CloudFormation
/// `AWS::BedrockAgentCore::GatewayTarget SchemaDefinition`), and its types.
const SCHEMA_KEYS: &[&str] = &["type", "description", "properties", "required", "items"];
const TYPES: &[&str] = &["string", "number", "integer", "boolean", "object", "array"];
/// `ToolDefinition`'s members.
const TOOL_KEYS: &[&str] = &["name", "description", "inputSchema", "outputSchema"];

/// Every violation of the Gateway subset in `schema` at `path`.
fn violations(schema: &Value, path: &str, out: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else {
        out.push(format!("{path}: not an object schema: {schema}"));
        return;
    };
    for key in obj.keys() {
        if !SCHEMA_KEYS.contains(&key.as_str()) {
            out.push(format!("{path}: keyword `{key}` is not accepted by the Gateway"));
        }
    }
    let kind = obj.get("type").and_then(Value::as_str);
    match kind {
        Some(t) if TYPES.contains(&t) => {}
        _ => out.push(format!(
            "{path}: `type` must be one of {TYPES:?}, got {:?}",
            obj.get("type")
        )),
    }
    if let Some(d) = obj.get("description")
        && !d.is_string()
    {
        out.push(format!("{path}: description is not a string"));
    }
    if let Some(props) = obj.get("properties") {
        if kind != Some("object") {
            out.push(format!("{path}: properties on a non-object"));
        }
        match props.as_object() {
            Some(props) => {
                for (name, p) in props {
                    violations(p, &format!("{path}.{name}"), out);
                }
            }
            None => out.push(format!("{path}: properties is not an object")),
        }
    }
    if let Some(required) = obj.get("required") {
        let props = obj.get("properties").and_then(Value::as_object);
        match required.as_array() {
            Some(names) if !names.is_empty() => {
                for n in names {
                    if !n.as_str().is_some_and(|n| props.is_some_and(|p| p.contains_key(n))) {
                        out.push(format!("{path}: required `{n}` is not a property"));
                    }
                }
            }
            _ => out.push(format!("{path}: required must be a non-empty list of names")),
        }
    }
    if let Some(items) = obj.get("items") {
        if kind != Some("array") {
            out.push(format!("{path}: items on a non-array"));
        }
        if items.as_object().is_some_and(Map::is_empty) {
            out.push(format!("{path}: `items: {{}}` is rejected by the Gateway"));
        }
        violations(items, &format!("{path}[]"), out);
    }
}

/// Every violation of the Gateway's tool-schema file format in `file`.
fn file_violations(file: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(tools) = file.get("inlinePayload").and_then(Value::as_array) else {
        return vec![format!("no inlinePayload list: {file}")];
    };
    if file.as_object().map(Map::len) != Some(1) {
        out.push("the file holds more than inlinePayload".into());
    }
    if tools.is_empty() {
        out.push("no tools".into());
    }
    let mut names = BTreeSet::new();
    for tool in tools {
        let name = tool["name"].as_str().unwrap_or_default();
        if !names.insert(name.to_owned()) {
            out.push(format!("{name}: listed twice"));
        }
        // The Gateway names it `<target>___<tool>`; clients cap names at 64 characters.
        if name.is_empty() || name.len() > 48 || name.contains("___") {
            out.push(format!("`{name}`: empty, longer than 48 or containing `___`"));
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            out.push(format!("`{name}`: characters outside [A-Za-z0-9_-]"));
        }
        for key in tool
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            if !TOOL_KEYS.contains(&key.as_str()) {
                out.push(format!("{name}: member `{key}` is not part of a ToolDefinition"));
            }
        }
        if tool["description"].as_str().is_none_or(str::is_empty) {
            out.push(format!("{name}: no description"));
        }
        if tool["inputSchema"]["type"] != "object" {
            out.push(format!("{name}: inputSchema is not an object schema"));
        }
        violations(&tool["inputSchema"], &format!("{name}.inputSchema"), &mut out);
    }
    out
}

#[test]
fn the_validator_refuses_what_the_gateway_refuses() {
    let file = |schema: Value| json!({"inlinePayload": [{"name": "t", "description": "d", "inputSchema": schema}]});
    let ok = file(
        json!({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string"}}},
                         "required": ["a"]}),
    );
    assert_eq!(file_violations(&ok), Vec::<String>::new());
    for bad in [
        json!({"type": "object", "properties": {"a": {"type": "string", "enum": ["x"]}}}),
        json!({"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}),
        json!({"type": "object", "properties": {"a": {"type": ["string", "null"]}}}),
        json!({"type": "object", "properties": {"a": {"type": "string", "default": null}}}),
        json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}}),
        json!({"type": "object", "properties": {"a": {"type": "integer", "maximum": 5}}}),
        json!({"type": "object", "properties": {"a": {"type": "array", "items": {}}}}),
        json!({"type": "object", "required": ["ghost"]}),
    ] {
        assert!(!file_violations(&file(bad.clone())).is_empty(), "accepted {bad}");
    }
}

/// Run `bin --print-tool-schemas gateway` with every capability on; its stdout as JSON.
async fn export(bin: &str) -> Value {
    let mut cmd = tokio::process::Command::new(server_bin(bin));
    aws_mcp_tests::emulators::clear_aws_env(&mut cmd);
    let out = cmd
        .args(["--print-tool-schemas", "gateway"])
        .args(ALL_TOOLS)
        .envs(aws_mcp_tests::emulators::aws_env(&[], NOWHERE))
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {bin}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{bin} --print-tool-schemas gateway failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{bin}: the export is not JSON ({e}): {stdout}"))
}

/// Every enum value and bound of `original` (a listed property schema) must be readable in the
/// exported property's description.
fn constraints_survive(original: &Value, exported: &Value, path: &str, missing: &mut Vec<String>) {
    let description = exported["description"].as_str().unwrap_or_default();
    if let Some(values) = original.get("enum").and_then(Value::as_array) {
        for v in values.iter().filter(|v| !v.is_null()) {
            let shown = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            if !description.contains(&shown) {
                missing.push(format!("{path}: enum value {v} not in {description:?}"));
            }
        }
    }
    for key in ["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"] {
        if let Some(v) = original.get(key)
            && !description.contains(&v.to_string())
        {
            missing.push(format!("{path}: {key} {v} not in {description:?}"));
        }
    }
    if let (Some(props), Some(exported_props)) = (
        original.get("properties").and_then(Value::as_object),
        exported.get("properties"),
    ) {
        for (name, p) in props {
            constraints_survive(p, &exported_props[name], &format!("{path}.{name}"), missing);
        }
    }
}

#[tokio::test]
async fn every_servers_gateway_export_passes_the_gateway_subset_and_matches_tools_list() {
    let built_optional: Vec<&str> = OPTIONAL_SERVERS
        .iter()
        .copied()
        .filter(|b| server_bin(SERVERS[0]).with_file_name(b).exists())
        .collect();
    for bin in SERVERS.iter().copied().chain(built_optional) {
        let file = export(bin).await;
        let problems = file_violations(&file);
        assert!(problems.is_empty(), "{bin}'s Gateway export:\n{}", problems.join("\n"));

        // The same tools as `tools/list` with the same flags, each with its description, and
        // every constraint a model needs moved into words.
        let mcp = Mcp::start_against(bin, ALL_TOOLS, NOWHERE).await;
        let listed = mcp.tools().await;
        mcp.close().await;
        let exported = file["inlinePayload"].as_array().expect("tools");
        let exported_names: Vec<&str> = exported.iter().filter_map(|t| t["name"].as_str()).collect();
        let listed_names: Vec<&str> = listed.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(
            exported_names, listed_names,
            "{bin}: the export must list what tools/list lists"
        );
        let mut missing = Vec::new();
        for (tool, out) in listed.iter().zip(exported) {
            if let Some(d) = tool.description.as_deref() {
                assert_eq!(out["description"], d, "{bin} {}", tool.name);
            }
            let schema = Value::Object((*tool.input_schema).clone());
            constraints_survive(
                &schema,
                &out["inputSchema"],
                &format!("{bin} {}", tool.name),
                &mut missing,
            );
        }
        assert!(missing.is_empty(), "constraints lost:\n{}", missing.join("\n"));
    }
}

// ---------------------------------------------------------------------------------------------
// A Gateway invocation under cargo-lambda

/// Lambda hands a function the client context as the JSON its caller sent (every AWS runtime,
/// lambda_runtime included, JSON-parses the `Lambda-Runtime-Client-Context` header as it is);
/// cargo-lambda 1.9's emulator base64-encodes it first, which makes lambda_runtime fail the
/// invocation. This proxy between the function and the emulator's runtime API undoes that one
/// difference and passes everything else through, so the function sees what it sees on Lambda.
async fn runtime_api_shim(upstream: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind shim");
    let addr = listener.local_addr().expect("shim address");
    let client = reqwest::Client::new();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (client, upstream) = (client.clone(), upstream.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let (client, upstream) = (client.clone(), upstream.clone());
                    async move { Ok::<_, Infallible>(forward(&client, &upstream, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    format!("http://{addr}/.rt")
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    req: http::Request<hyper::body::Incoming>,
) -> http::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = parts.headers.clone();
    headers.remove(http::header::HOST);
    let sent = client
        .request(parts.method.clone(), format!("{upstream}{path}"))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let mut out = http::Response::new(Full::new(Bytes::new()));
    let Ok(resp) = sent else {
        *out.status_mut() = http::StatusCode::BAD_GATEWAY;
        return out;
    };
    *out.status_mut() = resp.status();
    for (k, v) in resp.headers() {
        let mut v = v.clone();
        if k.as_str() == "lambda-runtime-client-context"
            && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(v.as_bytes())
            && let Ok(header) = http::HeaderValue::from_bytes(&decoded)
        {
            v = header;
        }
        out.headers_mut().append(k.clone(), v);
    }
    *out.body_mut() = Full::new(resp.bytes().await.unwrap_or_default());
    out
}

/// Invoke the function as the Gateway does: the payload is the bare arguments, the tool named
/// `<target>___<tool>` in the client context (cargo-lambda's invoke endpoint takes the context in
/// its `lambda-runtime-client-context` header; the Lambda API's is `X-Amz-Client-Context`).
async fn gateway_invoke(emulator: &LambdaEmulator, tool: &str, arguments: &Value) -> Value {
    let context = json!({"custom": {
        "bedrockAgentCoreToolName": format!("s3-target___{tool}"),
        "bedrockAgentCoreMessageVersion": "1.0",
        "bedrockAgentCoreGatewayId": "gw-e2e-0123",
        "bedrockAgentCoreTargetId": "tgt-e2e-4567",
        "bedrockAgentCoreAwsRequestId": "req-1",
        "bedrockAgentCoreMcpMessageId": "msg-1"
    }});
    let resp = tokio::time::timeout(
        Duration::from_secs(60),
        reqwest::Client::new()
            .post(emulator.invoke_url())
            .header("content-type", "application/json")
            .header("lambda-runtime-client-context", context.to_string())
            .body(arguments.to_string())
            .send(),
    )
    .await
    .expect("Invoke within 60 s")
    .expect("Invoke API");
    assert_eq!(resp.status().as_u16(), 200, "Invoke API status");
    let body = resp.text().await.unwrap();
    aws_mcp_tests::scan::answer("Gateway invocation", &body);
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("Invoke result is not JSON ({e}): {body}"))
}

#[tokio::test]
async fn a_gateway_invocation_under_cargo_lambda_runs_a_real_tool() {
    require(&[Service::S3]);
    let text = "Gateway says hello.\n";
    let bucket = bucket_named("e2e-gw", &[("gw/hello.txt", text.as_bytes(), "text/plain")]).await;
    let mut emulator = LambdaEmulator::start().await;
    let shim = runtime_api_shim(emulator.base()).await;
    let mut function = emulator.start_function("aws-s3-mcp", &[], &[("AWS_LAMBDA_RUNTIME_API", &shim)]);

    // A real tool against LocalStack: the result is the CallToolResult JSON.
    let listed = gateway_invoke(&emulator, "list_buckets", &json!({"prefix": bucket})).await;
    assert_ne!(
        listed["isError"],
        true,
        "{listed}\nfunction output:\n{}",
        function.drain()
    );
    let names: Vec<&str> = listed["structuredContent"]["buckets"]
        .as_array()
        .unwrap_or_else(|| panic!("no buckets in {listed}"))
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert_eq!(names, [bucket.as_str()], "{listed}");
    assert!(
        listed["content"][0]["text"].is_string(),
        "text content for text-only clients: {listed}"
    );

    let read = gateway_invoke(
        &emulator,
        "get_object",
        &json!({"bucket": bucket, "key": "gw/hello.txt"}),
    )
    .await;
    assert_ne!(read["isError"], true, "{read}");
    assert_eq!(read["structuredContent"]["text"], text, "{read}");

    // The same dispatch as MCP clients get: the schema check names the field...
    let bad = gateway_invoke(&emulator, "get_object", &json!({"bucket": bucket})).await;
    assert_eq!(bad["isError"], true, "{bad}");
    assert!(
        bad["content"][0]["text"].as_str().unwrap_or_default().contains("key"),
        "{bad}"
    );
    // ...tools gated off are refused, naming the flag, and unknown ones are an error result.
    let gated = gateway_invoke(
        &emulator,
        "put_object",
        &json!({"bucket": bucket, "key": "x", "text": "y"}),
    )
    .await;
    assert_eq!(gated["isError"], true, "{gated}");
    assert!(gated.to_string().contains("--allow-writes"), "{gated}");
    let unknown = gateway_invoke(&emulator, "no_such_tool", &json!({})).await;
    assert_eq!(unknown["isError"], true, "{unknown}");
    assert!(
        unknown["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("no_such_tool"),
        "{unknown}"
    );

    // One audit line per call, naming the gateway as the caller and no argument value.
    let line = function
        .wait_for_line(Duration::from_secs(10), |l| {
            l.contains("\"tool call\"") && l.contains("get_object") && l.contains("\"outcome\":\"ok\"")
        })
        .await;
    let audit: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("audit line is not JSON ({e}): {line}"));
    assert_eq!(audit["caller_kind"], "gateway", "{line}");
    assert_eq!(audit["caller"], "gw-e2e-0123", "{line}");
    assert_eq!(audit["client_id"], "tgt-e2e-4567", "{line}");
    let all = function.drain();
    assert!(!all.contains("gw/hello.txt"), "an argument value was logged:\n{all}");

    function.assert_running();
    emulator.proc.assert_running();
    function.kill().await;
    emulator.proc.kill().await;
}
