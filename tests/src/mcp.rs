//! [`Mcp`]: an MCP session with a server binary over stdio, through rmcp's client, with helpers
//! for the common assertions ([`Mcp::ok`], [`Mcp::err`]), cursor following ([`Mcp::pages`]) and
//! raw JSON-RPC lines for protocol-level failures ([`Mcp::call_raw`], on a [`RawSession`]).
//!
//! Where the server's AWS calls go is chosen with [`McpBuilder`]: the emulators of its services
//! (the default, from [`crate::emulators::SERVERS`]), one URL for every service (a
//! [`crate::fake::Fake`]), or a URL per service. Every other `AWS_ENDPOINT_URL*` is removed from
//! the child's environment; calls to a service nobody configured go to
//! [`crate::emulators::NOWHERE`] and fail at once.
//!
//! Every line the server writes passes the secret scan ([`crate::scan`]): stdout is read by the
//! rig and handed on to rmcp's client (or to [`RawSession`]) only after it was scanned, stderr is
//! read line by line (or tailed from the log file). A hit panics in the call that caused it, or
//! when the session closes or is dropped.

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
};
use serde_json::{Value, json};

use crate::{
    emulators::{self, NOWHERE, Service},
    proc::{StderrScan, server_bin},
    scan::{self, Watch},
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
    collect_hits: bool,
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

    /// Keep secret-scan hits for [`Mcp::take_scan_hits`] instead of failing the call that caused
    /// them (a test that makes a server leak on purpose, to prove the scan sees it). Hits still
    /// not taken when the session ends fail the test.
    pub fn collect_scan_hits(mut self) -> Self {
        self.collect_hits = true;
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
        let mut endpoints = self.endpoints.clone();
        scan::tap_sts(&mut endpoints);
        let mut env = emulators::aws_env(&endpoints, self.global.as_deref().unwrap_or(NOWHERE));
        // Distinctive, so the scan can tell it anywhere (the emulators accept any key).
        env.push(("AWS_SECRET_ACCESS_KEY".into(), scan::RIG_SECRET_ACCESS_KEY.into()));
        env.push(("RUST_BACKTRACE".into(), "0".into()));
        env.extend(self.env.iter().cloned());
        env
    }

    /// The command, and the scan for the process it starts.
    fn command(&mut self) -> (tokio::process::Command, Watch) {
        let env = self.environment();
        emulators::require(&self.require);
        let watch = Watch::new(&self.bin, &self.args, &env);
        let mut cmd = tokio::process::Command::new(server_bin(&self.bin));
        emulators::clear_aws_env(&mut cmd);
        cmd.args(&self.args).envs(env);
        (cmd, watch)
    }

    /// Where the server's stderr goes: the log file when asked for (tailed by the scan), else a
    /// pipe the scan reads (echoed when `E2E_SERVER_LOGS` is set).
    fn stderr(&self, cmd: &mut tokio::process::Command, watch: &Watch, append: bool) -> StderrScan {
        match &self.log {
            Some(path) => {
                let file = std::fs::File::options()
                    .write(true)
                    .append(append)
                    .truncate(!append)
                    .create(true)
                    .open(path)
                    .expect("log file");
                cmd.stderr(file);
                StderrScan::tail(path, watch)
            }
            None => StderrScan::pipe(cmd, &self.bin, watch),
        }
    }

    /// Start the server and initialize an MCP session with it.
    pub async fn start(mut self) -> Mcp {
        let (mut cmd, watch) = self.command();
        let stderr = self.stderr(&mut cmd, &watch, false);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).kill_on_drop(true);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {}: {e}", self.bin));
        // The parent's copy of the stderr pipe goes with the command, so the reader sees EOF.
        drop(cmd);
        let pid = child.id();
        let stdin = child.stdin.take().expect("stdin");
        let stdout = scanned_stdout(child.stdout.take().expect("stdout"), watch.clone());
        let guard = Guard {
            watch,
            child,
            stderr,
            raise_on_answer: !self.collect_hits,
        };
        let client = match ().serve((stdout, stdin)).await {
            Ok(c) => c,
            Err(e) => {
                drop(guard);
                panic!("MCP initialize with {} failed: {e}", self.bin)
            }
        };
        guard.raise_now();
        Mcp {
            client,
            pid,
            launch: self,
            raw: tokio::sync::OnceCell::new(),
            guard,
        }
    }

    /// Start the server with stdin/stdout as plain lines ([`RawSession`]), initialized.
    pub async fn start_raw(self) -> RawSession {
        self.start_raw_scanned(true).await
    }

    /// [`McpBuilder::start_raw`]; `tail_log`: whether this session scans the log file (not when
    /// the [`Mcp`] sharing the file does).
    async fn start_raw_scanned(mut self, tail_log: bool) -> RawSession {
        let (mut cmd, watch) = self.command();
        let stderr = if tail_log || self.log.is_none() {
            self.stderr(&mut cmd, &watch, true)
        } else {
            let path = self.log.clone().expect("log file");
            let file = std::fs::File::options()
                .append(true)
                .create(true)
                .open(&path)
                .expect("log file");
            cmd.stderr(file);
            StderrScan::none()
        };
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).kill_on_drop(true);
        let guard = |child| Guard {
            watch,
            child,
            stderr,
            raise_on_answer: !self.collect_hits,
        };
        RawSession::start(&self.bin, cmd, guard).await
    }
}

