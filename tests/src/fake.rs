//! A fake AWS endpoint: a local HTTP server (hyper, on `127.0.0.1:0`, on the test's runtime) that
//! speaks the wire protocols the SDK uses, for what the emulators cannot do (throttling, access
//! denied, timeouts, resets, broken bodies) or do not have (Bedrock runtime, some Logs calls).
//!
//! Handlers are registered per operation, each with its protocol:
//!
//! | protocol | registered with | matched on |
//! |---|---|---|
//! | AWS JSON 1.0 / 1.1 (DynamoDB, Logs) | [`Fake::on_target`] | `X-Amz-Target` (`DynamoDB_20120810.GetItem`, or just `GetItem`) |
//! | REST-JSON (Lambda, Bedrock) | [`Fake::on_json`] | method + path pattern, `POST /knowledgebases/{kbId}/retrieve` |
//! | REST-XML (S3) | [`Fake::on_xml`] | method + path pattern (+ required query keys), `GET /{bucket}?list-type=2` |
//! | query (STS) | [`Fake::on_action`] | the `Action=` form field, `AssumeRole` |
//!
//! A handler is a `Fn(&Request) -> Reply` (it may keep state in an `Arc<Mutex<…>>`) or a constant
//! [`Reply`]. Replies are shaped by the route's protocol: [`Reply::json`] gets the protocol's
//! content type, [`Reply::error`] the protocol's error shape (awsJson `__type`, restJson
//! `x-amzn-ErrorType`, restXml `<Error><Code>`, query `<ErrorResponse>`), so the SDK parses the
//! error code and request id exactly as from AWS. Canned behaviours: [`throttle`],
//! [`Reply::server_error`], [`Reply::delay`], [`Reply::reset`], [`Reply::truncated`],
//! [`Reply::malformed`], [`Reply::wrong_content_type`], [`sequence`].
//!
//! Every request is logged ([`Fake::requests`], [`Fake::requests_for`]). A request no handler
//! matches is answered with a 400 `UnknownOperationException` in its protocol naming the
//! operation, so a failing test shows what is missing. When several routes match, the one
//! registered last wins.
//!
//! ```no_run
//! # async fn example() {
//! use aws_mcp_tests::fake::{Fake, Reply, throttle};
//! use serde_json::json;
//! let fake = Fake::start().await;
//! // REST-JSON: Bedrock's Retrieve, answering from the request's path parameter.
//! fake.on_json("Retrieve", "POST /knowledgebases/{kbId}/retrieve", |req: &aws_mcp_tests::fake::Request| {
//!     Reply::json(json!({"retrievalResults": [], "kb": req.param("kbId")}))
//! });
//! // AWS JSON 1.0: throttled twice, then an answer.
//! fake.on_target("DynamoDB_20120810.ListTables", throttle(2, Reply::json(json!({"TableNames": []}))));
//! // Point a server at it: Mcp::start_against(bin, &args, &fake.url()), or per service with
//! // Mcp::builder(bin).endpoint(Service::BedrockAgentRuntime, &fake.url()).
//! assert_eq!(fake.requests_for("ListTables").len(), 0);
//! # }
//! ```

use std::{
    collections::BTreeMap,
    convert::Infallible,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use serde_json::Value;

/// A wire protocol of the AWS SDK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    AwsJson10,
    AwsJson11,
    RestJson,
    RestXml,
    Query,
}

impl Protocol {
    /// The content type of a successful response body.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::AwsJson10 => "application/x-amz-json-1.0",
            Self::AwsJson11 => "application/x-amz-json-1.1",
            Self::RestJson => "application/json",
            Self::RestXml => "application/xml",
            Self::Query => "text/xml",
        }
    }

    fn is_json(self) -> bool {
        matches!(self, Self::AwsJson10 | Self::AwsJson11 | Self::RestJson)
    }
}

/// A request as the fake received it (also what [`Fake::requests`] returns).
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// The path, percent-encoded as sent (`/2015-03-31/functions/f/invocations`).
    pub path: String,
    /// Query string pairs, decoded.
    pub query: Vec<(String, String)>,
    /// Header (lower-case name, value) pairs.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<Value>,
    /// The body's form fields, decoded (query protocol).
    pub form: Vec<(String, String)>,
    /// The operation: the route's name (`Retrieve`), the target's operation (`GetItem`), the
    /// `Action` (`AssumeRole`); `METHOD /path` when no route matched.
    pub operation: String,
    /// Path parameters of a REST route (`{kbId}` → value, decoded).
    pub params: BTreeMap<String, String>,
    pub protocol: Protocol,
    /// The request id the fake answered with (`FAKE-000001`).
    pub request_id: String,
}

