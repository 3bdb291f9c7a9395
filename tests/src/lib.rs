//! The end-to-end test rig: start the real server binaries, speak MCP to them with rmcp's client,
//! and prepare data with the real AWS SDK against the emulators (LocalStack for S3, moto's server
//! for DynamoDB). Endpoints come only from the standard `AWS_ENDPOINT_URL*` variables, so the same
//! tests run against the docker-compose emulators.
//!
//! If the emulators are not running every test fails at once with the command that starts them.

use std::{
    path::PathBuf,
    process::Stdio,
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use rmcp::{
    RoleClient, ServiceExt,
    model::{CallToolRequestParams, CallToolResult},
    service::RunningService,
    transport::{ConfigureCommandExt, TokioChildProcess},
};
use serde_json::Value;

pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4566";
pub const DEFAULT_DYNAMODB_ENDPOINT: &str = "http://127.0.0.1:4567";

/// Where the emulators are: the standard SDK variables, defaulting to `localstack/start.sh`'s ports.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub main: String,
    pub dynamodb: String,
    pub region: String,
}

pub fn endpoints() -> Endpoints {
    let var = |k: &str, d: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| d.to_owned())
    };
    let main = var("AWS_ENDPOINT_URL", DEFAULT_ENDPOINT);
    Endpoints {
        dynamodb: var("AWS_ENDPOINT_URL_DYNAMODB", DEFAULT_DYNAMODB_ENDPOINT),
        main,
        region: var("AWS_REGION", "us-east-1"),
    }
}

/// The environment a server (or SDK client) needs to reach the emulators. Credentials are the
/// emulators' dummy ones; nothing from the developer's real AWS set-up leaks into a test.
pub fn aws_env() -> Vec<(String, String)> {
    let e = endpoints();
    vec![
        ("AWS_ENDPOINT_URL".into(), e.main),
        ("AWS_ENDPOINT_URL_DYNAMODB".into(), e.dynamodb),
        ("AWS_REGION".into(), e.region),
        ("AWS_ACCESS_KEY_ID".into(), "test".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ("AWS_CONFIG_FILE".into(), "/dev/null".into()),
        ("AWS_SHARED_CREDENTIALS_FILE".into(), "/dev/null".into()),
    ]
}

/// Fail with instructions unless both emulators answer. Checked once per test binary.
pub fn require_emulators() {
    static CHECK: OnceLock<Result<(), String>> = OnceLock::new();
    let result = CHECK.get_or_init(|| {
        let e = endpoints();
        for (what, url) in [
            ("LocalStack", format!("{}/_localstack/health", e.main)),
            ("moto server", format!("{}/moto-api/", e.dynamodb)),
        ] {
            if let Err(err) = probe(&url) {
                return Err(format!(
                    "{what} is not reachable at {url} ({err}).\n\
                     These end-to-end tests need the local AWS emulators. Start them with `localstack/start.sh` \
                     (or run the whole suite with `tests/run`, which starts them itself)."
                ));
            }
        }
        Ok(())
    });
    if let Err(msg) = result {
        panic!("{msg}");
    }
}

/// A blocking HTTP GET with a short timeout (std only: this runs before any runtime exists).
fn probe(url: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// endpoints are supported by the probe")?;
    let (authority, path) = rest
        .split_once('/')
        .map(|(a, p)| (a, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).map_err(|e| e.to_string())?;
    if head.starts_with(b"HTTP/1.") && head[9] == b'2' {
        Ok(())
    } else {
        Err(format!("answered {}", String::from_utf8_lossy(&head)))
    }
}

/// A name no other test (or earlier run) uses: tests run in parallel and re-run cleanly.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let r: u32 = rand::random();
    format!("{prefix}-{}-{n}-{r:08x}", std::process::id()).to_ascii_lowercase()
}

/// Path of a server binary built in the same target directory as this test.
pub fn server_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // Tests live in target/<profile>/deps/, binaries (demo, bench) in target/<profile>/.
    let mut dir = exe.parent().expect("target dir");
    if dir.ends_with("deps") {
        dir = dir.parent().expect("target dir");
    }
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the servers first (`cargo build --workspace --bins`; `cargo test --workspace` does it)",
        path.display()
    );
    path
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    let e = endpoints();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(e.region))
        .endpoint_url(e.main)
        .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "e2e"))
        .load()
        .await
}

pub async fn s3() -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&sdk_config().await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::config::Builder::from(&sdk_config().await)
        .endpoint_url(endpoints().dynamodb)
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// An MCP session with a server binary over stdio.
pub struct Mcp {
    pub client: RunningService<RoleClient, ()>,
}