/// The server's stdout as rmcp's client reads it: each line is scanned first, then handed on.
/// Lines keep being read (and scanned) after the client stops listening, so the server never
/// blocks on a full pipe.
fn scanned_stdout(stdout: tokio::process::ChildStdout, watch: Watch) -> tokio::io::DuplexStream {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (ours, mut theirs) = tokio::io::duplex(256 * 1024);
    tokio::spawn(async move {
        let mut reader = tokio::io::BufReader::new(stdout);
        let mut line = Vec::new();
        let mut forwarding = true;
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    watch.message(&String::from_utf8_lossy(&line));
                    forwarding = forwarding && theirs.write_all(&line).await.is_ok();
                }
            }
        }
        let _ = theirs.shutdown().await;
    });
    ours
}

/// The server process and its scan: on drop the process is killed, the rest of its stderr read,
/// the binary's scan totals printed, and any hit not raised yet panics.
struct Guard {
    watch: Watch,
    child: tokio::process::Child,
    stderr: StderrScan,
    /// Whether a hit panics as soon as an answer arrives (else at the end).
    raise_on_answer: bool,
}

impl Guard {
    /// Panic now with any hit so far (stdout is scanned before the client sees it).
    fn raise_now(&self) {
        self.stderr.poll();
        if self.raise_on_answer {
            self.watch.raise();
        }
    }

    /// Wait (up to 10 s) for the server to exit by itself, then finish.
    async fn exited(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        self.stderr.finish();
        self.watch.report();
        self.watch.raise();
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
    guard: Guard,
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
            collect_hits: false,
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

    /// End the session and wait for the server to exit; then the rest of its output is scanned
    /// (a hit panics here).
    pub async fn close(self) {
        let Mcp { client, raw, guard, .. } = self;
        let _ = client.cancel().await;
        drop(raw);
        guard.exited().await;
    }

    /// The secret-scan hits so far, taken: they no longer fail the test. For a test that makes a
    /// server leak on purpose, to prove the scan sees it.
    pub fn take_scan_hits(&self) -> Vec<scan::Hit> {
        self.guard.stderr.poll();
        self.guard.watch.take_hits()
    }

    /// How many MCP messages and log lines of this server the scan has seen.
    pub fn scan_counts(&self) -> (u64, u64) {
        self.guard.stderr.poll();
        self.guard.watch.counts()
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
        let r = self
            .client
            .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
            .await;
        self.guard.raise_now();
        r
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
            .get_or_init(|| async { tokio::sync::Mutex::new(self.launch.clone().start_raw_scanned(false).await) })
            .await;
        let answer = raw.lock().await.send_raw(line, Duration::from_secs(10)).await;
        self.guard.raise_now();
        answer
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
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    next_id: u64,
    /// What `initialize` answered.
    pub initialize: Value,
    guard: Guard,
}

impl RawSession {
    async fn start(
        bin: &str,
        mut cmd: tokio::process::Command,
        guard: impl FnOnce(tokio::process::Child) -> Guard,
    ) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
        drop(cmd);
        let stdin = child.stdin.take().expect("stdin");
        let stdout = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut s = Self {
            stdin,
            stdout,
            next_id: 0,
            initialize: Value::Null,
            guard: guard(child),
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
        self.guard.child.id()
    }

    /// The next stdout line, scanned (`None` at end of output).
    async fn next_line(&mut self) -> std::io::Result<Option<String>> {
        let line = self.stdout.next_line().await?;
        if let Some(l) = &line {
            self.guard.watch.message(l);
        }
        Ok(line)
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
                .next_line()
                .await
                .expect("read stdout")
                .expect("server closed stdout");
            let msg: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if msg["id"] == id {
                self.guard.raise_now();
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
            match tokio::time::timeout_at(deadline, self.next_line()).await {
                Err(_) => return Err(format!("no answer within {timeout:?}")),
                Ok(Err(e)) => return Err(format!("reading stdout: {e}")),
                Ok(Ok(None)) => {
                    return Err(format!("the server closed stdout ({:?})", self.guard.child.try_wait()));
                }
                Ok(Ok(Some(answer))) => {
                    let is_answer = serde_json::from_str::<Value>(&answer)
                        .map(|v| v.get("id").is_some())
                        .unwrap_or(true);
                    if is_answer {
                        self.guard.raise_now();
                        return Ok(answer);
                    }
                }
            }
        }
    }
}