impl Request {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// A query string parameter.
    pub fn query_param(&self, k: &str) -> Option<&str> {
        self.query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str())
    }

    /// A form field (query protocol), e.g. `RoleArn`, `Policy`.
    pub fn form_field(&self, k: &str) -> Option<&str> {
        self.form.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str())
    }

    /// A path parameter of the route (`"kbId"`).
    pub fn param(&self, k: &str) -> Option<&str> {
        self.params.get(k).map(String::as_str)
    }

    /// The JSON body (`Value::Null` when there is none).
    pub fn json(&self) -> &Value {
        self.json.as_ref().unwrap_or(&Value::Null)
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the fake answers; rendered in the route's protocol.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A response with this status and body; the content type defaults to the protocol's.
    Body {
        status: u16,
        content_type: Option<String>,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
    /// An error in the protocol's shape, with this HTTP status, code and message.
    Error {
        status: u16,
        code: String,
        message: String,
        headers: Vec<(String, String)>,
    },
    /// The protocol's throttling error (awsJson/query 400 `ThrottlingException`/`Throttling`,
    /// restJson 429 `ThrottlingException`, restXml 503 `SlowDown`).
    Throttled,
    /// A query-protocol success: `<{Action}Response><{Action}Result>{inner}</…><ResponseMetadata>…`.
    QueryResult { action: String, inner: String },
    /// Wait, then answer (slower than a client's timeout, say).
    Delay(Duration, Box<Reply>),
    /// Close the connection without answering.
    Reset,
    /// Headers claiming a longer body than is sent, then the connection closes.
    Truncated { status: u16, body: Bytes },
    /// A 200 whose body is not valid JSON / XML.
    Malformed,
    /// The inner reply with `Content-Type: text/html` (what a proxy in the way sends).
    WrongContentType(Box<Reply>),
}

impl Reply {
    /// 200 with a JSON body (content type per protocol: `application/x-amz-json-1.0`, …).
    pub fn json(v: Value) -> Self {
        Self::json_status(200, v)
    }

    pub fn json_status(status: u16, v: Value) -> Self {
        Self::Body {
            status,
            content_type: None,
            headers: Vec::new(),
            body: Bytes::from(v.to_string()),
        }
    }

    /// 200 with an XML body (REST-XML), `<?xml …?>` prepended when missing.
    pub fn xml(body: impl Into<String>) -> Self {
        let mut body = body.into();
        if !body.starts_with("<?xml") {
            body.insert_str(0, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        }
        Self::Body {
            status: 200,
            content_type: Some("application/xml".into()),
            headers: Vec::new(),
            body: Bytes::from(body),
        }
    }

    /// An empty body with `status` (a 200 for HEAD, a 204…).
    pub fn empty(status: u16) -> Self {
        Self::raw(status, None, Bytes::new())
    }

    /// Any body, with an explicit content type (or the protocol's when `None`).
    pub fn raw(status: u16, content_type: Option<&str>, body: impl Into<Bytes>) -> Self {
        Self::Body {
            status,
            content_type: content_type.map(str::to_owned),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A query-protocol (STS) result; `inner` is the XML inside `<{action}Result>`.
    pub fn query_result(action: &str, inner: impl Into<String>) -> Self {
        Self::QueryResult {
            action: action.to_owned(),
            inner: inner.into(),
        }
    }

    /// An AWS error in the route's protocol.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::Error {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            headers: Vec::new(),
        }
    }

    /// `AccessDeniedException` (JSON protocols) / `AccessDenied` (XML) naming `action` as AWS does.
    pub fn access_denied(protocol_is_json: bool, action: &str) -> Self {
        Self::error(
            403,
            if protocol_is_json {
                "AccessDeniedException"
            } else {
                "AccessDenied"
            },
            &format!("User: arn:aws:iam::123456789012:user/e2e is not authorized to perform: {action}"),
        )
    }

    /// The protocol's throttling error ([`Reply::Throttled`]).
    pub fn throttled() -> Self {
        Self::Throttled
    }

    /// A 5xx: 500 `InternalFailure` / `InternalError`, 503 `ServiceUnavailable`.
    pub fn server_error(status: u16) -> Self {
        let code = if status == 503 {
            "ServiceUnavailable"
        } else {
            "InternalFailure"
        };
        Self::error(status, code, "the fake endpoint was told to fail")
    }

    /// `inner`, after `d`.
    pub fn delay(d: Duration, inner: Reply) -> Self {
        Self::Delay(d, Box::new(inner))
    }

    /// Close the connection without answering (the client sees a dispatch failure).
    pub fn reset() -> Self {
        Self::Reset
    }

    /// A 200 that announces more body than `body` and closes after it.
    pub fn truncated(body: impl Into<Bytes>) -> Self {
        Self::Truncated {
            status: 200,
            body: body.into(),
        }
    }

    /// A 200 whose body does not parse in the protocol.
    pub fn malformed() -> Self {
        Self::Malformed
    }

    /// `inner` served as `text/html`.
    pub fn wrong_content_type(inner: Reply) -> Self {
        Self::WrongContentType(Box::new(inner))
    }

    /// Add a response header (to a body or an error reply; ignored for the others).
    pub fn header(mut self, k: &str, v: &str) -> Self {
        if let Self::Body { headers, .. } | Self::Error { headers, .. } = &mut self {
            headers.push((k.to_owned(), v.to_owned()));
        }
        self
    }
}

/// A request handler.
pub type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// Anything that can answer a route: a closure `Fn(&Request) -> Reply`, a constant [`Reply`], or
/// a [`Handler`] (from [`throttle`], [`sequence`]).
pub trait IntoHandler {
    fn into_handler(self) -> Handler;
}

impl<F: Fn(&Request) -> Reply + Send + Sync + 'static> IntoHandler for F {
    fn into_handler(self) -> Handler {
        Arc::new(self)
    }
}

impl IntoHandler for Reply {
    fn into_handler(self) -> Handler {
        Arc::new(move |_: &Request| self.clone())
    }
}

/// A [`Handler`] as it is (`Arc<dyn Fn>` does not implement `Fn` itself).
pub struct Shared(pub Handler);

impl IntoHandler for Shared {
    fn into_handler(self) -> Handler {
        self.0
    }
}

/// The first `n` calls get the protocol's throttling error ([`Reply::Throttled`]), then `then`
/// answers. `usize::MAX` throttles forever.
pub fn throttle(n: usize, then: impl IntoHandler) -> Shared {
    throttle_with(n, Reply::Throttled, then)
}

/// The first `n` calls get `error` (e.g. DynamoDB's `ProvisionedThroughputExceededException`),
/// then `then` answers.
pub fn throttle_with(n: usize, error: Reply, then: impl IntoHandler) -> Shared {
    let then = then.into_handler();
    let count = AtomicUsize::new(0);
    Shared(Arc::new(move |req: &Request| {
        if count.fetch_add(1, Ordering::SeqCst) < n {
            error.clone()
        } else {
            then(req)
        }
    }))
}

/// Answer the n-th call with the n-th reply; the last one repeats.
pub fn sequence(replies: Vec<Reply>) -> Shared {
    assert!(!replies.is_empty(), "sequence needs a reply");
    let count = AtomicUsize::new(0);
    Shared(Arc::new(move |_: &Request| {
        let i = count.fetch_add(1, Ordering::SeqCst).min(replies.len() - 1);
        replies[i].clone()
    }))
}

#[derive(Clone, Debug)]
enum Seg {
    Lit(String),
    Param(String),
    Greedy(String),
}

enum Match {
    Target(String),
    Action(String),
    Rest {
        method: String,
        segments: Vec<Seg>,
        query: Vec<(String, Option<String>)>,
    },
}

struct Route {
    operation: String,
    protocol: Protocol,
    matcher: Match,
    handler: Handler,
}

#[derive(Default)]
struct State {
    routes: Vec<Route>,
    log: Vec<Request>,
    rest_default: Option<Protocol>,
}

/// The fake endpoint. Stops accepting when dropped; [`Fake::stop`] also drops its open
/// connections, as a stopped emulator would.
pub struct Fake {
    url: String,
    state: Arc<Mutex<State>>,
    next_id: Arc<AtomicUsize>,
    accept: tokio::task::JoinHandle<()>,
    conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Fake {
    /// Listen on `127.0.0.1:0` on the current tokio runtime.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        Self::serve_on(listener)
    }

    /// Listen on `127.0.0.1:port`: a fake restarted where a stopped one was (an emulator coming
    /// back). Retries for up to 5 s while the port is still held by the previous listener.
    pub async fn start_on(port: u16) -> Self {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                Ok(listener) => return Self::serve_on(listener),
                Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("bind 127.0.0.1:{port}: {e}"),
            }
        }
    }

    fn serve_on(listener: tokio::net::TcpListener) -> Self {
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let state = Arc::new(Mutex::new(State::default()));
        let next_id = Arc::new(AtomicUsize::new(0));
        let conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (st, ids, open) = (state.clone(), next_id.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let (st, ids) = (st.clone(), ids.clone());
                let conn = tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| serve(req, st.clone(), ids.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(sock), service)
                        .await;
                });
                let mut open = open.lock().unwrap();
                open.retain(|h| !h.is_finished());
                open.push(conn.abort_handle());
            }
        });
        Self {
            url,
            state,
            next_id,
            accept,
            conns,
        }
    }

    /// Stop like a killed emulator: no new connections, and every open one (with any request
    /// in flight) is dropped. [`Fake::start_on`] with [`Fake::port`] brings one back.
    pub fn stop(self) {
        for h in self.conns.lock().unwrap().drain(..) {
            h.abort();
        }
        // Drop aborts the accept loop.
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in url")
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.url.clone()
    }

    fn add(&self, operation: &str, protocol: Protocol, matcher: Match, handler: Handler) {
        let mut st = self.state.lock().unwrap();
        if matches!(matcher, Match::Rest { .. }) && st.rest_default.is_none() {
            st.rest_default = Some(protocol);
        }
        st.routes.push(Route {
            operation: operation.to_owned(),
            protocol,
            matcher,
            handler,
        });
    }

    /// An AWS JSON 1.0/1.1 operation by its `X-Amz-Target` (`Logs_20140328.StopQuery`), or by the
    /// operation alone (`StopQuery`) for any service prefix. 1.0 or 1.1 follows the request.
    pub fn on_target(&self, target: &str, handler: impl IntoHandler) -> &Self {
        let op = target.rsplit('.').next().unwrap_or(target);
        self.add(
            op,
            Protocol::AwsJson11,
            Match::Target(target.to_owned()),
            handler.into_handler(),
        );
        self
    }

    /// A REST-JSON operation: `route` is `METHOD /path/{param}/more` (a `{name+}` segment takes
    /// the rest of the path; `?key` or `?key=value` after the path must be in the query string).
    pub fn on_json(&self, operation: &str, route: &str, handler: impl IntoHandler) -> &Self {
        self.add(
            operation,
            Protocol::RestJson,
            parse_route(route),
            handler.into_handler(),
        );
        self
    }

    /// A REST-XML (S3) operation, `route` as in [`Fake::on_json`]: `GET /{bucket}?list-type=2`.
    pub fn on_xml(&self, operation: &str, route: &str, handler: impl IntoHandler) -> &Self {
        self.add(operation, Protocol::RestXml, parse_route(route), handler.into_handler());
        self
    }

    /// A query-protocol (STS) operation by its `Action` form field (`AssumeRole`).
    pub fn on_action(&self, action: &str, handler: impl IntoHandler) -> &Self {
        self.add(
            action,
            Protocol::Query,
            Match::Action(action.to_owned()),
            handler.into_handler(),
        );
        self
    }

    /// The protocol of the "unknown operation" answer to REST requests no route matches (default:
    /// the protocol of the first REST route registered, else REST-JSON).
    pub fn rest_protocol(&self, p: Protocol) -> &Self {
        self.state.lock().unwrap().rest_default = Some(p);
        self
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().log.clone()
    }

    /// The requests for one operation (`"AssumeRole"`, `"GetItem"`, a REST route's name).
    pub fn requests_for(&self, operation: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.operation == operation)
            .collect()
    }

    /// How many requests were received.
    pub fn count(&self) -> usize {
        self.state.lock().unwrap().log.len()
    }

    /// How many request ids were handed out (equals [`Fake::count`] once requests are answered).
    pub fn answered(&self) -> usize {
        self.next_id.load(Ordering::SeqCst)
    }
}

