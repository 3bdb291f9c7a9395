//! Functions as tools: discovery from the (fake) Lambda control plane, tool definitions from a
//! file in LocalStack S3 or `--tool-schemas`, the AgentCore Gateway invocation contract, and
//! `notifications/tools/list_changed` when the set changes. The MCP client here records
//! list_changed notifications, which the rig's client does not expose.

use std::{
    collections::HashMap,
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use aws_mcp_tests::{
    Service,
    emulators::{NOWHERE, aws_env, clear_aws_env},
    fake::{Fake, Reply, Request},
    server_bin, unique,
};
use base64::Engine;
use rmcp::{
    RoleClient, ServiceExt,
    model::{CallToolRequestParams, CallToolResult, Tool},
    service::{NotificationContext, RunningService},
    transport::TokioChildProcess,
};
use serde_json::{Value, json};

use crate::support::config;

const BIN: &str = "aws-lambda-mcp";

/// An MCP client that counts `notifications/tools/list_changed`.
#[derive(Clone, Default)]
struct Watcher {
    changes: Arc<AtomicUsize>,
}

impl rmcp::ClientHandler for Watcher {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changes.fetch_add(1, Ordering::SeqCst);
    }
}

struct Session {
    client: RunningService<RoleClient, Watcher>,
    changes: Arc<AtomicUsize>,
}

