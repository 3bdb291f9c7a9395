//! `aws-s3-mcp` over its other two transports, the same binary as the stdio tests:
//! Streamable HTTP (`--transport http`) and AWS Lambda (auto-selected by `AWS_LAMBDA_RUNTIME_API`,
//! run under cargo-lambda's Lambda runtime emulator). LocalStack is behind both.
//!
//! The Lambda tests need cargo-lambda (`localstack/install.sh --with-cargo-lambda`); without it
//! they fail and say so.

use std::{future::Future, time::Duration};

use aws_mcp_tests::{HttpServer, LambdaEmulator, Service, fixtures::s3::bucket_named, require, text, unique};
use rmcp::{
    RoleClient, ServiceExt,
    model::CallToolRequestParams,
    service::RunningService,
    transport::{StreamableHttpClientTransport, streamable_http_client::StreamableHttpClientTransportConfig},
};
use serde_json::{Value, json};

const BIN: &str = "aws-s3-mcp";
const KEY: &str = "notes/hello.txt";
const TEXT: &str = "Hello from LocalStack, read through MCP.\nSecond line: ünïcödé ✓\n";
const ACCEPT: &str = "application/json, text/event-stream";

/// Fail instead of hanging when a transport misbehaves.
async fn within<T>(secs: u64, what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {secs} s"))
}

/// A fresh bucket holding one text object, made with the SDK.
async fn bucket_with_text() -> String {
    bucket_named("e2e-tr", &[(KEY, TEXT.as_bytes(), "text/plain; charset=utf-8")]).await
}

/// What every transport must give an MCP client: the right server, its read-only tools, and a
/// real tool call against LocalStack.
async fn check_session(client: &RunningService<RoleClient, ()>, bucket: &str) {
    let info = client.peer_info().expect("peer info after initialize");
    let server = info.server_info.as_ref().expect("serverInfo");
    assert_eq!(server.name, BIN);

    let mut tools: Vec<String> = within(30, "tools/list", client.list_all_tools())
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    tools.sort();
    for t in ["get_object", "list_buckets", "list_objects"] {
        assert!(tools.iter().any(|n| n == t), "{t} missing from {tools:?}");
    }
    assert!(
        !tools.iter().any(|n| n == "put_object"),
        "write tools must not be listed without --allow-writes: {tools:?}"
    );

    let args = json!({"bucket": bucket, "key": KEY});
    let r = within(
        30,
        "tools/call get_object",
        client.call_tool(CallToolRequestParams::new("get_object").with_arguments(args.as_object().unwrap().clone())),
    )
    .await
    .expect("tools/call get_object");
    assert_ne!(r.is_error, Some(true), "get_object failed: {}", text(&r));
    aws_mcp_tests::scan::answer("HTTP session", &serde_json::to_string(&r).unwrap_or_default());
    let out = r.structured_content.expect("structured content");
    assert_eq!(out["text"], TEXT, "{out}");
    assert_eq!(out["size"], TEXT.len());
}

fn initialize_body() -> String {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "transports-e2e", "version": "0"}}
    })
    .to_string()
}

/// POST an `initialize` to `url` with extra headers; the response.
async fn post_initialize(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", ACCEPT)
        .body(initialize_body());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    within(30, "POST initialize", req.send())
        .await
        .expect("POST initialize")
}

async fn status_of(url: &str, headers: &[(&str, &str)]) -> u16 {
    post_initialize(url, headers).await.status().as_u16()
}

// ---------------------------------------------------------------------------------------------
// Streamable HTTP

#[tokio::test]
async fn streamable_http_serves_real_tools_to_an_rmcp_client() {
    require(&[Service::S3]);
    let bucket = bucket_with_text().await;
    let mut server = HttpServer::start(BIN, &[], &[]).await;
    assert!(server.url.starts_with("http://127.0.0.1:"), "{}", server.url);

    let client = within(
        30,
        "initialize over HTTP",
        ().serve(StreamableHttpClientTransport::from_uri(server.url.as_str())),
    )
    .await
    .expect("MCP initialize over Streamable HTTP");
    check_session(&client, &bucket).await;
    // A second, concurrent session is independent of the first.
    let second = within(
        30,
        "second initialize",
        ().serve(StreamableHttpClientTransport::from_uri(server.url.as_str())),
    )
    .await
    .expect("second session");
    check_session(&second, &bucket).await;

    let _ = client.cancel().await;
    let _ = second.cancel().await;
    server.proc.assert_running();
    server.proc.kill().await;
}