fn parse_route(route: &str) -> Match {
    let (method, rest) = route
        .split_once(' ')
        .unwrap_or_else(|| panic!("route {route:?} must be `METHOD /path`"));
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let segments = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(p) if p.ends_with('+') => Seg::Greedy(p.trim_end_matches('+').to_owned()),
            Some(p) => Seg::Param(p.to_owned()),
            None => Seg::Lit(s.to_owned()),
        })
        .collect();
    let query = query
        .split('&')
        .filter(|q| !q.is_empty())
        .map(|q| match q.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (q.to_owned(), None),
        })
        .collect();
    Match::Rest {
        method: method.to_ascii_uppercase(),
        segments,
        query,
    }
}

fn match_path(segments: &[Seg], path: &str) -> Option<BTreeMap<String, String>> {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut params = BTreeMap::new();
    let mut i = 0;
    for seg in segments {
        match seg {
            Seg::Lit(l) => {
                if parts.get(i).map(|p| decode(p, false)) != Some(l.clone()) {
                    return None;
                }
            }
            Seg::Param(p) => {
                params.insert(p.clone(), decode(parts.get(i)?, false));
            }
            Seg::Greedy(p) => {
                if i >= parts.len() {
                    return None;
                }
                params.insert(p.clone(), decode(&parts[i..].join("/"), false));
                return Some(params);
            }
        }
        i += 1;
    }
    (i == parts.len()).then_some(params)
}

