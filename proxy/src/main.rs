//! `aws-mcp-proxy`: lets a desktop MCP client that only speaks stdio (Claude Desktop, Kiro, ...)
//! use a remote MCP server behind AWS authentication: a Lambda Function URL with `AWS_IAM` auth,
//! Amazon Bedrock AgentCore Runtime or Gateway, API Gateway with IAM auth, or any Streamable HTTP
//! endpoint that takes a bearer token.
//!
//! | module | what it does |
//! |---|---|
//! | [`bridge`] | stdin → POST per message → stdout, SSE and JSON answers, session headers, GET stream |
//! | [`auth`] | SigV4 with refreshed credentials from the standard chain, or a bearer token |
//! | [`target`] | URL checks, and the service and region an AWS host name implies |
//! | [`sse`] | the incremental event-stream parser |
//!
//! Logs go to stderr only (stdout is the JSON-RPC stream); no credential is ever logged.

use std::{process::ExitCode, sync::Arc, time::Duration};

use clap::Parser;
use http::{HeaderName, HeaderValue};

mod auth;
mod bridge;
mod sse;
mod target;

/// Signing service when the URL's host follows no known AWS pattern.
const DEFAULT_SERVICE: &str = "lambda";

#[derive(Parser, Debug)]
#[command(
    name = "aws-mcp-proxy",
    version,
    about = "Bridge a stdio MCP client to a remote Streamable HTTP MCP server, signing each request \
             with SigV4 (AWS credentials from the standard chain) or sending a bearer token."
)]
struct Cli {
    /// The remote MCP endpoint, e.g. https://<id>.lambda-url.<region>.on.aws/mcp. Plain http only
    /// to loopback.
    url: String,
    /// SigV4 signing service. Default from the URL host: `lambda` for Function URLs,
    /// `bedrock-agentcore` for AgentCore, `execute-api` for API Gateway; otherwise `lambda`.
    #[arg(long)]
    service: Option<String>,
    /// SigV4 region. Default: the one in the URL host, else the AWS configuration
    /// (AWS_REGION, the profile's region).
    #[arg(long)]
    region: Option<String>,
    /// AWS profile for credentials (else AWS_PROFILE, else the default chain).
    #[arg(long)]
    profile: Option<String>,
    /// Send `Authorization: Bearer <token>` with the token read from this environment variable,
    /// instead of signing with SigV4.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["service", "region", "profile"])]
    bearer_token_env: Option<String>,
    /// An extra header for every request, e.g.
    /// `X-Amzn-Bedrock-AgentCore-Runtime-Session-Id:<id>` (repeatable).
    #[arg(long = "header", value_name = "NAME:VALUE")]
    headers: Vec<String>,
    /// Give up on a request (and answer it with a JSON-RPC error) after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let target = target::Target::parse(&cli.url)?;
    let headers = cli
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let auth = match &cli.bearer_token_env {
        Some(var) => auth::Auth::bearer_from_env(var)?,
        None => sigv4(&cli, &target).await?,
    };
    // The URL without its query string: a query may carry something not meant for logs.
    let shown = format!(
        "{}://{}{}",
        target.uri.scheme_str().unwrap_or(""),
        target.host.to_str().unwrap_or(""),
        target.uri.path()
    );
    tracing::info!(url = %shown, auth = ?auth, "forwarding stdio");
    let bridge = bridge::Bridge::new(target, auth, headers, Duration::from_secs(cli.timeout_secs.max(1)))?;
    Arc::new(bridge).run().await
}

async fn sigv4(cli: &Cli, target: &target::Target) -> Result<auth::Auth, String> {
    let (inferred_service, inferred_region) = target.inferred();
    let service = cli
        .service
        .clone()
        .or_else(|| inferred_service.map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_SERVICE.to_owned());
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(p) = &cli.profile {
        loader = loader.profile_name(p);
    }
    let sdk = loader.load().await;
    let region = cli
        .region
        .clone()
        .or(inferred_region)
        .or_else(|| sdk.region().map(|r| r.to_string()))
        .ok_or("no region: pass --region, or set AWS_REGION or a region in your AWS profile")?;
    let provider = sdk
        .credentials_provider()
        .ok_or("no AWS credentials provider is configured")?;
    Ok(auth::Auth::SigV4(auth::SigV4::new(service, region, provider)?))
}

fn parse_header(h: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = h
        .split_once(':')
        .ok_or_else(|| format!("--header {h:?}: expected NAME:VALUE"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| format!("--header {h:?}: invalid name"))?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| format!("--header {h:?}: invalid value"))?;
    Ok((name, value))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,aws_mcp_proxy=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
