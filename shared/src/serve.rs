//! One binary, three transports: stdio (default), Streamable HTTP (`--transport http`, or
//! `--agentcore-runtime` for an Amazon Bedrock AgentCore Runtime container), and AWS Lambda,
//! chosen automatically when `AWS_LAMBDA_RUNTIME_API` is set (HTTP events and AgentCore Gateway
//! target invocations). rmcp's `StreamableHttpService` is a plain tower service, so the HTTP and
//! Lambda paths share it.

use std::{convert::Infallible, future::Future, net::SocketAddr, process::ExitCode, sync::Arc};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use lambda_http::{LambdaEvent, Service as _, request::LambdaRequest};
use rmcp::{
    ServerHandler, ServiceExt,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService,
        session::{SessionId, SessionManager as _, local::LocalSessionManager},
    },
};
use serde_json::Value;

use crate::audit::Caller;
use crate::config::{CommonArgs, DEFAULT_BIND, SchemaFormat, Transport};
use crate::http::HttpResponse;

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
        let mut b = tokio::runtime::Builder::new_multi_thread();
        // The SDK's request futures are deep; worker threads get the main thread's 8 MiB rather than
        // tokio's 2 MiB, which a debug build of a tool with several awaited SDK calls overflows.
        b.thread_stack_size(8 * 1024 * 1024);
        b
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
/// the server, then print its IAM policy (`--print-iam-policy`) or tool schemas
/// (`--print-tool-schemas`), or serve.
pub fn run<S: Server>() -> ExitCode {
    use clap::Parser;
    let cli = S::Cli::parse();
    let common = S::common(&cli).clone();
    main(common.effective_transport(), async move {
        let core = crate::Core::load(S::NAME, S::VERSION, &common).await?;
        let server = S::new(core, &cli)?;
        // A server that installed hints in `new` keeps them (the first install wins).
        crate::error::set_server_hints(S::hints);
        let printed = if common.print_iam_policy {
            Some(
                crate::core::Tools::tools(&server)
                    .0
                    .iam_policy(server.extra_iam_statements()),
            )
        } else {
            common.print_tool_schemas.map(|format| match format {
                SchemaFormat::Gateway => crate::gateway::tool_schema_file(&listed_tools(&server)),
            })
        };
        if let Some(value) = printed {
            let text = serde_json::to_string_pretty(&value)?;
            use std::io::Write;
            writeln!(std::io::stdout(), "{text}")?;
            return Ok(());
        }
        let audit = crate::core::Tools::tools(&server).0.audit_table.clone();
        let served = serve(&common, move || server.clone()).await;
        // Items queued in the last moments of a session would be lost when the process exits.
        if let Some(table) = audit {
            table.flush(std::time::Duration::from_secs(2)).await;
        }
        served
    })
}

/// The tools `tools/list` shows, in its order.
fn listed_tools<S: crate::core::Tools>(server: &S) -> Vec<rmcp::model::Tool> {
    let (core, router) = server.tools();
    core.list_tools(router.list_all(), server.extra_tools()).tools
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
    match args.effective_transport() {
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

/// Stateless, JSON answers: Lambda, AgentCore Runtime, and requests whose session this process
/// does not hold. `open_hosts`: no Host check unless `--allowed-host` is given (a front door
/// that authenticates, IAM or the AgentCore runtime, is the only way in).
fn stateless_config(args: &CommonArgs, open_hosts: bool) -> StreamableHttpServerConfig {
    let config = http_config(args)
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None);
    if open_hosts && args.allowed_hosts.is_empty() {
        config.disable_allowed_hosts()
    } else {
        config
    }
}

type Mcp<S> = StreamableHttpService<S, LocalSessionManager>;

fn mcp_service<S, F>(make: &Arc<F>, config: StreamableHttpServerConfig) -> (Mcp<S>, Arc<LocalSessionManager>)
where
    S: ServerHandler + Send + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    let make = make.clone();
    let sessions = Arc::new(LocalSessionManager::default());
    (
        StreamableHttpService::new(move || Ok(make()), sessions.clone(), config),
        sessions,
    )
}

/// Streamable HTTP on `--bind` (`--transport http`), or an AgentCore Runtime container
/// (`--agentcore-runtime`: 0.0.0.0:8000 unless `--bind` is given, stateless, the runtime's session
/// headers accepted and ignored; see [`crate::config::CommonArgs::agentcore_runtime`]).
///
/// AgentCore Runtime takes Rust only as an ARM64 container: its entry point is
/// `aws-X-mcp --agentcore-runtime` (or `MCP_AGENTCORE_RUNTIME=true`), port 8000 exposed, the agent
/// runtime created with `protocolConfiguration.serverProtocol=MCP`; AWS credentials come from the
/// runtime's execution role through the default chain, and `MCP_ALLOWED_HOSTS` turns the Host check
/// on for the runtime's host name.
///
/// Plain HTTP keeps sessions for clients before 2026-07-28; a request naming a session this
/// process does not hold (a restart, another instance behind a load balancer) is served
/// statelessly instead of refused with 404, and an `initialize` carrying one gets a new session.
async fn serve_http<S, F>(args: &CommonArgs, make: F) -> Result<(), BoxError>
where
    S: ServerHandler + Send + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    let token = token_from_env();
    let agentcore = args.agentcore_runtime;
    let bind = match DEFAULT_BIND.parse::<SocketAddr>() {
        Ok(default) if agentcore && args.bind == default => SocketAddr::from(([0, 0, 0, 0], 8000)),
        _ => args.bind,
    };
    if !bind.ip().is_loopback() && token.is_none() && !agentcore {
        return Err(format!(
            "refusing to serve AWS access on non-loopback address {bind} without authentication: set {AUTH_TOKEN_ENV} \
             (clients then send `Authorization: Bearer <token>`), or bind to 127.0.0.1"
        )
        .into());
    }
    let make = Arc::new(make);
    let stateful = (!agentcore).then(|| mcp_service(&make, http_config(args)));
    let (stateless, _) = mcp_service(&make, stateless_config(args, agentcore));
    let front = Arc::new(HttpFront {
        stateful,
        stateless,
        token,
    });
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("cannot bind {bind}: {e}"))?;
    let addr: SocketAddr = listener.local_addr()?;
    if agentcore {
        tracing::info!("AgentCore Runtime mode: stateless");
    }
    tracing::info!("listening on http://{addr}/mcp");
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let front = front.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let front = front.clone();
                async move { Ok::<_, Infallible>(front.handle(req).await) }
            });
            let conn = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            if let Err(e) = conn.serve_connection(hyper_util::rt::TokioIo::new(stream), svc).await {
                tracing::debug!("connection closed: {e}");
            }
        });
    }
}