#[tokio::test]
async fn streamable_http_health_endpoint_and_host_and_origin_guards() {
    require(&[Service::S3]);
    let mut server = HttpServer::start(BIN, &["--allowed-origin", "https://app.example.com:443"], &[]).await;
    let http = reqwest::Client::new();

    let health = http
        .get(format!("{}/health", server.base))
        .send()
        .await
        .expect("GET /health");
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let other = http.get(format!("{}/elsewhere", server.base)).send().await.unwrap();
    assert_eq!(other.status().as_u16(), 404);

    // A plain client (no Origin) on a loopback Host is served.
    let ok = post_initialize(&server.url, &[]).await;
    assert_eq!(ok.status().as_u16(), 200);
    assert!(
        ok.headers().contains_key("mcp-session-id"),
        "stateful by default over HTTP"
    );
    // Ending the session: 204, as the Python SDK expects (rmcp itself answers 202), then the id is gone.
    let id = ok.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let ended = http
        .delete(&server.url)
        .header("mcp-session-id", &id)
        .send()
        .await
        .expect("DELETE /mcp");
    assert_eq!(ended.status().as_u16(), 204);
    let again = http
        .delete(&server.url)
        .header("mcp-session-id", &id)
        .send()
        .await
        .expect("DELETE /mcp again");
    assert_ne!(again.status().as_u16(), 204, "an ended session is not ended twice");

    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host.
    assert_eq!(status_of(&server.url, &[("host", "evil.example")]).await, 403);
    assert_eq!(status_of(&server.url, &[("host", "evil.example:80")]).await, 403);
    // Browsers: only listed Origins may call.
    assert_eq!(status_of(&server.url, &[("origin", "https://evil.example")]).await, 403);
    assert_eq!(status_of(&server.url, &[("origin", "http://127.0.0.1")]).await, 403);
    assert_eq!(
        status_of(&server.url, &[("origin", "https://app.example.com")]).await,
        200
    );

    server.proc.assert_running();
    server.proc.kill().await;
}

#[tokio::test]
async fn streamable_http_requires_the_bearer_token_when_one_is_configured() {
    require(&[Service::S3]);
    let bucket = bucket_with_text().await;
    let mut server = HttpServer::start(BIN, &[], &[("MCP_AUTH_TOKEN", "s3cret")]).await;

    let denied = post_initialize(&server.url, &[]).await;
    assert_eq!(denied.status().as_u16(), 401);
    assert_eq!(
        denied.headers().get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    assert_eq!(status_of(&server.url, &[("authorization", "Bearer wrong")]).await, 401);
    assert_eq!(status_of(&server.url, &[("authorization", "s3cret")]).await, 401);
    assert_eq!(status_of(&server.url, &[("authorization", "Bearer s3cret")]).await, 200);
    // Health checks (load balancers) need no token.
    let health = reqwest::get(format!("{}/health", server.base)).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);

    // An rmcp client without the token cannot connect...
    let refused = within(
        30,
        "initialize without token",
        ().serve(StreamableHttpClientTransport::from_uri(server.url.as_str())),
    )
    .await;
    assert!(refused.is_err(), "initialize without the token must fail");
    // ...and one configured with it works end to end.
    let config = StreamableHttpClientTransportConfig::with_uri(server.url.as_str()).auth_header("s3cret");
    let client = within(
        30,
        "initialize with token",
        ().serve(StreamableHttpClientTransport::from_config(config)),
    )
    .await
    .expect("MCP initialize with the bearer token");
    check_session(&client, &bucket).await;
    // The audit line names the caller the token check established.
    let line = server
        .proc
        .wait_for_line(Duration::from_secs(10), |l| {
            l.contains("tool call") && l.contains("get_object")
        })
        .await;
    assert!(
        line.contains("caller_kind=\"bearer\"") || line.contains("caller_kind=bearer"),
        "{line}"
    );

    let _ = client.cancel().await;
    server.proc.assert_running();
    server.proc.kill().await;
}

// ---------------------------------------------------------------------------------------------
// AWS Lambda, under `cargo lambda watch --only-lambda-apis`

