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

mod reply;
mod request;
#[cfg(test)]
mod tests;

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use http_body_util::BodyExt;
use serde_json::Value;

use reply::{Body, render};
pub use reply::{Handler, IntoHandler, Reply, Shared, sequence, throttle, throttle_with};
pub use request::{Protocol, Request};

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
