//! [`Mcp`]: an MCP session with a server binary over stdio, through rmcp's client, with helpers
//! for the common assertions ([`Mcp::ok`], [`Mcp::err`]), cursor following ([`Mcp::pages`]) and
//! raw JSON-RPC lines for protocol-level failures ([`Mcp::call_raw`], on a [`RawSession`]).
//!
//! Where the server's AWS calls go is chosen with [`McpBuilder`]: the emulators of its services
//! (the default, from [`crate::emulators::SERVERS`]), one URL for every service (a
//! [`crate::fake::Fake`]), or a URL per service. Every other `AWS_ENDPOINT_URL*` is removed from
//! the child's environment; calls to a service nobody configured go to
//! [`crate::emulators::NOWHERE`] and fail at once.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use rmcp::{
    RoleClient, ServiceExt,
    model::{CallToolRequestParams, CallToolResult},
    service::RunningService,
    transport::TokioChildProcess,
};
use serde_json::{Value, json};

use crate::{
    emulators::{self, NOWHERE, Service},
    proc::server_bin,
};

/// How to start a server: [`Mcp::builder`].
#[derive(Clone, Debug)]
pub struct McpBuilder {
    bin: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    endpoints: Vec<(Service, String)>,
    global: Option<String>,
    require: Vec<Service>,
    explicit: bool,
    log: Option<PathBuf>,
}

impl McpBuilder {
    /// Command-line arguments (appended).
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// One environment variable for the server (set after the AWS environment, so it can override
    /// e.g. `AWS_SECRET_ACCESS_KEY`).
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_owned(), v.to_owned()));
        self
    }

    /// Point these services at their emulators (checked to be up when the server starts).
    pub fn emulators(mut self, services: &[Service]) -> Self {
        self.explicit = true;
        for s in services {
            self.endpoints.push((*s, s.endpoint()));
            self.require.push(*s);
        }
        self
    }

    /// Point one service at `url` (e.g. a [`crate::fake::Fake`]'s URL); nothing is checked.
    pub fn endpoint(mut self, service: Service, url: &str) -> Self {
        self.explicit = true;
        self.endpoints.push((service, url.to_owned()));
        self
    }

    /// Send every service's calls to `url` (`AWS_ENDPOINT_URL`, no per-service variable).
    pub fn everything_at(mut self, url: &str) -> Self {
        self.explicit = true;
        self.global = Some(url.to_owned());
        self
    }

    /// Write the server's stderr (its logs and audit lines) to `path`.
    pub fn log_to(mut self, path: &Path) -> Self {
        self.log = Some(path.to_owned());
        self
    }

    /// The complete environment the server gets (after [`emulators::clear_aws_env`]).
    fn environment(&mut self) -> Vec<(String, String)> {
        if !self.explicit {
            let services = emulators::services_of(&self.bin);
            self.endpoints = emulators::emulator_endpoints(services);
            self.require = services.to_vec();
        }
        let mut env = emulators::aws_env(&self.endpoints, self.global.as_deref().unwrap_or(NOWHERE));
        env.push(("RUST_BACKTRACE".into(), "0".into()));
        env.extend(self.env.iter().cloned());
        env
    }

    fn command(&mut self) -> tokio::process::Command {
        let env = self.environment();
        emulators::require(&self.require);
        let mut cmd = tokio::process::Command::new(server_bin(&self.bin));
        emulators::clear_aws_env(&mut cmd);
        cmd.args(&self.args).envs(env);
        cmd
    }

    /// Start the server and initialize an MCP session with it.
    pub async fn start(mut self) -> Mcp {
        let stderr = match &self.log {
            Some(path) => std::fs::File::create(path).expect("log file").into(),
            // Server logs are noise in test output unless asked for.
            None if std::env::var_os("E2E_SERVER_LOGS").is_some() => Stdio::inherit(),
            None => Stdio::null(),
        };
        let cmd = self.command();
        let (transport, _) = TokioChildProcess::builder(cmd)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.bin));
        let pid = transport.id();
        let client = ()
            .serve(transport)
            .await
            .unwrap_or_else(|e| panic!("MCP initialize with {} failed: {e}", self.bin));
        Mcp {
            client,
            pid,
            launch: self,
            raw: tokio::sync::OnceCell::new(),
        }
    }

    /// Start the server with stdin/stdout as plain lines ([`RawSession`]), initialized.
    pub async fn start_raw(mut self) -> RawSession {
        let mut cmd = self.command();
        let stderr = match &self.log {
            Some(path) => std::fs::File::options()
                .append(true)
                .create(true)
                .open(path)
                .expect("log file")
                .into(),
            None => Stdio::null(),
        };
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true);
        RawSession::start(&self.bin, cmd).await
    }
}

/// An MCP session with a server binary over stdio.
pub struct Mcp {
    /// rmcp's client, for everything the helpers do not cover (resources, completions…).
    pub client: RunningService<RoleClient, ()>,
    /// The server's process id (for `/proc/<pid>/status`).
    pub pid: Option<u32>,
    launch: McpBuilder,
    raw: tokio::sync::OnceCell<tokio::sync::Mutex<RawSession>>,
}