struct HttpFront<S: ServerHandler + Send + 'static> {
    /// Sessions for clients before 2026-07-28 (none in AgentCore mode), with their manager.
    stateful: Option<(Mcp<S>, Arc<LocalSessionManager>)>,
    stateless: Mcp<S>,
    token: Option<Arc<str>>,
}

impl<S: ServerHandler + Send + 'static> HttpFront<S> {
    async fn handle(&self, req: Request<hyper::body::Incoming>) -> HttpResponse {
        match req.uri().path() {
            // `/ping` is AgentCore's health path.
            "/health" | "/ping" => return plain(StatusCode::OK, "ok"),
            "/mcp" => {}
            _ => return plain(StatusCode::NOT_FOUND, "not found: MCP is served at /mcp"),
        }
        if !authorized(&req, self.token.as_deref()) {
            return unauthorized();
        }
        let buffered = match crate::http::normalize(req).await {
            Ok(b) => b,
            Err(resp) => return resp,
        };
        let initialize = buffered.method() == Some("initialize");
        let mut request = buffered.request;
        let method = request.method().clone();
        if self.token.is_some() {
            request.extensions_mut().insert(Caller::bearer());
        }
        let Some((stateful, sessions)) = &self.stateful else {
            return self.stateless.handle(request).await;
        };
        let session: Option<SessionId> = request
            .headers()
            .get(crate::http::SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(Into::into);
        match session {
            Some(id) if !sessions.has_session(&id).await.unwrap_or(false) => {
                tracing::debug!(session = %id, "unknown session: served statelessly");
                request.headers_mut().remove(crate::http::SESSION_ID);
                if initialize {
                    stateful.handle(request).await
                } else {
                    self.stateless.handle(request).await
                }
            }
            // rmcp answers a session DELETE with 202; clients expect 200 or 204.
            _ => crate::http::answer(&method, stateful.handle(request).await),
        }
    }
}

/// Lambda: stateless, JSON responses (Function URL, API Gateway and ALB all buffer). Host checks
/// are left to the front door unless `--allowed-host` is given: IAM or the gateway guards access.
///
/// Two kinds of event arrive: HTTP events (Function URL, API Gateway, ALB), converted by
/// lambda_http, and AgentCore Gateway target invocations (the bare tool arguments, the tool named
/// in the client context; see [`crate::gateway`]). The Lambda Invoke permission guards the latter.
async fn serve_lambda<S, F>(args: &CommonArgs, make: F) -> Result<(), BoxError>
where
    S: ServerHandler + Send + 'static,
    F: Fn() -> S + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let (mcp, _) = mcp_service(&make, stateless_config(args, true));
    // Gateway invocations are not HTTP requests: there is no Host to check.
    let (gateway, _) = mcp_service(&make, stateless_config(args, true).disable_allowed_hosts());
    let token = token_from_env();
    let http = lambda_http::service_fn(move |req: lambda_http::Request| {
        let (mcp, token) = (mcp.clone(), token.clone());
        async move {
            if !authorized(&req, token.as_deref()) {
                return Ok::<_, Infallible>(unauthorized());
            }
            let caller = crate::http::lambda_caller(&req).or_else(|| token.is_some().then(Caller::bearer));
            let mut request = match crate::http::normalize(req).await {
                Ok(b) => b.request,
                Err(resp) => return Ok(resp),
            };
            if let Some(caller) = caller {
                request.extensions_mut().insert(caller);
            }
            Ok(mcp.handle(request).await)
        }
    });
    let handler = lambda_http::lambda_runtime::service_fn(move |event: LambdaEvent<Value>| {
        let (http, gateway) = (http.clone(), gateway.clone());
        async move {
            let LambdaEvent { payload, context } = event;
            if let Some(tool) = crate::gateway::tool_name(&context) {
                let caller = crate::gateway::caller(&context);
                return Ok::<Value, BoxError>(crate::gateway::invoke(&gateway, &tool, payload, caller).await);
            }
            let request: LambdaRequest = serde_json::from_value(payload).map_err(|e| {
                format!(
                    "the event is neither an HTTP event (Function URL, API Gateway, ALB: {e}) nor an AgentCore \
                     Gateway invocation (no `{}` in the client context)",
                    crate::gateway::TOOL_NAME_KEY
                )
            })?;
            let mut adapter = lambda_http::Adapter::from(http);
            let response = match adapter.call(LambdaEvent::new(request, context)).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            Ok(serde_json::to_value(response)?)
        }
    });
    lambda_http::lambda_runtime::run_concurrent(handler).await
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

fn plain(status: StatusCode, body: &'static str) -> HttpResponse {
    let mut resp = Response::new(Full::new(Bytes::from_static(body.as_bytes())).boxed());
    *resp.status_mut() = status;
    resp
}

fn unauthorized() -> HttpResponse {
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