#[tokio::test]
async fn lambda_function_url_serves_mcp_statelessly_under_cargo_lambda() {
    require(&[Service::S3]);
    let bucket = bucket_with_text().await;
    let mut emulator = LambdaEmulator::start().await;
    let mut function = emulator.start_function(BIN, &[], &[]);
    let url = emulator.function_url("/mcp");

    // Stateless JSON mode: a JSON body, no session id.
    let resp = post_initialize(&url, &[]).await;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        !resp.headers().contains_key("mcp-session-id"),
        "Lambda must be stateless"
    );
    let body = resp.text().await.unwrap();
    aws_mcp_tests::scan::answer("Function URL", &body);
    assert_eq!(status, 200, "{body}\nfunction output:\n{}", function.drain());
    assert!(content_type.starts_with("application/json"), "{content_type}: {body}");
    let init: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(init["result"]["serverInfo"]["name"], BIN, "{init}");

    // The rmcp client: initialize, list tools, a real call against LocalStack.
    let client = within(
        60,
        "initialize via the function URL",
        ().serve(StreamableHttpClientTransport::from_uri(url.as_str())),
    )
    .await
    .unwrap_or_else(|e| {
        panic!(
            "MCP initialize via the function URL: {e}\nfunction output:\n{}",
            function.drain()
        )
    });
    check_session(&client, &bucket).await;
    let _ = client.cancel().await;

    function.assert_running();
    emulator.proc.assert_running();
    function.kill().await;
    emulator.proc.kill().await;
}

/// A Lambda Function URL event (API Gateway HTTP API payload 2.0) carrying one JSON-RPC request.
fn function_url_event(body: &Value, headers: &[(&str, &str)]) -> Value {
    authorized_event(body, headers, None)
}

/// [`function_url_event`] with the `requestContext.authorizer` the front door fills in: `iam` for a
/// SigV4-signed call to an `AWS_IAM` Function URL, `jwt` behind an HTTP API JWT authorizer.
fn authorized_event(body: &Value, headers: &[(&str, &str)], authorizer: Option<Value>) -> Value {
    let mut h = json!({
        "content-type": "application/json",
        "accept": ACCEPT,
        "host": "abcdefghij.lambda-url.us-east-1.on.aws",
    });
    for (k, v) in headers {
        h[*k] = json!(v);
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/mcp",
        "rawQueryString": "",
        "headers": h,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdefghij",
            "domainName": "abcdefghij.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abcdefghij",
            "http": {"method": "POST", "path": "/mcp", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "transports-e2e"},
            "requestId": unique("req"),
            "routeKey": "$default",
            "stage": "$default",
            "time": "21/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1_795_262_400_000u64,
            "authorizer": authorizer
        },
        "body": body.to_string(),
        "isBase64Encoded": false
    })
}

/// Invoke the function with an event; the handler's result (`statusCode`, `headers`, `body`).
async fn invoke(emulator: &LambdaEmulator, event: &Value) -> Value {
    let resp = within(
        60,
        "Invoke",
        reqwest::Client::new()
            .post(emulator.invoke_url())
            .header("content-type", "application/json")
            .body(event.to_string())
            .send(),
    )
    .await
    .expect("Invoke API");
    assert_eq!(resp.status().as_u16(), 200, "Invoke API status");
    let body = resp.text().await.unwrap();
    aws_mcp_tests::scan::answer("Lambda Invoke", &body);
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("Invoke result is not JSON ({e}): {body}"))
}

#[tokio::test]
async fn lambda_invoke_api_answers_function_url_events_and_checks_the_token() {
    require(&[Service::S3]);
    let bucket = bucket_with_text().await;
    let mut emulator = LambdaEmulator::start().await;
    let mut function = emulator.start_function(BIN, &[], &[("MCP_AUTH_TOKEN", "s3cret")]);
    let auth = [("authorization", "Bearer s3cret")];

    // Stateless: a tools/call needs no initialize first.
    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                      "params": {"name": "get_object", "arguments": {"bucket": bucket, "key": KEY}}});
    let out = invoke(&emulator, &function_url_event(&call, &auth)).await;
    assert_eq!(out["statusCode"], 200, "{out}\nfunction output:\n{}", function.drain());
    let rpc: Value = serde_json::from_str(out["body"].as_str().expect("body string")).expect("JSON-RPC body");
    assert_eq!(rpc["id"], 7, "{rpc}");
    let result = &rpc["result"];
    assert_ne!(result["isError"], true, "{rpc}");
    assert_eq!(result["structuredContent"]["text"], TEXT, "{rpc}");

    let list = json!({"jsonrpc": "2.0", "id": 8, "method": "tools/list", "params": {}});
    let out = invoke(&emulator, &function_url_event(&list, &auth)).await;
    let rpc: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
    let tools = rpc["result"]["tools"].as_array().expect("tools");
    assert!(tools.iter().any(|t| t["name"] == "get_object"), "{rpc}");

    // MCP_AUTH_TOKEN guards Lambda too (for Function URLs with AuthType NONE).
    let out = invoke(&emulator, &function_url_event(&list, &[])).await;
    assert_eq!(out["statusCode"], 401, "{out}");
    let out = invoke(
        &emulator,
        &function_url_event(&list, &[("authorization", "Bearer nope")]),
    )
    .await;
    assert_eq!(out["statusCode"], 401, "{out}");

    function.assert_running();
    emulator.proc.assert_running();
    function.kill().await;
    emulator.proc.kill().await;
}

