//! One binary, three transports: stdio (default), Streamable HTTP (`--transport http`), and AWS
//! Lambda, chosen automatically when `AWS_LAMBDA_RUNTIME_API` is set. rmcp's
//! `StreamableHttpService` is a plain tower service, so the HTTP and Lambda paths share it.

use std::{convert::Infallible, future::Future, net::SocketAddr, process::ExitCode, sync::Arc};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use rmcp::{
    ServerHandler, ServiceExt,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};

use crate::config::{CommonArgs, Transport};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Environment variable holding the bearer token HTTP clients must present, if set.
pub const AUTH_TOKEN_ENV: &str = "MCP_AUTH_TOKEN";

/// Run a server's async main: logging to stderr, a runtime, and errors printed as one readable
/// line with exit status 1 (no backtrace noise in an MCP client's log).
///
/// stdio serves one client and Lambda one event at a time: a single-threaded runtime does that
/// with fewer thread hand-offs per request and a faster start. HTTP serves many sessions at once.
pub fn main<F>(transport: Transport, body: F) -> ExitCode
where
    F: Future<Output = Result<(), BoxError>>,
{
    crate::audit::init_logging();
    let lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let mut builder = if transport == Transport::Http && !lambda {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(body) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a server crate provides so that its `main` is `shared::run::<XServer>()`.
pub trait Server: crate::core::Tools + ServerHandler + Clone {
    type Cli: clap::Parser + Send + 'static;
    /// The binary name, e.g. `aws-s3-mcp`.
    const NAME: &'static str;
    const VERSION: &'static str;
    fn common(cli: &Self::Cli) -> &CommonArgs;
    fn new(core: crate::Core, cli: &Self::Cli) -> Result<Self, crate::aws::ConfigError>;
    /// Hints for the server's own AWS error codes, naming its tools (installed by [`run`]).
    fn hints(code: &str, op: crate::Op, region: &str) -> Option<String> {
        let _ = (code, op, region);
        None
    }

    /// Statements the server's IAM policy needs beyond its tools' operations.
    fn extra_iam_statements(&self) -> Vec<serde_json::Value> {
        Vec::new()
    }
}

/// The whole `main` of a server binary: parse the command line, resolve AWS configuration, build
/// the server, then print its IAM policy (`--print-iam-policy`) or serve.
pub fn run<S: Server>() -> ExitCode {
    use clap::Parser;
    let cli = S::Cli::parse();
    let common = S::common(&cli).clone();
    main(common.transport, async move {
        let core = crate::Core::load(S::NAME, S::VERSION, &common).await?;
        let server = S::new(core, &cli)?;
        // A server that installed hints in `new` keeps them (the first install wins).
        crate::error::set_server_hints(S::hints);
        if common.print_iam_policy {
            let policy = crate::core::Tools::tools(&server)
                .0
                .iam_policy(server.extra_iam_statements());
            let text = serde_json::to_string_pretty(&policy)?;
            use std::io::Write;
            writeln!(std::io::stdout(), "{text}")?;
            return Ok(());
        }
        serve(&common, move || server.clone()).await
    })
}

/// Serve MCP with the transport the arguments (or the Lambda environment) select. `make` builds a
/// server per session, or per request in stateless modes: keep it a cheap clone.
pub async fn serve<S, F>(args: &CommonArgs, make: F) -> Result<(), BoxError>
where
    S: ServerHandler + Send + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return serve_lambda(args, make).await;
    }
    match args.transport {
        Transport::Stdio => {
            let running = match pipes() {
                Some((r, w)) => make().serve(crate::stdio::transport(r, w)).await?,
                None => {
                    make()
                        .serve(crate::stdio::transport(tokio::io::stdin(), tokio::io::stdout()))
                        .await?
                }
            };
            running.waiting().await?;
            Ok(())
        }
        Transport::Http => serve_http(args, make).await,
    }
}

/// stdin and stdout as non-blocking pipes driven by the event loop, when they are pipes (as MCP
/// clients start servers). tokio's own stdin/stdout hand every read and write to a blocking
/// thread, which costs a thread switch per message; files and terminals still take that path.
#[cfg(unix)]
fn pipes() -> Option<(tokio::net::unix::pipe::Receiver, tokio::net::unix::pipe::Sender)> {
    use std::os::fd::AsFd;
    let stdin = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned().ok()?);
    let stdout = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned().ok()?);
    let reader = tokio::net::unix::pipe::Receiver::from_file(stdin).ok()?;
    let writer = tokio::net::unix::pipe::Sender::from_file(stdout).ok()?;
    Some((reader, writer))
}