/// Percent-decoding (and `+` as a space in forms).
fn decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k, true), decode(v, true))
        })
        .collect()
}

type Body = BoxBody<Bytes, std::io::Error>;

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never: Infallible| match never {}).boxed()
}

async fn serve(
    req: hyper::Request<hyper::body::Incoming>,
    state: Arc<Mutex<State>>,
    ids: Arc<AtomicUsize>,
) -> Result<hyper::Response<Body>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .to_bytes();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let content_type = header("content-type").unwrap_or_default();
    let form = if content_type.starts_with("application/x-www-form-urlencoded") {
        pairs(&String::from_utf8_lossy(&body))
    } else {
        Vec::new()
    };
    let json = serde_json::from_slice::<Value>(&body).ok();
    let target = header("x-amz-target");
    let action = form.iter().find(|(k, _)| k == "Action").map(|(_, v)| v.clone());
    let path = parts.uri.path().to_owned();
    let query = pairs(parts.uri.query().unwrap_or(""));
    let method = parts.method.as_str().to_owned();
    let json_version = if content_type.contains("1.0") {
        Protocol::AwsJson10
    } else {
        Protocol::AwsJson11
    };
    let request_id = format!("FAKE-{:06}", ids.fetch_add(1, Ordering::SeqCst) + 1);

    // Find the route (the last registered that matches).
    let (handler, operation, protocol, params) = {
        let st = state.lock().unwrap();
        let found = st.routes.iter().rev().find_map(|r| match &r.matcher {
            Match::Target(t) => target
                .as_deref()
                .filter(|got| *got == t || got.ends_with(&format!(".{t}")))
                .map(|_| (r, json_version, BTreeMap::new())),
            Match::Action(a) => (action.as_deref() == Some(a.as_str())).then(|| (r, Protocol::Query, BTreeMap::new())),
            Match::Rest {
                method: m,
                segments,
                query: want,
            } => {
                if *m != method || target.is_some() || action.is_some() {
                    return None;
                }
                let ok = want.iter().all(|(k, v)| {
                    query
                        .iter()
                        .any(|(qk, qv)| qk == k && v.as_ref().is_none_or(|v| v == qv))
                });
                if !ok {
                    return None;
                }
                match_path(segments, &path).map(|p| (r, r.protocol, p))
            }
        });
        match found {
            Some((r, protocol, params)) => (Some(r.handler.clone()), r.operation.clone(), protocol, params),
            None => {
                let protocol = if target.is_some() {
                    json_version
                } else if action.is_some() {
                    Protocol::Query
                } else {
                    st.rest_default.unwrap_or(Protocol::RestJson)
                };
                let operation = target
                    .clone()
                    .or_else(|| action.clone())
                    .unwrap_or_else(|| format!("{method} {path}"));
                (None, operation, protocol, BTreeMap::new())
            }
        }
    };
    let request = Request {
        method,
        path,
        query,
        headers,
        body,
        json,
        form,
        operation: operation.clone(),
        params,
        protocol,
        request_id: request_id.clone(),
    };
    state.lock().unwrap().log.push(request.clone());
    let mut reply = match &handler {
        Some(h) => h(&request),
        None => Reply::error(
            400,
            "UnknownOperationException",
            &format!(
                "the fake endpoint has no handler for {operation} ({} {}); register one with Fake::on_*",
                request.method, request.path
            ),
        ),
    };
    if std::env::var_os("E2E_SERVER_LOGS").is_some() {
        eprintln!(
            "[fake] {} {} {operation} -> {reply:.200?}",
            request.method, request.path
        );
    }
    loop {
        match reply {
            Reply::Delay(d, inner) => {
                tokio::time::sleep(d).await;
                reply = *inner;
            }
            Reply::Reset => return Err(std::io::Error::other("reset by the fake endpoint")),
            other => return Ok(render(other, protocol, &request)),
        }
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn render(reply: Reply, protocol: Protocol, req: &Request) -> hyper::Response<Body> {
    let id = req.request_id.as_str();
    let mut b = hyper::Response::builder()
        .header("x-amzn-requestid", id)
        .header("x-amz-request-id", id);
    let (status, content_type, body, extra): (u16, String, Body, Vec<(String, String)>) = match reply {
        Reply::Body {
            status,
            content_type,
            headers,
            body,
        } => (
            status,
            content_type.unwrap_or_else(|| protocol.content_type().to_owned()),
            full(body),
            headers,
        ),
        Reply::Throttled => {
            let (status, code, msg) = match protocol {
                Protocol::RestXml => (503, "SlowDown", "Please reduce your request rate."),
                Protocol::RestJson => (429, "ThrottlingException", "Rate exceeded"),
                Protocol::Query => (400, "Throttling", "Rate exceeded"),
                _ => (400, "ThrottlingException", "Rate exceeded"),
            };
            return render(Reply::error(status, code, msg), protocol, req);
        }
        Reply::Error {
            status,
            code,
            message,
            headers,
        } => {
            let mut extra = headers;
            let (ct, body) = match protocol {
                Protocol::AwsJson10 | Protocol::AwsJson11 => {
                    let ns = req
                        .header("x-amz-target")
                        .and_then(|t| t.split('.').next())
                        .map(|p| format!("com.amazonaws.{}", p.to_ascii_lowercase().replace('_', ".v")))
                        .unwrap_or_else(|| "com.amazonaws.fake".into());
                    (
                        protocol.content_type(),
                        serde_json::json!({"__type": format!("{ns}#{code}"), "message": message}).to_string(),
                    )
                }
                Protocol::RestJson => {
                    extra.push(("x-amzn-errortype".into(), code.clone()));
                    ("application/json", serde_json::json!({"message": message}).to_string())
                }
                Protocol::RestXml => (
                    "application/xml",
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{id}</RequestId></Error>",
                        xml_escape(&code),
                        xml_escape(&message)
                    ),
                ),
                Protocol::Query => (
                    "text/xml",
                    format!(
                        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>",
                        if status >= 500 { "Receiver" } else { "Sender" },
                        xml_escape(&code),
                        xml_escape(&message)
                    ),
                ),
            };
            // S3 answers errors to HEAD without a body.
            let body = if req.method == "HEAD" { String::new() } else { body };
            (status, ct.to_owned(), full(body), extra)
        }
        Reply::QueryResult { action, inner } => (
            200,
            "text/xml".into(),
            full(format!(
                "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata></{action}Response>"
            )),
            Vec::new(),
        ),
        Reply::Truncated { status, body } => {
            let claimed = body.len() + 1000;
            let stream = futures::stream::iter(vec![
                Ok(Frame::data(body)),
                Err(std::io::Error::other("the fake endpoint truncated the body")),
            ]);
            b = b.header("content-length", claimed.to_string());
            (
                status,
                protocol.content_type().into(),
                BodyExt::boxed(StreamBody::new(stream)),
                Vec::new(),
            )
        }
        Reply::Malformed => {
            let body = if protocol.is_json() {
                "{\"unterminated\": [1, 2"
            } else {
                "<?xml version=\"1.0\"?><Unclosed><Broken>"
            };
            (200, protocol.content_type().into(), full(body), Vec::new())
        }
        Reply::WrongContentType(inner) => {
            let mut r = render(*inner, protocol, req);
            r.headers_mut().insert(
                "content-type",
                http::HeaderValue::from_static("text/html; charset=utf-8"),
            );
            return r;
        }
        Reply::Delay(..) | Reply::Reset => unreachable!("handled by serve"),
    };
    b = b.status(status).header("content-type", content_type);
    for (k, v) in extra {
        b = b.header(k, v);
    }
    b.body(body).expect("response")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::retry::RetryConfig;
    use serde_json::json;

    async fn conf(fake: &Fake, attempts: u32) -> aws_config::SdkConfig {
        crate::sdk_config_at(&fake.url())
            .await
            .into_builder()
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(attempts)
                    .with_initial_backoff(Duration::from_millis(5)),
            )
            .timeout_config(
                aws_smithy_types::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(2))
                    .build(),
            )
            .build()
    }

    #[test]
    fn routes_and_decoding() {
        let Match::Rest { segments, query, .. } = parse_route("GET /{bucket}/{key+}?list-type=2") else {
            panic!()
        };
        assert_eq!(query, [("list-type".to_owned(), Some("2".to_owned()))]);
        let p = match_path(&segments, "/b/a/b%20c").unwrap();
        assert_eq!(p["bucket"], "b");
        assert_eq!(p["key"], "a/b c");
        assert!(match_path(&segments, "/b").is_none());
        assert_eq!(decode("a%2Fb+c%", true), "a/b c%");
        assert_eq!(
            pairs("Action=AssumeRole&Policy=%7B%22a%22%7D"),
            [
                ("Action".to_owned(), "AssumeRole".to_owned()),
                ("Policy".to_owned(), "{\"a\"}".to_owned())
            ]
        );
    }

    #[tokio::test]
    async fn aws_json_errors_throttling_and_the_request_log() {
        use aws_sdk_dynamodb::error::ProvideErrorMetadata;
        use aws_sdk_dynamodb::operation::RequestId;
        let fake = Fake::start().await;
        fake.on_target(
            "DynamoDB_20120810.ListTables",
            throttle(2, Reply::json(json!({"TableNames": ["a", "b"]}))),
        );
        fake.on_target(
            "GetItem",
            Reply::error(400, "ResourceNotFoundException", "Requested resource not found"),
        );
        let db = aws_sdk_dynamodb::Client::new(&conf(&fake, 3).await);
        let out = db.list_tables().send().await.expect("third attempt succeeds");
        assert_eq!(out.table_names(), ["a", "b"]);
        assert_eq!(fake.requests_for("ListTables").len(), 3);
        assert_eq!(fake.requests()[0].protocol, Protocol::AwsJson10);

        let err = db
            .get_item()
            .table_name("t")
            .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("ResourceNotFoundException"));
        assert_eq!(err.message(), Some("Requested resource not found"));
        let id = err.request_id().expect("request id parsed");
        assert!(id.starts_with("FAKE-"), "{id}");
        let get = &fake.requests_for("GetItem")[0];
        assert_eq!(get.json()["TableName"], "t");

        // An operation without a handler is named in the error.
        let err = db.describe_table().table_name("t").send().await.unwrap_err();
        assert_eq!(err.code(), Some("UnknownOperationException"));
        assert!(err.message().unwrap().contains("DescribeTable"), "{err:?}");
    }

    #[tokio::test]
    async fn rest_xml_errors_and_path_parameters() {
        use aws_sdk_s3::error::ProvideErrorMetadata;
        use aws_sdk_s3::operation::RequestId;
        let fake = Fake::start().await;
        fake.on_xml("ListObjectsV2", "GET /{bucket}?list-type=2", |r: &Request| {
            match r.param("bucket") {
                Some("there") => Reply::xml(
                    "<ListBucketResult><Name>there</Name><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated>\
                     <Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>",
                ),
                _ => Reply::error(404, "NoSuchBucket", "The specified bucket does not exist"),
            }
        });
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf(&fake, 1).await)
                .force_path_style(true)
                .build(),
        );
        let ok = s3.list_objects_v2().bucket("there").send().await.unwrap();
        assert_eq!(ok.contents()[0].key(), Some("k"));
        let err = s3.list_objects_v2().bucket("gone").send().await.unwrap_err();
        assert_eq!(err.code(), Some("NoSuchBucket"));
        assert!(err.request_id().unwrap().starts_with("FAKE-"));
        assert_eq!(fake.requests_for("ListObjectsV2").len(), 2);
        // Throttling in REST-XML is S3's 503 SlowDown.
        fake.on_xml("ListObjectsV2", "GET /{bucket}?list-type=2", Reply::throttled());
        let err = s3.list_objects_v2().bucket("there").send().await.unwrap_err();
        assert_eq!(err.code(), Some("SlowDown"));
    }

    #[tokio::test]
    async fn rest_json_errors_headers_and_bodies() {
        use aws_sdk_lambda::error::ProvideErrorMetadata;
        let fake = Fake::start().await;
        fake.on_json(
            "Invoke",
            "POST /2015-03-31/functions/{name}/invocations",
            |r: &Request| match r.param("name") {
                Some("echo") => Reply::json(r.json().clone()).header("x-amz-executed-version", "$LATEST"),
                _ => Reply::error(404, "ResourceNotFoundException", "Function not found"),
            },
        );
        let lambda = aws_sdk_lambda::Client::new(&conf(&fake, 1).await);
        let out = lambda
            .invoke()
            .function_name("echo")
            .client_context("eyJjdXN0b20iOnt9fQ==")
            .payload(aws_smithy_types::Blob::new(br#"{"a":1}"#.to_vec()))
            .send()
            .await
            .unwrap();
        assert_eq!(out.payload().unwrap().as_ref(), br#"{"a":1}"#);
        assert_eq!(out.executed_version(), Some("$LATEST"));
        let sent = &fake.requests_for("Invoke")[0];
        assert_eq!(sent.header("X-Amz-Client-Context"), Some("eyJjdXN0b20iOnt9fQ=="));
        let err = lambda.invoke().function_name("nope").send().await.unwrap_err();
        assert_eq!(err.code(), Some("ResourceNotFoundException"));
        assert_eq!(err.message(), Some("Function not found"));
    }

    #[tokio::test]
    async fn query_protocol_results_errors_and_form_fields() {
        use aws_sdk_sts::error::ProvideErrorMetadata;
        use aws_sdk_sts::operation::RequestId;
        let fake = Fake::start().await;
        fake.on_action(
            "AssumeRole",
            Reply::query_result(
                "AssumeRole",
                "<Credentials><AccessKeyId>ASIAFAKE</AccessKeyId><SecretAccessKey>s</SecretAccessKey>\
                 <SessionToken>t</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>\
                 <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>",
            ),
        );
        fake.on_action(
            "GetCallerIdentity",
            Reply::error(403, "AccessDenied", "not authorized to perform: sts:GetCallerIdentity"),
        );
        let sts = aws_sdk_sts::Client::new(&conf(&fake, 1).await);
        let out = sts
            .assume_role()
            .role_arn("arn:aws:iam::123456789012:role/r")
            .role_session_name("s")
            .policy(r#"{"Version":"2012-10-17"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(out.credentials().unwrap().access_key_id(), "ASIAFAKE");
        let sent = &fake.requests_for("AssumeRole")[0];
        assert_eq!(sent.form_field("Policy"), Some(r#"{"Version":"2012-10-17"}"#));
        assert_eq!(sent.protocol, Protocol::Query);
        let err = sts.get_caller_identity().send().await.unwrap_err();
        assert_eq!(err.code(), Some("AccessDenied"));
        assert!(err.request_id().unwrap().starts_with("FAKE-"));
    }

    #[tokio::test]
    async fn resets_truncation_malformed_bodies_and_delays_fail_the_call() {
        use aws_sdk_dynamodb::error::SdkError;
        let fake = Fake::start().await;
        let db = aws_sdk_dynamodb::Client::new(&conf(&fake, 1).await);
        fake.on_target("ListTables", Reply::reset());
        let err = db.list_tables().send().await.unwrap_err();
        assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");
        fake.on_target("ListTables", Reply::truncated(r#"{"TableNames": ["#));
        let err = db.list_tables().send().await.unwrap_err();
        assert!(!matches!(err, SdkError::ServiceError(_)), "{err:?}");
        fake.on_target("ListTables", Reply::malformed());
        let err = db.list_tables().send().await.unwrap_err();
        assert!(
            matches!(err, SdkError::ResponseError(_) | SdkError::ServiceError(_)),
            "{err:?}"
        );
        fake.on_target(
            "ListTables",
            Reply::delay(Duration::from_secs(10), Reply::json(json!({}))),
        );
        let err = db.list_tables().send().await.unwrap_err();
        assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
        fake.on_target("ListTables", Reply::server_error(500));
        let err = db.list_tables().send().await.unwrap_err();
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
        assert_eq!(fake.requests_for("ListTables").len(), 5);
    }
}