// ---------------------------------------------------------------------------------------------
// Who called what: the audit line names the caller the front door established

/// The audit line (JSON, as on Lambda) of the next call of `tool` with outcome `ok`.
async fn audit_line(function: &mut aws_mcp_tests::Proc, tool: &str) -> Value {
    let line = function
        .wait_for_line(Duration::from_secs(10), |l| {
            l.contains("\"tool call\"") && l.contains(&format!("\"tool\":\"{tool}\""))
        })
        .await;
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("audit line is not JSON ({e}): {line}"))
}

#[tokio::test]
async fn lambda_audit_lines_name_the_iam_principal_the_jwt_subject_or_bearer() {
    require(&[Service::S3]);
    let bucket = bucket_with_text().await;
    let mut emulator = LambdaEmulator::start().await;
    let mut function = emulator.start_function(BIN, &[], &[("MCP_AUTH_TOKEN", "s3cret")]);
    let auth = [("authorization", "Bearer s3cret")];
    let call = |tool: &str, args: Value| json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": tool, "arguments": args}});
    let ok = |out: &Value| {
        let rpc: Value = serde_json::from_str(out["body"].as_str().unwrap_or("null")).unwrap_or_default();
        assert_ne!(rpc["result"]["isError"], true, "{out}");
        assert!(rpc["result"]["structuredContent"].is_object(), "{out}");
    };

    // SigV4 through an AWS_IAM Function URL: the IAM principal.
    let iam = json!({"iam": {"accessKey": "ASIAEXAMPLE", "accountId": "123456789012",
                             "callerId": "AROAEXAMPLE:alice",
                             "userArn": "arn:aws:sts::123456789012:assumed-role/platform-ops/alice",
                             "userId": "AROAEXAMPLE:alice"}});
    let out = invoke(
        &emulator,
        &authorized_event(
            &call("get_object", json!({"bucket": bucket, "key": KEY})),
            &auth,
            Some(iam),
        ),
    )
    .await;
    ok(&out);
    let line = audit_line(&mut function, "get_object").await;
    assert_eq!(line["caller_kind"], "iam", "{line}");
    assert_eq!(
        line["caller"], "arn:aws:sts::123456789012:assumed-role/platform-ops/alice",
        "{line}"
    );

    // An API Gateway JWT authorizer (Cognito): subject and client id.
    let jwt = json!({"jwt": {"claims": {"sub": "5f1c-user", "client_id": "app-client-7",
                                        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x",
                                        "token_use": "access"}, "scopes": ["mcp/tools"]}});
    let out = invoke(
        &emulator,
        &authorized_event(&call("list_objects", json!({"bucket": bucket})), &auth, Some(jwt)),
    )
    .await;
    ok(&out);
    let line = audit_line(&mut function, "list_objects").await;
    assert_eq!(
        (line["caller_kind"].as_str(), line["caller"].as_str()),
        (Some("jwt"), Some("5f1c-user")),
        "{line}"
    );
    assert_eq!(line["client_id"], "app-client-7", "{line}");

    // Only the static token: "bearer".
    let out = invoke(
        &emulator,
        &function_url_event(&call("head_object", json!({"bucket": bucket, "key": KEY})), &auth),
    )
    .await;
    ok(&out);
    let line = audit_line(&mut function, "head_object").await;
    assert_eq!(
        (line["caller_kind"].as_str(), line["caller"].as_str()),
        (Some("bearer"), Some("bearer")),
        "{line}"
    );

    // Argument values are never logged, whoever calls.
    let all = function.drain();
    assert!(!all.contains(KEY), "an argument value was logged:\n{all}");

    function.assert_running();
    emulator.proc.assert_running();
    function.kill().await;
    emulator.proc.kill().await;
}

// ---------------------------------------------------------------------------------------------
// Quirks of clients in the wild

