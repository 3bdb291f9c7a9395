//! `aws-mcp-proxy` as a desktop client runs it: the real binary spoken to over stdio, forwarding to
//! a local HTTP gate started here that checks each request's SigV4 signature (re-signing it with
//! aws-sigv4 and the known test credentials) or bearer token, and passes what it accepts to a real
//! MCP server (`aws-s3-mcp` over Streamable HTTP, against LocalStack).

use std::{
    convert::Infallible,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use aws_credential_types::Credentials;
use aws_mcp_tests::HttpServer;
use aws_sigv4::{
    http_request::{SignableBody, SignableRequest, SigningSettings, sign},
    sign::v4,
};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioIo},
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const AKID: &str = "AKIDPROXYTEST0000001";
const SECRET: &str = "proxyTestSecretKey/0123456789abcdefghijkl";
const REGION: &str = "us-east-1";
const TOKEN: &str = "proxy-test-bearer-token-5f2c9a";
/// The clock skew the gate tolerates, as AWS does.
const MAX_SKEW: Duration = Duration::from_secs(300);

// ---------------------------------------------------------------------------------------------
// The gate: a hyper server that authenticates like a Function URL, then forwards.

#[derive(Clone)]
enum Check {
    SigV4 { service: &'static str },
    Bearer(&'static str),
}

/// What the gate saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    verdict: Result<(), String>,
    session: Option<String>,
    protocol: Option<String>,
    jsonrpc_method: Option<String>,
    /// Whether `X-Amz-Security-Token` (temporary credentials) was sent.
    security_token: bool,
}

struct Gate {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Gate {
    /// Listen on a free loopback port; accepted requests go to `upstream` (an MCP URL), or get a
    /// 502 when there is none.
    async fn start(check: Check, upstream: Option<String>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the gate");
        let addr = listener.local_addr().expect("gate address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(GateState {
            check,
            upstream,
            seen: seen.clone(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| state.clone().handle(req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self {
            url: format!("http://{addr}/mcp"),
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

struct GateState {
    check: Check,
    upstream: Option<String>,
    seen: Arc<Mutex<Vec<Seen>>>,
    client: Client<HttpConnector, Full<Bytes>>,
}

type GateBody = BoxBody<Bytes, hyper::Error>;

fn text_body(status: StatusCode, text: &str) -> Response<GateBody> {
    let mut r = Response::new(Full::new(Bytes::from(text.to_owned())).map_err(|n| match n {}).boxed());
    *r.status_mut() = status;
    r
}

impl GateState {
    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Response<GateBody>, Infallible> {
        let (parts, body) = req.into_parts();
        let body = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return Ok(text_body(StatusCode::BAD_REQUEST, &format!("body: {e}"))),
        };
        let verdict = match &self.check {
            Check::SigV4 { service } => verify_sigv4(&parts, &body, service),
            Check::Bearer(token) => {
                let want = format!("Bearer {token}");
                match parts.headers.get("authorization").and_then(|v| v.to_str().ok()) {
                    Some(got) if got == want => Ok(()),
                    Some(_) => Err("wrong bearer token".into()),
                    None => Err("no Authorization header".into()),
                }
            }
        };
        let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
        self.seen.lock().unwrap().push(Seen {
            method: parts.method.to_string(),
            verdict: verdict.clone(),
            session: header("mcp-session-id"),
            protocol: header("mcp-protocol-version"),
            jsonrpc_method: serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("method").and_then(Value::as_str).map(str::to_owned)),
            security_token: parts.headers.contains_key("x-amz-security-token"),
        });
        if let Err(reason) = verdict {
            let status = match self.check {
                Check::SigV4 { .. } => StatusCode::FORBIDDEN,
                Check::Bearer(_) => StatusCode::UNAUTHORIZED,
            };
            return Ok(text_body(status, &format!("{{\"Message\":\"{reason}\"}}")));
        }
        let Some(upstream) = &self.upstream else {
            return Ok(text_body(StatusCode::BAD_GATEWAY, "no upstream"));
        };
        let mut fwd = Request::builder().method(parts.method.clone()).uri(upstream.as_str());
        for (k, v) in &parts.headers {
            let name = k.as_str();
            if name != "host" && name != "authorization" && !name.starts_with("x-amz-") {
                fwd = fwd.header(k, v);
            }
        }
        let fwd = fwd.body(Full::new(body)).expect("forwarded request");
        match self.client.request(fwd).await {
            // Streamed back as it arrives: SSE answers and the GET stream pass through live.
            Ok(resp) => Ok(resp.map(|b| b.boxed())),
            Err(e) => Ok(text_body(StatusCode::BAD_GATEWAY, &format!("upstream: {e}"))),
        }
    }
}

/// Verify a SigV4 request the way AWS does: the key is known, the time is within 5 minutes, and
/// signing the received request again (same credentials, time, region and the expected service)
/// gives the same `Authorization` header.
fn verify_sigv4(parts: &http::request::Parts, body: &[u8], service: &str) -> Result<(), String> {
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    let auth = header("authorization").ok_or("no Authorization header")?;
    let fields = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not an AWS4-HMAC-SHA256 Authorization header")?;
    let field = |name: &str| {
        fields
            .split(", ")
            .find_map(|f| f.strip_prefix(name).and_then(|f| f.strip_prefix('=')))
    };
    let credential = field("Credential").ok_or("no Credential")?;
    let signed_headers = field("SignedHeaders").ok_or("no SignedHeaders")?;
    if credential.split('/').next() != Some(AKID) {
        return Err("unknown access key".into());
    }
    let signed: Vec<&str> = signed_headers.split(';').collect();
    if !signed.contains(&"host") || !signed.contains(&"x-amz-date") {
        return Err("host and x-amz-date must be signed".into());
    }
    let amz_date = header("x-amz-date").ok_or("no X-Amz-Date")?;
    let time = parse_amz_date(amz_date).ok_or("malformed X-Amz-Date")?;
    let now = SystemTime::now();
    let skew = now
        .duration_since(time)
        .or_else(|_| time.duration_since(now))
        .unwrap_or_default();
    if skew > MAX_SKEW {
        return Err(format!("request time {amz_date} is more than 5 minutes from now"));
    }
    let identity = Credentials::new(AKID, SECRET, None, None, "gate").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter(|(k, _)| signed.contains(&k.as_str()))
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    let uri = parts.uri.to_string();
    let signable = SignableRequest::new(
        parts.method.as_str(),
        &uri,
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    let mut expected = Request::new(());
    instructions.apply_to_request_http1x(&mut expected);
    let expected = expected
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or("re-signing produced no Authorization")?;
    if expected != auth {
        return Err(format!("signature does not match (credential scope {credential})"));
    }
    Ok(())
}

/// `20261130T142233Z` → a time.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    );
    let dt = aws_smithy_types::DateTime::from_str(&rfc3339, aws_smithy_types::date_time::Format::DateTime).ok()?;
    SystemTime::try_from(dt).ok()
}

// ---------------------------------------------------------------------------------------------
// The client side: the proxy as a child process, newline-delimited JSON-RPC over its stdio.

struct Proxy {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    stderr: Arc<Mutex<String>>,
    /// Messages read while waiting for something else (server notifications).
    others: Vec<Value>,
}

impl Proxy {
    /// Start the proxy as a desktop client would, with only the test credentials in its
    /// environment (no profile, no instance metadata) and debug logging, so the no-secrets check
    /// covers the chattiest level.
    fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_without(args, env, &[])
    }

    /// [`Proxy::start`] with the variables in `remove` taken out of its environment.
    fn start_without(args: &[&str], env: &[(&str, &str)], remove: &[&str]) -> Self {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_aws-mcp-proxy"));
        aws_mcp_tests::emulators::clear_aws_env(&mut cmd);
        cmd.args(args)
            .env("AWS_ACCESS_KEY_ID", AKID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("RUST_LOG", "debug")
            .env_remove("AWS_MCP_PROXY_CLOCK_SKEW_SECS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        for k in remove {
            cmd.env_remove(k);
        }
        let mut child = cmd.spawn().expect("start aws-mcp-proxy");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let sink = stderr.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                if std::env::var_os("E2E_SERVER_LOGS").is_some() {
                    eprintln!("[aws-mcp-proxy] {line}");
                }
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Self {
            child,
            stdin,
            stdout,
            stderr,
            others: Vec::new(),
        }
    }

    fn logs(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    async fn send(&mut self, msg: Value) {
        let mut line = serde_json::to_vec(&msg).unwrap();
        line.push(b'\n');
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(&line).await.expect("write to the proxy");
        stdin.flush().await.expect("flush");
    }

    /// The next message on stdout (30 s at most).
    async fn next(&mut self) -> Value {
        let line = match tokio::time::timeout(Duration::from_secs(30), self.stdout.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(other) => panic!("the proxy closed stdout ({other:?}); its log:\n{}", self.logs()),
            Err(_) => panic!("nothing on stdout within 30 s; proxy log:\n{}", self.logs()),
        };
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"))
    }

    /// The next message answering `id`; anything else read meanwhile is kept in `others`.
    async fn answer(&mut self, id: i64) -> Value {
        loop {
            let v = self.next().await;
            if v["id"] == json!(id) && (v.get("result").is_some() || v.get("error").is_some()) {
                return v;
            }
            self.others.push(v);
        }
    }

    async fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        self.answer(id).await
    }

    /// `initialize` then `notifications/initialized`; the initialize answer.
    async fn initialize(&mut self) -> Value {
        self.initialize_with(json!({})).await
    }

    async fn initialize_with(&mut self, capabilities: Value) -> Value {
        let init = self
            .request(
                1,
                "initialize",
                json!({"protocolVersion": "2025-06-18", "capabilities": capabilities,
                       "clientInfo": {"name": "proxy-e2e", "version": "0"}}),
            )
            .await;
        if init.get("result").is_some() {
            self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
                .await;
        }
        init
    }

    /// Close stdin as a client does on exit; the proxy must end cleanly and soon.
    async fn close(&mut self) {
        drop(self.stdin.take());
        let status = tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the proxy did not exit after stdin closed; log:\n{}", self.logs()))
            .expect("wait");
        assert!(status.success(), "proxy exited with {status}; log:\n{}", self.logs());
    }
}

/// A tool call's first text content parsed as JSON.
fn tool_json(answer: &Value) -> Value {
    assert!(answer["result"]["isError"] != json!(true), "tool call failed: {answer}");
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content: {answer}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("tool text is not JSON ({e}): {text}"))
}

fn bucket_names(listing: &Value) -> Vec<String> {
    listing["buckets"]
        .as_array()
        .unwrap_or_else(|| panic!("no buckets array: {listing}"))
        .iter()
        .filter_map(|b| b["name"].as_str().map(str::to_owned))
        .collect()
}

/// Handshake, tools/list and a real `list_buckets` through the proxy; returns the initialize
/// answer and the listing.
async fn session_against_s3(proxy: &mut Proxy, bucket: &str) -> (Value, Value) {
    let init = proxy.initialize().await;
    assert_eq!(
        init["result"]["serverInfo"]["name"],
        json!("aws-s3-mcp"),
        "initialize through the proxy: {init}"
    );
    let tools = proxy.request(2, "tools/list", json!({})).await;
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("tools/list: {tools}"))
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"list_buckets"), "tools/list: {names:?}");
    let call = proxy
        .request(
            3,
            "tools/call",
            json!({"name": "list_buckets", "arguments": {"prefix": bucket}}),
        )
        .await;
    let listing = tool_json(&call);
    assert_eq!(bucket_names(&listing), vec![bucket.to_owned()], "{listing}");
    (init, listing)
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sigv4_signed_session_reaches_a_real_server() {
    let server = HttpServer::start("aws-s3-mcp", &[], &[]).await;
    let bucket = aws_mcp_tests::fixtures::s3::bucket_named("proxy-sigv4", &[]).await;
    let gate = Gate::start(Check::SigV4 { service: "lambda" }, Some(server.url.clone())).await;
    // No --service: a loopback host implies nothing, so the default (lambda) is what is signed.
    let mut proxy = Proxy::start(&[&gate.url, "--region", REGION], &[]);

    let (init, _) = session_against_s3(&mut proxy, &bucket).await;
    // A ping answered while the GET stream is open: requests keep flowing alongside it.
    let ping = proxy.request(4, "ping", json!({})).await;
    assert_eq!(ping["result"], json!({}), "{ping}");
    proxy.close().await;

    let seen = gate.seen();
    let refused: Vec<&Seen> = seen.iter().filter(|s| s.verdict.is_err()).collect();
    assert!(
        refused.is_empty(),
        "the gate refused correctly signed requests: {refused:?}"
    );
    let posts: Vec<&Seen> = seen.iter().filter(|s| s.method == "POST").collect();
    let methods: Vec<Option<&str>> = posts.iter().map(|s| s.jsonrpc_method.as_deref()).collect();
    assert_eq!(
        methods,
        [
            Some("initialize"),
            Some("notifications/initialized"),
            Some("tools/list"),
            Some("tools/call"),
            Some("ping")
        ]
    );
    // The session id from initialize, and the negotiated version, ride on every later request.
    assert!(posts[0].session.is_none());
    let session = posts[1].session.clone().expect("a session id after initialize");
    let version = init["result"]["protocolVersion"].as_str().expect("protocolVersion");
    for s in &posts[1..] {
        assert_eq!(s.session.as_deref(), Some(session.as_str()), "{s:?}");
        assert_eq!(s.protocol.as_deref(), Some(version), "{s:?}");
    }
    // The stream for server-initiated messages was opened, and the session ended on exit; both signed.
    assert!(seen.iter().any(|s| s.method == "GET" && s.verdict.is_ok()), "{seen:?}");
    assert!(
        seen.iter().any(|s| s.method == "DELETE" && s.verdict.is_ok()),
        "{seen:?}"
    );

    let logs = proxy.logs();
    assert!(!logs.contains(SECRET), "the secret key reached the log:\n{logs}");
    assert!(logs.contains("forwarding stdio"), "{logs}");
}

/// Start a proxy against a gate with no upstream, send `initialize`, and return the JSON-RPC
/// error the client got and the gate's reason for refusing.
async fn refused(args: &[&str], env: &[(&str, &str)]) -> (String, String) {
    let gate = Gate::start(Check::SigV4 { service: "lambda" }, None).await;
    let mut all = vec![gate.url.as_str(), "--region", REGION];
    all.extend_from_slice(args);
    let mut proxy = Proxy::start(&all, env);
    let init = proxy.initialize().await;
    proxy.close().await;
    let message = init["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("a refused initialize must be a JSON-RPC error: {init}"))
        .to_owned();
    let seen = gate.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let reason = seen[0].verdict.clone().expect_err("the gate must refuse");
    let logs = proxy.logs();
    assert!(!logs.contains(SECRET), "the secret key reached the log:\n{logs}");
    (message, reason)
}

#[tokio::test]
async fn a_signature_with_the_wrong_key_is_refused() {
    let (message, reason) = refused(&[], &[("AWS_SECRET_ACCESS_KEY", "not-the-right-secret-key")]).await;
    assert!(message.contains("403"), "{message}");
    assert!(reason.contains("signature does not match"), "{reason}");
}

#[tokio::test]
async fn a_signature_for_the_wrong_service_is_refused() {
    let (message, reason) = refused(&["--service", "s3"], &[]).await;
    assert!(message.contains("403"), "{message}");
    assert!(
        reason.contains("signature does not match") && reason.contains("/s3/"),
        "{reason}"
    );
}

#[tokio::test]
async fn an_expired_timestamp_is_refused() {
    let (message, reason) = refused(&[], &[("AWS_MCP_PROXY_CLOCK_SKEW_SECS", "-600")]).await;
    assert!(message.contains("403"), "{message}");
    assert!(reason.contains("more than 5 minutes"), "{reason}");
}

#[tokio::test]
async fn a_bearer_token_reaches_a_real_server() {
    let server = HttpServer::start("aws-s3-mcp", &[], &[]).await;
    let bucket = aws_mcp_tests::fixtures::s3::bucket_named("proxy-bearer", &[]).await;
    let gate = Gate::start(Check::Bearer(TOKEN), Some(server.url.clone())).await;
    let mut proxy = Proxy::start(
        &[&gate.url, "--bearer-token-env", "PROXY_TEST_TOKEN"],
        &[("PROXY_TEST_TOKEN", TOKEN)],
    );
    session_against_s3(&mut proxy, &bucket).await;
    proxy.close().await;
    let seen = gate.seen();
    assert!(seen.iter().all(|s| s.verdict.is_ok()), "{seen:?}");
    let logs = proxy.logs();
    assert!(!logs.contains(TOKEN), "the bearer token reached the log:\n{logs}");
}

#[tokio::test]
async fn a_wrong_bearer_token_is_refused_and_a_missing_one_named() {
    let gate = Gate::start(Check::Bearer(TOKEN), None).await;
    let mut proxy = Proxy::start(
        &[&gate.url, "--bearer-token-env", "PROXY_TEST_TOKEN"],
        &[("PROXY_TEST_TOKEN", "someone-elses-token")],
    );
    let init = proxy.initialize().await;
    proxy.close().await;
    let message = init["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("401"), "{init}");
    assert_eq!(gate.seen()[0].verdict, Err("wrong bearer token".to_owned()));

    // An unset variable is a start-up error naming it, before anything is sent.
    let mut proxy = Proxy::start(&[&gate.url, "--bearer-token-env", "PROXY_TEST_UNSET_TOKEN"], &[]);
    let status = tokio::time::timeout(Duration::from_secs(10), proxy.child.wait())
        .await
        .expect("exits at once")
        .expect("wait");
    assert!(!status.success());
    tokio::time::sleep(Duration::from_millis(100)).await; // let the stderr reader catch up
    assert!(proxy.logs().contains("PROXY_TEST_UNSET_TOKEN"), "{}", proxy.logs());
    assert_eq!(gate.seen().len(), 1, "nothing more was sent");
}

#[tokio::test]
async fn server_requests_on_the_stream_reach_the_client_and_its_answers_go_back() {
    let server = HttpServer::start("aws-s3-mcp", &["--allow-writes", "--confirm-destructive"], &[]).await;
    let bucket = aws_mcp_tests::fixtures::s3::bucket_named("proxy-elicit", &[("go.txt", b"2", "text/plain")]).await;
    let gate = Gate::start(Check::SigV4 { service: "lambda" }, Some(server.url.clone())).await;
    let mut proxy = Proxy::start(&[&gate.url, "--region", REGION], &[]);
    let init = proxy.initialize_with(json!({"elicitation": {"form": {}}})).await;
    assert!(init.get("result").is_some(), "{init}");

    // A destructive call: the server asks the user (elicitation/create, a server-to-client request
    // on the POST's event stream) before it runs.
    proxy
        .send(json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                     "params": {"name": "delete_object", "arguments": {"bucket": bucket, "key": "go.txt"}}}))
        .await;
    let ask = proxy.next().await;
    assert_eq!(
        ask["method"],
        json!("elicitation/create"),
        "expected the server's question first: {ask}"
    );
    let message = ask["params"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("go.txt"), "{ask}");
    // The client's answer travels back through the proxy as a POST of its own.
    proxy
        .send(json!({"jsonrpc": "2.0", "id": ask["id"].clone(),
                     "result": {"action": "accept", "content": {"confirm": true}}}))
        .await;
    let done = proxy.answer(7).await;
    assert!(done["result"]["isError"] != json!(true), "{done}");
    proxy.close().await;

    let gone = aws_mcp_tests::s3()
        .await
        .head_object()
        .bucket(&bucket)
        .key("go.txt")
        .send()
        .await
        .is_err();
    assert!(gone, "the accepted delete did not run");
    let seen = gate.seen();
    assert!(seen.iter().all(|s| s.verdict.is_ok()), "{seen:?}");
}

/// A `credential_process` that counts its runs in `calls` and prints temporary test credentials
/// expiring 303 s from now.
const CREDENTIAL_PROCESS: &str = r#"echo x >> "$1"
exp=$(date -u -d '+303 seconds' +%Y-%m-%dT%H:%M:%SZ)
printf '{"Version":1,"AccessKeyId":"AKID","SecretAccessKey":"SECRET","SessionToken":"proxy-test-session-token","Expiration":"%s"}\n' "$exp"
"#;

#[tokio::test]
async fn expiring_credentials_are_resolved_again_before_they_lapse() {
    // The proxy refreshes 300 s before expiry, so these credentials are good for about 3 s.
    let dir = std::env::temp_dir().join(aws_mcp_tests::unique("proxy-creds"));
    std::fs::create_dir_all(&dir).unwrap();
    let calls = dir.join("calls");
    let script = dir.join("creds.sh");
    std::fs::write(
        &script,
        CREDENTIAL_PROCESS.replace("AKID", AKID).replace("SECRET", SECRET),
    )
    .unwrap();
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[profile proxytest]\ncredential_process = /bin/sh {} {}\n",
            script.display(),
            calls.display()
        ),
    )
    .unwrap();
    let count = || std::fs::read_to_string(&calls).map(|s| s.lines().count()).unwrap_or(0);

    let gate = Gate::start(Check::SigV4 { service: "lambda" }, None).await;
    let config_path = config.display().to_string();
    let mut proxy = Proxy::start_without(
        &[&gate.url, "--region", REGION, "--profile", "proxytest"],
        &[("AWS_CONFIG_FILE", &config_path)],
        &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
    );
    // No upstream: accepted requests are answered 502, which is all this test needs.
    proxy.request(1, "ping", json!({})).await;
    proxy.request(2, "ping", json!({})).await;
    assert_eq!(count(), 1, "fresh credentials must be reused, not resolved per request");
    tokio::time::sleep(Duration::from_secs(4)).await;
    proxy.request(3, "ping", json!({})).await;
    assert_eq!(count(), 2, "credentials near expiry were not resolved again");
    proxy.close().await;

    let seen = gate.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    for s in &seen {
        assert_eq!(s.verdict, Ok(()), "{s:?}");
        assert!(
            s.security_token,
            "temporary credentials need X-Amz-Security-Token: {s:?}"
        );
    }
    let logs = proxy.logs();
    assert!(
        !logs.contains("proxy-test-session-token") && !logs.contains(SECRET),
        "a credential reached the log:\n{logs}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