impl Mcp {
    /// How to start `bin` (e.g. `aws-s3-mcp`): add arguments, environment, endpoints, a log file,
    /// then [`McpBuilder::start`].
    pub fn builder(bin: &str) -> McpBuilder {
        McpBuilder {
            bin: bin.to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            endpoints: Vec::new(),
            global: None,
            require: Vec::new(),
            explicit: false,
            log: None,
        }
    }

    /// Start `bin` with `args`, pointed at the emulators of its services.
    pub async fn start(bin: &str, args: &[&str]) -> Self {
        Self::builder(bin).args(args).start().await
    }

    /// [`Mcp::start`] with extra environment variables.
    pub async fn start_with_env(bin: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Self {
        let mut b = Self::builder(bin).args(args);
        for (k, v) in extra_env {
            b = b.env(k, v);
        }
        b.start().await
    }

    /// Start `bin` with every AWS service at `endpoint` (a [`crate::fake::Fake`], say); the
    /// emulators are not needed.
    pub async fn start_against(bin: &str, args: &[&str], endpoint: &str) -> Self {
        Self::builder(bin).args(args).everything_at(endpoint).start().await
    }

    /// Like [`Mcp::start_with_env`], with the server's stderr (its logs) written to `log`.
    pub async fn start_logged(bin: &str, args: &[&str], extra_env: &[(&str, &str)], log: &Path) -> Self {
        let mut b = Self::builder(bin).args(args).log_to(log);
        for (k, v) in extra_env {
            b = b.env(k, v);
        }
        b.start().await
    }

    /// End the session and wait for the server to exit.
    pub async fn close(self) {
        let _ = self.client.cancel().await;
    }

    /// `tools/call`; panics only on a protocol-level failure.
    pub async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        self.try_call(tool, args)
            .await
            .unwrap_or_else(|e| panic!("tools/call {tool} failed at the protocol level: {e}"))
    }

    /// `tools/call`, with a protocol-level failure (an unknown tool, say) as `Err`.
    pub async fn try_call(&self, tool: &str, args: Value) -> Result<CallToolResult, rmcp::ServiceError> {
        let args = args.as_object().cloned().unwrap_or_default();
        self.client
            .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
            .await
    }

    /// Call a tool that must succeed; its structured result.
    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        let r = self.call(tool, args.clone()).await;
        assert_ne!(r.is_error, Some(true), "{tool}({args}) failed: {}", text(&r));
        r.structured_content
            .unwrap_or_else(|| panic!("{tool} returned no structured content"))
    }

    /// Call a tool that must fail; the `error` object of its structured result (or
    /// `{"summary": text}` when it has none).
    pub async fn err(&self, tool: &str, args: Value) -> Value {
        let r = self.call(tool, args.clone()).await;
        assert_eq!(
            r.is_error,
            Some(true),
            "{tool}({args}) should have failed: {}",
            text(&r)
        );
        match r.structured_content {
            Some(v) => v["error"].clone(),
            None => json!({ "summary": text(&r) }),
        }
    }

    /// Call a tool that a flag hides (e.g. a write tool without `--allow-writes`): it must be
    /// refused. The gate answers a tool error of kind `not_enabled` naming `flag`; a server whose
    /// router does not know the tool at all answers a protocol error, also accepted here (the
    /// contract tests hold servers to the tool error).
    pub async fn assert_not_enabled(&self, tool: &str, args: Value, flag: &str) {
        match self.try_call(tool, args.clone()).await {
            Err(_) => {}
            Ok(r) => {
                assert_eq!(
                    r.is_error,
                    Some(true),
                    "{tool}({args}) ran without {flag}: {}",
                    text(&r)
                );
                let e = r
                    .structured_content
                    .as_ref()
                    .map(|v| v["error"].clone())
                    .unwrap_or_default();
                assert_eq!(e["kind"], "not_enabled", "{tool}: {e}");
                assert!(
                    text(&r).contains(flag) || e.to_string().contains(flag),
                    "{tool}: does not name {flag}: {e}"
                );
            }
        }
    }

    /// The listed tools' names, sorted.
    pub async fn tool_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.tools().await.into_iter().map(|t| t.name.to_string()).collect();
        names.sort();
        names
    }

    /// `tools/list`, every page.
    pub async fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.client.list_all_tools().await.expect("tools/list")
    }

    /// Follow `tool`'s `next_cursor` from `args` to the end and return every element of
    /// `list_field` (a key of the result, or a JSON pointer such as `/items`), in order of arrival.
    /// Asserts that no cursor comes back twice (a loop) and that paging ends within 1,000 calls.
    pub async fn pages(&self, tool: &str, args: Value, list_field: &str) -> Vec<Value> {
        self.all_pages(tool, args, list_field).await.0
    }

    /// [`Mcp::pages`], also returning each call's whole result (to check per-page fields).
    pub async fn all_pages(&self, tool: &str, args: Value, list_field: &str) -> (Vec<Value>, Vec<Value>) {
        let (mut items, mut pages) = (Vec::new(), Vec::new());
        let mut seen = HashSet::new();
        let mut args = args;
        for _ in 0..1000 {
            let page = self.ok(tool, args.clone()).await;
            let list = field(&page, list_field)
                .as_array()
                .unwrap_or_else(|| panic!("{tool}: `{list_field}` is not a list in {page}"));
            items.extend(list.iter().cloned());
            let next = page["next_cursor"].clone();
            pages.push(page);
            match next.as_str() {
                Some(c) => {
                    assert!(seen.insert(c.to_owned()), "{tool} returned the cursor {c} twice");
                    args["cursor"] = json!(c);
                }
                None => return (items, pages),
            }
        }
        panic!("{tool} did not finish in 1000 pages");
    }

    /// Send one raw JSON-RPC line (anything: invalid JSON, a lone surrogate `"\ud800"`, deep
    /// nesting) to a second process of the same server started the same way, and return its
    /// answer line (the next line carrying an `id`). Panics when none comes within 10 s.
    pub async fn call_raw(&self, line: &str) -> String {
        self.try_call_raw(line)
            .await
            .unwrap_or_else(|why| panic!("{}: no answer to {line:.200}: {why}", self.launch.bin))
    }

    /// [`Mcp::call_raw`], with "no answer" (timeout, or the server closed stdout) as `Err`.
    pub async fn try_call_raw(&self, line: &str) -> Result<String, String> {
        let raw = self
            .raw
            .get_or_init(|| async { tokio::sync::Mutex::new(self.launch.clone().start_raw().await) })
            .await;
        raw.lock().await.send_raw(line, Duration::from_secs(10)).await
    }
}

