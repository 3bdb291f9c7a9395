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
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
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
        let cmd = tokio::process::Command::new(server_bin(bin)).configure(|c| {
            c.args(args).envs(aws_env()).env("RUST_BACKTRACE", "0");
            for (k, v) in extra_env {
                c.env(k, v);
            }
        });
        // Server logs are noise in test output unless asked for.
        let stderr = if std::env::var_os("E2E_SERVER_LOGS").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        };
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