/// POST one JSON-RPC message with extra headers: the status, the response headers and the JSON-RPC
/// answer (from a JSON body or an SSE stream), or `Value::Null` when there is none.
async fn rpc(url: &str, message: &Value, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", ACCEPT)
        .body(message.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = within(30, "POST", req.send()).await.expect("POST");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = within(30, "response body", resp.text()).await.unwrap_or_default();
    aws_mcp_tests::scan::answer("HTTP", &body);
    let answer = serde_json::from_str(&body).unwrap_or_else(|_| {
        body.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .find(|v| v.get("id").is_some())
            .unwrap_or(Value::Null)
    });
    (status, headers, answer)
}

fn initialize(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": version, "capabilities": {},
                      "clientInfo": {"name": "quirks-e2e", "version": "0"}}})
}

fn get_object_call(bucket: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
           "params": {"name": "get_object", "arguments": {"bucket": bucket, "key": KEY}}})
}

fn tools_list() -> Value {
    json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {}})
}

/// The answers every HTTP-shaped transport must give the quirks: a usable `initialize` whatever
/// the header says, a duplicated header read as one, a request naming a session the server
/// does not hold served (statelessly) instead of refused, and a request whose `_meta` version
/// disagrees with the header served in the `_meta` version. `extra`: headers every request carries
/// (AgentCore's, a Host).
async fn check_quirks(url: &str, bucket: &str, extra: &[(&str, &str)]) {
    let with = |more: &[(&str, &str)]| -> Vec<(String, String)> {
        extra
            .iter()
            .chain(more.iter())
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let send = |message: Value, headers: Vec<(String, String)>| async move {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        rpc(url, &message, &h).await
    };

    // The header (2025-06-18) disagrees with the body (2025-11-25): the body negotiates.
    let (status, _, answer) = send(
        initialize("2025-11-25"),
        with(&[("mcp-protocol-version", "2025-06-18")]),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["serverInfo"]["name"], BIN, "{answer}");
    assert_eq!(answer["result"]["protocolVersion"], "2025-11-25", "{answer}");

    // The header twice on one line, on initialize...
    let (status, headers, answer) = send(
        initialize("2025-06-18"),
        with(&[("mcp-protocol-version", "2025-06-18, 2025-06-18")]),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["protocolVersion"], "2025-06-18", "{answer}");
    // ...and inside the session it opened (stateless transports open none).
    let session = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut in_session = with(&[("mcp-protocol-version", "2025-06-18, 2025-06-18")]);
    if let Some(id) = &session {
        in_session.push(("mcp-session-id".into(), id.clone()));
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let (status, _, _) = send(note, in_session.clone()).await;
        assert!(status == 200 || status == 202, "notifications/initialized: {status}");
    }
    let (status, _, answer) = send(tools_list(), in_session.clone()).await;
    assert_eq!(status, 200, "{answer}");
    let tools = answer["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools: {answer}"));
    assert!(tools.iter().any(|t| t["name"] == "get_object"), "{answer}");
    let (status, _, answer) = send(get_object_call(bucket), in_session).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["structuredContent"]["text"], TEXT, "{answer}");

    // A session this server never issued (AgentCore Runtime's, another instance's): served.
    let stranger = unique("no-such-session");
    let (status, _, answer) = send(
        get_object_call(bucket),
        with(&[
            ("mcp-protocol-version", "2025-11-25"),
            ("mcp-session-id", stranger.as_str()),
        ]),
    )
    .await;
    assert_eq!(status, 200, "unknown session refused: {answer}");
    assert_eq!(answer["result"]["structuredContent"]["text"], TEXT, "{answer}");
    let (status, _, answer) = send(tools_list(), with(&[("mcp-session-id", stranger.as_str())])).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["result"]["tools"].is_array(), "{answer}");

    // The protocol version in `_meta` (2026-07-28) disagrees with the header (2025-11-25), and the
    // SEP-2243 headers that version requires are missing, as claude.ai connectors send it: the
    // body says what the request is, and it is answered.
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {},
                      "io.modelcontextprotocol/clientInfo": {"name": "quirks-e2e", "version": "0"}});
    let mut call = get_object_call(bucket);
    call["params"]["_meta"] = meta.clone();
    let (status, _, answer) = send(call, with(&[("mcp-protocol-version", "2025-11-25")])).await;
    assert_eq!(status, 200, "header and _meta disagree: {answer}");
    assert_eq!(answer["result"]["structuredContent"]["text"], TEXT, "{answer}");
    let list = json!({"jsonrpc": "2.0", "id": 6, "method": "tools/list", "params": {"_meta": meta}});
    let (status, _, answer) = send(list, with(&[("mcp-protocol-version", "2025-06-18, 2025-06-18")])).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["result"]["tools"].is_array(), "{answer}");
}