fn field<'a>(v: &'a Value, f: &str) -> &'a Value {
    if f.starts_with('/') {
        v.pointer(f).unwrap_or(&Value::Null)
    } else {
        &v[f]
    }
}

/// All the text blocks of a result.
pub fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every element once: `got` has no duplicates and holds exactly `want`.
pub fn assert_each_once<T: Ord + Clone + std::fmt::Debug>(got: &[T], want: &std::collections::BTreeSet<T>) {
    let set: std::collections::BTreeSet<T> = got.iter().cloned().collect();
    assert_eq!(set.len(), got.len(), "duplicates among {} items", got.len());
    assert_eq!(&set, want);
}

/// A minimal JSON-RPC client over a server's stdio: writes request lines, reads lines until the
/// answer, parses it once into a `Value` (what a JavaScript client's `JSON.parse` does). For raw
/// protocol tests ([`Mcp::call_raw`]) and the benchmark (no client-library cost in the figures).
/// Start one with [`McpBuilder::start_raw`]; the server is killed on drop.
pub struct RawSession {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    next_id: u64,
    /// What `initialize` answered.
    pub initialize: Value,
}

impl RawSession {
    async fn start(bin: &str, mut cmd: tokio::process::Command) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
        let stdin = child.stdin.take().expect("stdin");
        let stdout = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut s = Self {
            child,
            stdin,
            stdout,
            next_id: 0,
            initialize: Value::Null,
        };
        s.initialize = s
            .request(
                "initialize",
                json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "e2e-raw", "version": "0"}}),
            )
            .await;
        s.notify("notifications/initialized", json!({})).await;
        s
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Write one line (a newline is added).
    pub async fn send_line(&mut self, line: &str) {
        use tokio::io::AsyncWriteExt;
        let mut line = line.to_owned();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .expect("write to the server's stdin");
        self.stdin.flush().await.ok();
    }

    /// A notification (no answer).
    pub async fn notify(&mut self, method: &str, params: Value) {
        self.send_line(&json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string())
            .await;
    }

    /// A request; its whole answer (`result` or `error`).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send_line(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string())
            .await;
        loop {
            let line = self
                .stdout
                .next_line()
                .await
                .expect("read stdout")
                .expect("server closed stdout");
            let msg: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if msg["id"] == id {
                return msg;
            }
        }
    }

    /// `tools/call` that must not be a tool error; the whole answer.
    pub async fn call(&mut self, tool: &str, args: &Value) -> Value {
        let r = self
            .request("tools/call", json!({"name": tool, "arguments": args}))
            .await;
        assert_ne!(r["result"]["isError"], true, "{tool}: {r}");
        r
    }

    /// Write `line` as is and return the next line that answers a request (has an `id`, whatever
    /// its value), skipping notifications.
    pub async fn send_raw(&mut self, line: &str, timeout: Duration) -> Result<String, String> {
        self.send_line(line).await;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.stdout.next_line()).await {
                Err(_) => return Err(format!("no answer within {timeout:?}")),
                Ok(Err(e)) => return Err(format!("reading stdout: {e}")),
                Ok(Ok(None)) => return Err(format!("the server closed stdout ({:?})", self.child.try_wait())),
                Ok(Ok(Some(answer))) => {
                    let is_answer = serde_json::from_str::<Value>(&answer)
                        .map(|v| v.get("id").is_some())
                        .unwrap_or(true);
                    if is_answer {
                        return Ok(answer);
                    }
                }
            }
        }
    }
}