#[cfg(not(unix))]
fn pipes() -> Option<(tokio::io::Stdin, tokio::io::Stdout)> {
    None
}

fn token_from_env() -> Option<Arc<str>> {
    std::env::var(AUTH_TOKEN_ENV)
        .ok()
        .filter(|t| !t.is_empty())
        .map(Arc::from)
}

fn http_config(args: &CommonArgs) -> StreamableHttpServerConfig {
    let mut config = StreamableHttpServerConfig::default();
    if !args.allowed_hosts.is_empty() {
        config = config.with_allowed_hosts(args.allowed_hosts.clone());
    }
    // Browsers always send Origin; refuse any not listed (none listed: no browser may call us).
    config
        .with_allowed_origins(args.allowed_origins.clone())
        .enforce_origin_validation()
}

async fn serve_http<S, F>(args: &CommonArgs, make: F) -> Result<(), BoxError>
where
    S: ServerHandler + Send + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    let token = token_from_env();
    if !args.bind.ip().is_loopback() && token.is_none() {
        return Err(format!(
            "refusing to serve AWS access on non-loopback address {} without authentication: set {AUTH_TOKEN_ENV} \
             (clients then send `Authorization: Bearer <token>`), or bind to 127.0.0.1",
            args.bind
        )
        .into());
    }
    let mcp = StreamableHttpService::new(
        move || Ok(make()),
        Arc::new(LocalSessionManager::default()),
        http_config(args),
    );
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| format!("cannot bind {}: {e}", args.bind))?;
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!("listening on http://{addr}/mcp");
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let (mcp, token) = (mcp.clone(), token.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let (mcp, token) = (mcp.clone(), token.clone());
                async move {
                    Ok::<_, Infallible>(match req.uri().path() {
                        "/health" => plain(StatusCode::OK, "ok"),
                        "/mcp" if !authorized(&req, token.as_deref()) => unauthorized(),
                        "/mcp" => mcp.handle(req).await,
                        _ => plain(StatusCode::NOT_FOUND, "not found: MCP is served at /mcp"),
                    })
                }
            });
            let conn = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            if let Err(e) = conn.serve_connection(hyper_util::rt::TokioIo::new(stream), svc).await {
                tracing::debug!("connection closed: {e}");
            }
        });
    }
}

/// Lambda: stateless, JSON responses (Function URL, API Gateway and ALB all buffer). Host checks
/// are left to the front door unless `--allowed-host` is given: IAM or the gateway guards access.
async fn serve_lambda<S, F>(args: &CommonArgs, make: F) -> Result<(), BoxError>
where
    S: ServerHandler + Send + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    let mut config = http_config(args)
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None);
    if args.allowed_hosts.is_empty() {
        config = config.disable_allowed_hosts();
    }
    let mcp = StreamableHttpService::new(move || Ok(make()), Arc::new(LocalSessionManager::default()), config);
    let token = token_from_env();
    let handler = lambda_http::service_fn(move |req: lambda_http::Request| {
        let (mcp, token) = (mcp.clone(), token.clone());
        async move {
            if !authorized(&req, token.as_deref()) {
                return Ok::<_, Infallible>(unauthorized());
            }
            Ok(mcp.handle(req).await)
        }
    });
    lambda_http::run_concurrent(handler).await
}

fn authorized<B>(req: &Request<B>, token: Option<&str>) -> bool {
    let Some(token) = token else { return true };
    let presented = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    constant_time_eq(presented.as_bytes(), token.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn plain(status: StatusCode, body: &'static str) -> Response<BoxBody<Bytes, Infallible>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(body.as_bytes())).boxed());
    *resp.status_mut() = status;
    resp
}

fn unauthorized() -> Response<BoxBody<Bytes, Infallible>> {
    let mut resp = plain(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    resp.headers_mut()
        .insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_token_is_checked_exactly() {
        let req = |h: Option<&str>| {
            let mut b = Request::builder();
            if let Some(h) = h {
                b = b.header("authorization", h);
            }
            b.body(()).unwrap()
        };
        assert!(authorized(&req(None), None));
        assert!(!authorized(&req(None), Some("s3cret")));
        assert!(!authorized(&req(Some("Bearer s3cre")), Some("s3cret")));
        assert!(!authorized(&req(Some("s3cret")), Some("s3cret")));
        assert!(authorized(&req(Some("Bearer s3cret")), Some("s3cret")));
    }
}