#[tokio::test]
async fn streamable_http_tolerates_the_quirks_of_clients_in_the_wild() {
    require(&[Service::S3]);
    let bucket = bucket_with_text().await;
    let mut server = HttpServer::start(BIN, &[], &[]).await;
    check_quirks(&server.url, &bucket, &[]).await;
    // Real sessions still work as before (the fallback only takes unknown ones).
    let client = within(
        30,
        "initialize over HTTP",
        ().serve(StreamableHttpClientTransport::from_uri(server.url.as_str())),
    )
    .await
    .expect("MCP initialize over Streamable HTTP");
    check_session(&client, &bucket).await;
    let _ = client.cancel().await;
    server.proc.assert_running();
    server.proc.kill().await;
}

#[tokio::test]
async fn lambda_function_url_tolerates_the_quirks_of_clients_in_the_wild() {
    require(&[Service::S3]);
    let bucket = bucket_with_text().await;
    let mut emulator = LambdaEmulator::start().await;
    let mut function = emulator.start_function(BIN, &[], &[]);
    check_quirks(&emulator.function_url("/mcp"), &bucket, &[]).await;
    function.assert_running();
    emulator.proc.assert_running();
    function.kill().await;
    emulator.proc.kill().await;
}

// ---------------------------------------------------------------------------------------------
// Amazon Bedrock AgentCore Runtime mode

const AGENTCORE_HOST: &str = "bedrock-agentcore.us-east-1.amazonaws.com";

#[tokio::test]
async fn agentcore_runtime_mode_is_stateless_and_takes_the_runtimes_headers() {
    require(&[Service::S3]);
    let bucket = bucket_with_text().await;
    let mut server = HttpServer::start(BIN, &["--agentcore-runtime", "--allowed-host", AGENTCORE_HOST], &[]).await;
    let runtime_session = unique("agentcore-session-0123456789abcdef");
    let headers = [
        ("host", AGENTCORE_HOST),
        ("mcp-session-id", runtime_session.as_str()),
        ("x-amzn-bedrock-agentcore-runtime-session-id", runtime_session.as_str()),
    ];

    // Stateless: initialize answers JSON and opens no session; every request stands alone.
    let (status, resp_headers, answer) = rpc(&server.url, &initialize("2025-11-25"), &headers).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["serverInfo"]["name"], BIN, "{answer}");
    assert!(
        !resp_headers.contains_key("mcp-session-id"),
        "AgentCore mode must be stateless"
    );
    let content_type = resp_headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let (status, _, answer) = rpc(&server.url, &get_object_call(&bucket), &headers).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["structuredContent"]["text"], TEXT, "{answer}");
    // MCP 2026-07-28 clients: server/discover, then calls carrying their version in _meta.
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {},
                      "io.modelcontextprotocol/clientInfo": {"name": "agentcore-e2e", "version": "0"}});
    let discover = json!({"jsonrpc": "2.0", "id": 9, "method": "server/discover", "params": {"_meta": meta}});
    let mut h2026 = headers.to_vec();
    h2026.extend([
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "server/discover"),
    ]);
    let (status, _, answer) = rpc(&server.url, &discover, &h2026).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["result"].is_object(), "{answer}");

    // The quirks, with the runtime's headers on every request.
    check_quirks(&server.url, &bucket, &headers).await;

    // Only the allow-listed Host; the runtime's health path.
    let evil = [("host", "evil.example"), ("mcp-session-id", runtime_session.as_str())];
    let (status, _, _) = rpc(&server.url, &tools_list(), &evil).await;
    assert_eq!(status, 403);
    let ping = reqwest::get(format!("{}/ping", server.base)).await.expect("GET /ping");
    assert_eq!(ping.status().as_u16(), 200);

    server.proc.assert_running();
    server.proc.kill().await;

    // The runtime authenticates callers itself: a non-loopback bind needs no token here (plain
    // HTTP mode refuses it, see the CLI tests).
    let mut open = aws_mcp_tests::spawn_server(BIN, &["--agentcore-runtime", "--bind", "0.0.0.0:0"], &[]);
    open.wait_for_line(Duration::from_secs(60), |l| l.contains("listening on http://0.0.0.0:"))
        .await;
    open.assert_running();
    open.kill().await;
}