impl Session {
    /// The server with Lambda at `fake` and S3 at LocalStack.
    async fn start(fake: &Fake, args: &[&str]) -> Self {
        aws_mcp_tests::require(&[Service::S3]);
        let mut cmd = tokio::process::Command::new(server_bin(BIN));
        clear_aws_env(&mut cmd);
        cmd.args(args)
            .envs(aws_env(
                &[(Service::Lambda, fake.url()), (Service::S3, Service::S3.endpoint())],
                NOWHERE,
            ))
            .env("RUST_BACKTRACE", "0");
        let stderr = if std::env::var_os("E2E_SERVER_LOGS").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        };
        let (transport, _) = TokioChildProcess::builder(cmd).stderr(stderr).spawn().expect("spawn");
        let watcher = Watcher::default();
        let changes = watcher.changes.clone();
        let client = watcher.serve(transport).await.expect("initialize");
        Self { client, changes }
    }

    async fn tools(&self) -> Vec<Tool> {
        self.client.list_all_tools().await.expect("tools/list")
    }

    async fn names(&self) -> Vec<String> {
        self.tools().await.iter().map(|t| t.name.to_string()).collect()
    }

    /// Wait until tools/list satisfies `pred` (at most 20 s).
    async fn wait_for(&self, what: &str, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
        for _ in 0..100 {
            let names = self.names().await;
            if pred(&names) {
                return names;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("tools/list never showed {what}: {:?}", self.names().await);
    }

    /// Wait until more than `seen` list_changed notifications arrived.
    async fn wait_for_change(&self, seen: usize) -> usize {
        for _ in 0..100 {
            let n = self.changes.load(Ordering::SeqCst);
            if n > seen {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("no notifications/tools/list_changed after {seen}");
    }

    async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        let args = args.as_object().cloned().unwrap_or_default();
        self.client
            .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
            .await
            .unwrap_or_else(|e| panic!("{tool}: {e}"))
    }
}

/// A fake Lambda control and data plane whose function list and tags the test changes.
struct FakeLambda {
    fake: Fake,
    functions: Arc<Mutex<Vec<String>>>,
}

impl FakeLambda {
    async fn start(functions: &[&str], tags: HashMap<String, Value>, invoke: fn(&str, &Request) -> Reply) -> Self {
        let fake = Fake::start().await;
        let list: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(functions.iter().map(|s| (*s).to_owned()).collect()));
        let l = list.clone();
        fake.on_json("ListFunctions", "GET /2015-03-31/functions", move |_: &Request| {
            let names = l.lock().unwrap().clone();
            Reply::json(json!({"Functions": names.iter().map(|n| config(n, 3, "Active")).collect::<Vec<_>>()}))
        });
        fake.on_json("ListTags", "GET /2017-03-31/tags/{arn}", move |r: &Request| {
            let arn = r.param("arn").unwrap_or_default();
            let name = arn.rsplit(':').next().unwrap_or_default();
            Reply::json(json!({"Tags": tags.get(name).cloned().unwrap_or(json!({}))}))
        });
        fake.on_json(
            "GetFunctionConfiguration",
            "GET /2015-03-31/functions/{name}/configuration",
            |r: &Request| {
                let name = r
                    .param("name")
                    .unwrap_or_default()
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                Reply::json(config(&name, 3, "Active"))
            },
        );
        fake.on_json(
            "Invoke",
            "POST /2015-03-31/functions/{name}/invocations",
            move |r: &Request| {
                let name = r
                    .param("name")
                    .unwrap_or_default()
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                invoke(&name, r)
            },
        );
        Self { fake, functions: list }
    }

    fn set(&self, functions: &[&str]) {
        *self.functions.lock().unwrap() = functions.iter().map(|s| (*s).to_owned()).collect();
    }
}

/// The client context a request carried, decoded.
fn client_context(r: &Request) -> Value {
    let raw = r.header("X-Amz-Client-Context").expect("a client context");
    let bytes = base64::engine::general_purpose::STANDARD.decode(raw).expect("base64");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// Answers with the tool name it was called as and the event it got, like a Gateway target.
fn gateway_echo(_name: &str, r: &Request) -> Reply {
    let tool = client_context(r)["custom"]["bedrockAgentCoreToolName"].clone();
    Reply::json(json!({"tool": tool, "event": r.json()}))
}

#[tokio::test]
async fn gateway_tools_from_an_s3_schema_receive_their_tool_name() {
    let schema = json!({"inlinePayload": [
        {"name": "get_forecast", "description": "Forecast for a city",
         "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}},
        {"name": "get_alerts", "description": "Weather alerts", "inputSchema": {"type": "object", "properties": {}}},
    ]});
    let body = schema.to_string();
    let bucket =
        aws_mcp_tests::fixtures::s3::bucket_with(&[("tools/weather.json", body.as_bytes(), "application/json")]).await;
    let weather = unique("weather");
    let tags = HashMap::from([(
        weather.clone(),
        json!({"mcp:tool-schema": format!("s3://{bucket}/tools/weather.json"), "mcp:read-only": "true"}),
    )]);
    let lambda = FakeLambda::start(&[&weather], tags, gateway_echo).await;
    let s = Session::start(
        &lambda.fake,
        &[
            "--allow-invoke",
            "--function-tools",
            "--tools-refresh-secs",
            "1",
            "--function",
            &weather,
        ],
    )
    .await;
    let forecast = format!("{weather}___get_forecast");
    let alerts = format!("{weather}___get_alerts");
    s.wait_for("the weather tools", |n| n.contains(&forecast) && n.contains(&alerts))
        .await;

    let tool = s.tools().await.into_iter().find(|t| t.name == forecast).unwrap();
    let a = tool.annotations.clone().unwrap();
    assert_eq!((a.read_only_hint, a.destructive_hint), (Some(true), Some(false)));
    assert_eq!(tool.input_schema["properties"]["city"]["type"], "string");
    assert_eq!(tool.description.as_deref(), Some("Forecast for a city"));

    let r = s.call(&forecast, json!({"city": "Paris", "days": 2})).await;
    assert_ne!(r.is_error, Some(true), "{r:?}");
    let out = r.structured_content.unwrap();
    assert_eq!(out["result"]["tool"], forecast.as_str());
    assert_eq!(out["result"]["event"], json!({"city": "Paris", "days": 2}));
    let sent = lambda.fake.requests_for("Invoke");
    assert_eq!(
        sent[0].json(),
        &json!({"city": "Paris", "days": 2}),
        "the bare arguments are the event"
    );
    let ctx = client_context(&sent[0]);
    assert_eq!(ctx["custom"]["bedrockAgentCoreToolName"], forecast.as_str());
    assert_eq!(ctx["custom"]["bedrockAgentCoreMessageVersion"], "1.0");

    let r = s.call(&alerts, json!({})).await;
    assert_eq!(r.structured_content.unwrap()["result"]["tool"], alerts.as_str());

    // The definition's schema is enforced before anything is sent.
    let r = s.call(&forecast, json!({"days": 2})).await;
    assert_eq!(r.is_error, Some(true));
    assert_eq!(r.structured_content.unwrap()["error"]["field"], "city");
    assert_eq!(lambda.fake.requests_for("Invoke").len(), 2);
    let r = s.call(&forecast, json!({"city": "Paris", "region": "eu-west-1"})).await;
    assert_eq!(r.structured_content.unwrap()["error"]["field"], "region");
}

#[tokio::test]
async fn new_and_deleted_functions_appear_without_a_restart_with_list_changed() {
    let lambda = FakeLambda::start(&["inventory"], HashMap::new(), gateway_echo).await;
    let s = Session::start(
        &lambda.fake,
        &["--allow-invoke", "--function-tools", "--tools-refresh-secs", "1"],
    )
    .await;
    let names = s.wait_for("inventory", |n| n.contains(&"inventory".to_owned())).await;
    assert!(
        names.contains(&"list_functions".to_owned()),
        "static tools stay: {names:?}"
    );
    let seen = s.changes.load(Ordering::SeqCst);

    lambda.set(&["inventory", "greeter"]);
    let seen = s.wait_for_change(seen).await;
    assert!(s.names().await.contains(&"greeter".to_owned()));
    // A function without definitions takes an open object: the arguments are its event.
    let r = s.call("greeter", json!({"name": "Ada"})).await;
    assert_ne!(r.is_error, Some(true), "{r:?}");
    let sent = lambda.fake.requests_for("Invoke");
    assert_eq!(sent.last().unwrap().json(), &json!({"name": "Ada"}));
    assert_eq!(
        client_context(sent.last().unwrap())["custom"]["bedrockAgentCoreToolName"],
        "greeter___greeter"
    );

    lambda.set(&["greeter"]);
    s.wait_for_change(seen).await;
    assert!(!s.names().await.contains(&"inventory".to_owned()));
    let gone = s
        .client
        .call_tool(CallToolRequestParams::new("inventory").with_arguments(Default::default()))
        .await;
    assert!(gone.is_err() || gone.is_ok_and(|r| r.is_error == Some(true)));
}

/// `calc` fails like a Python function dividing by zero.
fn calc_fails(_name: &str, _r: &Request) -> Reply {
    Reply::json(json!({"errorType": "ZeroDivisionError", "errorMessage": "division by zero", "stackTrace": []}))
        .header("X-Amz-Function-Error", "Unhandled")
        .header(
            "X-Amz-Log-Result",
            &base64::engine::general_purpose::STANDARD.encode("START\nTraceback: ZeroDivisionError\nEND\n"),
        )
}

#[tokio::test]
async fn a_schema_file_and_expose_tag_only_choose_the_tools_and_errors_carry_the_log() {
    let file = std::env::temp_dir().join(format!("{}.json", unique("tool-schemas")));
    let defs = json!({"calc": [{"name": "divide", "description": "Divides a by b",
        "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}}]});
    std::fs::write(&file, defs.to_string()).unwrap();
    let tags = HashMap::from([
        ("calc".to_owned(), json!({"mcp:expose": "true"})),
        ("quiet".to_owned(), json!({"mcp:expose": "false"})),
    ]);
    let lambda = FakeLambda::start(&["calc", "hidden", "quiet"], tags, calc_fails).await;
    let path = file.to_string_lossy().to_string();
    let s = Session::start(
        &lambda.fake,
        &[
            "--allow-invoke",
            "--function-tools",
            "--expose-tag-only",
            "--tool-schemas",
            &path,
        ],
    )
    .await;
    let names = s
        .wait_for("calc___divide", |n| n.contains(&"calc___divide".to_owned()))
        .await;
    assert!(
        !names.iter().any(|n| n.contains("hidden") || n.contains("quiet")),
        "{names:?}"
    );
    let tool = s.tools().await.into_iter().find(|t| t.name == "calc___divide").unwrap();
    let a = tool.annotations.unwrap();
    assert_eq!((a.read_only_hint, a.destructive_hint), (Some(false), Some(true)));

    let r = s.call("calc___divide", json!({"a": 1, "b": 0})).await;
    assert_eq!(r.is_error, Some(true));
    let text = aws_mcp_tests::text(&r);
    assert!(
        text.contains("ZeroDivisionError: division by zero") && text.contains("Traceback"),
        "{text}"
    );
    std::fs::remove_file(&file).ok();
}