impl Mcp {
    /// Start `bin` (e.g. `aws-s3-mcp`) with `args`, pointed at the emulators.
    pub async fn start(bin: &str, args: &[&str]) -> Self {
        Self::start_with_env(bin, args, &[]).await
    }

    pub async fn start_with_env(bin: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Self {
        require_emulators();
        Self::spawn(bin, args, extra_env).await
    }

    /// Start `bin` with every AWS endpoint pointed at `endpoint` (a fault-injecting fake server,
    /// say); the emulators are not needed.
    pub async fn start_against(bin: &str, args: &[&str], endpoint: &str) -> Self {
        Self::spawn(
            bin,
            args,
            &[("AWS_ENDPOINT_URL", endpoint), ("AWS_ENDPOINT_URL_DYNAMODB", endpoint)],
        )
        .await
    }

    /// Like [`Mcp::start_with_env`], with the server's stderr (its logs) written to `log`.
    pub async fn start_logged(bin: &str, args: &[&str], extra_env: &[(&str, &str)], log: &std::path::Path) -> Self {
        require_emulators();
        let file = std::fs::File::create(log).expect("log file");
        Self::spawn_with_stderr(bin, args, extra_env, file.into()).await
    }

    async fn spawn(bin: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Self {
        // Server logs are noise in test output unless asked for.
        let stderr = if std::env::var_os("E2E_SERVER_LOGS").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        };
        Self::spawn_with_stderr(bin, args, extra_env, stderr).await
    }

    async fn spawn_with_stderr(bin: &str, args: &[&str], extra_env: &[(&str, &str)], stderr: Stdio) -> Self {
        let cmd = tokio::process::Command::new(server_bin(bin)).configure(|c| {
            c.args(args).envs(aws_env()).env("RUST_BACKTRACE", "0");
            for (k, v) in extra_env {
                c.env(k, v);
            }
        });
        let (transport, _) = TokioChildProcess::builder(cmd)
            .stderr(stderr)
            .spawn()
            .expect("spawn server");
        let client = ().serve(transport).await.unwrap_or_else(|e| panic!("MCP initialize with {bin} failed: {e}"));
        Self { client }
    }

    pub async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        let args = args.as_object().cloned().unwrap_or_default();
        self.client
            .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
            .await
            .unwrap_or_else(|e| panic!("tools/call {tool} failed at the protocol level: {e}"))
    }

    /// Call a tool that must succeed; its structured result.
    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        let r = self.call(tool, args.clone()).await;
        assert_ne!(r.is_error, Some(true), "{tool}({args}) failed: {}", text(&r));
        r.structured_content
            .unwrap_or_else(|| panic!("{tool} returned no structured content"))
    }

    /// Call a tool that must fail; the `error` object of its structured result.
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
            None => serde_json::json!({ "summary": text(&r) }),
        }
    }

    pub async fn tool_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .client
            .list_all_tools()
            .await
            .expect("tools/list")
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        names.sort();
        names
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

// ---------------------------------------------------------------------------------------------
// The other transports: servers as plain child processes (Streamable HTTP, Lambda), waiting for
// their log lines, free ports, and cargo-lambda's Lambda runtime emulator.

/// A free TCP port on 127.0.0.1, bound and released at once. Another process could take it in
/// between: prefer binding port 0 yourself where the program allows it (servers do: `--bind 127.0.0.1:0`).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A child process whose stdout and stderr are read line by line, so a test can wait for a log
/// line (lines are echoed to the test's stderr when `E2E_SERVER_LOGS` is set). Killed on drop.
pub struct Proc {
    pub name: String,
    pub child: tokio::process::Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Proc {
    /// Spawn `cmd` (stdin closed, stdout and stderr captured, `kill_on_drop`).
    pub fn spawn(name: &str, mut cmd: tokio::process::Command) -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        let echo = std::env::var_os("E2E_SERVER_LOGS").is_some();
        fn forward<R: AsyncRead + Unpin + Send + 'static>(
            name: String,
            out: R,
            tx: tokio::sync::mpsc::UnboundedSender<String>,
            echo: bool,
        ) {
            tokio::spawn(async move {
                let mut out = BufReader::new(out).lines();
                // Keep draining after the test stopped listening, so the child never blocks on a full pipe.
                while let Ok(Some(line)) = out.next_line().await {
                    if echo {
                        eprintln!("[{name}] {line}");
                    }
                    let _ = tx.send(line);
                }
            });
        }
        forward(name.to_owned(), child.stdout.take().expect("stdout"), tx.clone(), echo);
        forward(name.to_owned(), child.stderr.take().expect("stderr"), tx, echo);
        Self {
            name: name.to_owned(),
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Wait up to `timeout` for an output line that satisfies `pred` and return it. Panics, showing
    /// the output so far, on timeout or when the process closes its output (exits) first.
    pub async fn wait_for_line(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Ok(None) => {
                    let status = self.child.wait().await;
                    panic!(
                        "{} exited ({status:?}) before the expected line; its output:\n{}",
                        self.name,
                        self.output()
                    )
                }
                Err(_) => panic!(
                    "{} did not print the expected line within {timeout:?}; its output so far:\n{}",
                    self.name,
                    self.output()
                ),
            }
        }
    }

    /// The output lines read so far (by [`Proc::wait_for_line`] or [`Proc::drain`]).
    pub fn output(&self) -> String {
        self.seen.join("\n")
    }

    /// Read whatever output is already buffered, without waiting; the lines read so far.
    pub fn drain(&mut self) -> String {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        self.output()
    }

    /// Panic (with its output) if the process has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let output = self.drain();
            panic!("{} exited ({status}); its output:\n{output}", self.name);
        }
    }

    /// Kill the process and reap it.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// Start server `bin` as a plain child process (not an MCP stdio session), pointed at the
/// emulators, with `RUST_LOG=info` so its start-up lines can be waited for.
pub fn spawn_server(bin: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Proc {
    require_emulators();
    let mut cmd = tokio::process::Command::new(server_bin(bin));
    cmd.args(args)
        .envs(aws_env())
        .env(
            "RUST_LOG",
            "info,rmcp=warn,aws_config=warn,aws_smithy_runtime=warn,aws_runtime=warn",
        )
        .env("RUST_BACKTRACE", "0")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("MCP_AUTH_TOKEN");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    Proc::spawn(bin, cmd)
}

/// A server started with `--transport http --bind 127.0.0.1:0`.
pub struct HttpServer {
    pub proc: Proc,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The MCP endpoint, `http://127.0.0.1:PORT/mcp`, as the server logged it.
    pub url: String,
}

impl HttpServer {
    /// Start `bin` over Streamable HTTP on a port of its choosing and wait (up to 60 s) for its
    /// `listening on http://ADDR/mcp` log line.
    pub async fn start(bin: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Self {
        let mut all = vec!["--transport", "http", "--bind", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut proc = spawn_server(bin, &all, extra_env);
        let line = proc
            .wait_for_line(Duration::from_secs(60), |l| l.contains("listening on http://"))
            .await;
        let url = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("cannot parse the address from {line:?}"))
            .to_owned();
        let base = url
            .strip_suffix("/mcp")
            .unwrap_or_else(|| panic!("MCP endpoint {url} does not end in /mcp"))
            .to_owned();
        Self { proc, base, url }
    }
}

/// The emulator venv's `bin` directory (`localstack/install.sh` puts cargo-lambda there).
pub fn emulator_venv_bin() -> PathBuf {
    let home = std::env::var_os("AWS_MCP_EMULATOR_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".cache/aws-mcp-emulators")
        });
    home.join("venv/bin")
}

/// A `PATH` under which `cargo lambda` resolves: the emulator venv first, then the inherited
/// `PATH`. Panics with installation instructions when `cargo-lambda` is in neither.
pub fn cargo_lambda_path() -> std::ffi::OsString {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::iter::once(emulator_venv_bin())
        .chain(std::env::split_paths(&inherited))
        .collect();
    if !dirs.iter().any(|d| d.join("cargo-lambda").is_file()) {
        panic!(
            "cargo-lambda was not found (looked in {} and on PATH). The Lambda transport tests run the server \
             under cargo-lambda's Lambda runtime emulator: install it with `localstack/install.sh --with-cargo-lambda` \
             (pip-installs cargo-lambda into the emulator venv), or put a `cargo-lambda` binary on PATH.",
            emulator_venv_bin().display()
        );
    }
    std::env::join_paths(dirs).expect("PATH")
}

/// cargo-lambda's Lambda emulator, `cargo lambda watch --only-lambda-apis`, on a free loopback
/// port: it serves the runtime API (`/.rt`), function URLs (`/lambda-url/<name>/...`) and the
/// Invoke API, and starts no function itself: [`LambdaEmulator::start_function`] runs our binary.
pub struct LambdaEmulator {
    pub proc: Proc,
    pub port: u16,
}

impl LambdaEmulator {
    /// Name the emulator gives a function it did not start (`--only-lambda-apis`).
    pub const FUNCTION: &'static str = "_";

    /// Start the emulator and wait (up to 60 s) until it accepts connections. Retries on a new
    /// port if the chosen one was taken meanwhile.
    pub async fn start() -> Self {
        let path = cargo_lambda_path();
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_owned();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = free_port();
            let mut cmd = tokio::process::Command::new("cargo");
            cmd.current_dir(&workspace)
                .env("PATH", &path)
                .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
                .args(["--invoke-address", "127.0.0.1", "--invoke-port", &port.to_string()]);
            let mut proc = Proc::spawn("cargo lambda watch", cmd);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            let ready = loop {
                if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                    break true;
                }
                if let Ok(Some(_)) = proc.child.try_wait() {
                    break false;
                }
                if tokio::time::Instant::now() > deadline {
                    proc.kill().await;
                    panic!(
                        "`cargo lambda watch` did not listen on 127.0.0.1:{port} within 60 s; its output:\n{}",
                        proc.drain()
                    );
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            if ready {
                return Self { proc, port };
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            let output = proc.drain();
            assert!(
                attempt < 3,
                "`cargo lambda watch` exited at start-up; its output:\n{output}"
            );
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `AWS_LAMBDA_RUNTIME_API` for the function (the scheme is required: without it the
    /// runtime client panics on the `/.rt` path).
    pub fn runtime_api(&self) -> String {
        format!("{}/.rt", self.base())
    }

    /// The function URL of our function, with `path` appended (e.g. `/mcp`).
    pub fn function_url(&self, path: &str) -> String {
        format!("{}/lambda-url/{}{path}", self.base(), Self::FUNCTION)
    }

    /// The Lambda Invoke API endpoint for our function (POST an event, get the handler's result).
    pub fn invoke_url(&self) -> String {
        format!("{}/2015-03-31/functions/{}/invocations", self.base(), Self::FUNCTION)
    }

    /// Run server `bin` (the ordinary debug binary) as the emulator's function: the Lambda
    /// environment makes it serve Lambda events instead of stdio.
    pub fn start_function(&self, bin: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Proc {
        let runtime_api = self.runtime_api();
        let mut env: Vec<(&str, &str)> = vec![
            ("AWS_LAMBDA_RUNTIME_API", &runtime_api),
            ("AWS_LAMBDA_FUNCTION_NAME", Self::FUNCTION),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ];
        env.extend_from_slice(extra_env);
        spawn_server(bin, args, &env)
    }
}

/// Checks every server binary's command line must pass, without AWS: called from each server
/// crate's own `tests/cli.rs` (which also makes `cargo test --workspace` build the binary before
/// the end-to-end tests run it).
pub mod cli {
    use std::process::{Command, Stdio};

    fn bare(bin: &str) -> Command {
        let mut c = Command::new(bin);
        // Nothing from the developer's own AWS set-up.
        for k in [
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "MCP_AUTH_TOKEN",
        ] {
            c.env_remove(k);
        }
        c.env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null());
        c
    }

    /// `--help` documents the safety flags, including the server's own allowlist flag.
    pub fn help_lists_the_safety_flags(bin: &str, allowlist_flag: &str) {
        let out = bare(bin).arg("--help").output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        for flag in [
            "--allow-writes",
            allowlist_flag,
            "--region",
            "--profile",
            "--transport",
            "--max-output-tokens",
        ] {
            assert!(help.contains(flag), "{flag} missing from --help");
        }
    }

    /// Without a region the server says how to set one, on stderr, and exits: no default region.
    pub fn no_region_is_a_clear_start_up_error(bin: &str) {
        let out = bare(bin).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains("no AWS region is configured") && err.contains("--region"),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "stdout belongs to MCP");
    }

    /// Serving HTTP beyond loopback without a bearer token is refused.
    pub fn non_loopback_http_without_a_token_is_refused(bin: &str) {
        let out = bare(bin)
            .args(["--region", "us-east-1", "--transport", "http", "--bind", "0.0.0.0:0"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8(out.stderr).unwrap().contains("MCP_AUTH_TOKEN"));
    }
}

/// The [`cli`] checks as `#[test]`s for one server binary: `aws_mcp_tests::cli_tests!("aws-s3-mcp", "--bucket");`
/// in the server crate's `tests/cli.rs`.
#[macro_export]
macro_rules! cli_tests {
    ($bin:literal, $allowlist_flag:literal) => {
        const BIN: &str = env!(concat!("CARGO_BIN_EXE_", $bin));

        #[test]
        fn help_lists_the_safety_flags() {
            $crate::cli::help_lists_the_safety_flags(BIN, $allowlist_flag);
        }

        #[test]
        fn no_region_is_a_clear_start_up_error() {
            $crate::cli::no_region_is_a_clear_start_up_error(BIN);
        }

        #[test]
        fn non_loopback_http_without_a_token_is_refused() {
            $crate::cli::non_loopback_http_without_a_token_is_refused(BIN);
        }
    };
}
