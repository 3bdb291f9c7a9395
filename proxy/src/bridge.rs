//! The bridge: newline-delimited JSON-RPC on stdin/stdout, one authenticated Streamable HTTP POST
//! per message to the remote endpoint.
//!
//! Each stdin message is forwarded in its own task, so a long tool call never holds up a ping or a
//! cancellation. Answers come back as a JSON body or as an SSE stream; every message in either is
//! written to stdout as one line, including server-initiated requests and notifications that
//! arrive on a POST's stream or on the GET stream opened after initialization. The session id and
//! negotiated protocol version are carried on every later request, as the transport requires.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use bytes::Bytes;
use http::{
    HeaderName, HeaderValue, Method, Request, Response, StatusCode,
    header::{ACCEPT, CONTENT_TYPE, HOST},
};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::{
    auth::{Auth, error_chain},
    sse,
    target::Target,
};

const MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
const MCP_PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
const ACCEPT_BOTH: &str = "application/json, text/event-stream";
/// A JSON answer bigger than this is refused rather than held in memory.
const MAX_JSON_BODY: usize = 64 * 1024 * 1024;
/// How much of an HTTP error body is quoted in the JSON-RPC error the client sees.
const ERROR_SNIPPET: usize = 500;
/// JSON-RPC error code for transport failures (the implementation-defined server-error range).
const TRANSPORT_ERROR: i64 = -32000;

type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

#[derive(Default)]
struct Session {
    id: Option<HeaderValue>,
    protocol: Option<HeaderValue>,
}

pub(crate) struct Bridge {
    client: HttpClient,
    target: Target,
    auth: Auth,
    extra_headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
    session: Mutex<Session>,
    stdout: tokio::sync::Mutex<tokio::io::Stdout>,
    listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Bridge {
    pub(crate) fn new(
        target: Target,
        auth: Auth,
        extra_headers: Vec<(HeaderName, HeaderValue)>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            // The provider the AWS SDK's own client uses (aws-lc-rs), so no second TLS stack is built.
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| format!("cannot load the system's root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build(https);
        Ok(Self {
            client,
            target,
            auth,
            extra_headers,
            timeout,
            session: Mutex::new(Session::default()),
            stdout: tokio::sync::Mutex::new(tokio::io::stdout()),
            listener: Mutex::new(None),
        })
    }

    /// Forward stdin until it closes, then wait briefly for answers in flight and end the session.
    pub(crate) async fn run(self: Arc<Self>) -> Result<(), String> {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            let line = match lines.next_line().await {
                Ok(Some(line)) => line,
                Ok(None) => break,
                Err(e) => return Err(format!("cannot read stdin: {e}")),
            };
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(msg) => {
                    tasks.spawn(self.clone().forward(msg));
                }
                Err(e) => {
                    tracing::warn!("stdin line is not JSON ({e}); answered with a parse error");
                    self.write(&json!({"jsonrpc": "2.0", "id": null,
                        "error": {"code": -32700, "message": format!("parse error: {e}")}}))
                        .await;
                }
            }
            // Reap finished tasks as we go so the set does not grow with the session.
            while tasks.try_join_next().is_some() {}
        }
        tracing::debug!("stdin closed");
        let drain = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(10), drain).await.is_err() {
            tracing::warn!("requests still in flight when stdin closed were abandoned");
        }
        let listener = self.listener.lock().ok().and_then(|mut l| l.take());
        if let Some(l) = listener {
            l.abort();
        }
        self.end_session().await;
        Ok(())
    }

    /// Send one client message and deliver whatever comes back. A request that gets no answer
    /// (transport failure, refusal, timeout, a stream that ends early) gets a JSON-RPC error with
    /// its id, so the client never waits forever.
    async fn forward(self: Arc<Self>, msg: Value) {
        let mut pending = request_ids(&msg);
        let method = method_of(&msg);
        let is_init = method.as_deref() == Some("initialize");
        let body = match serde_json::to_vec(&msg) {
            Ok(b) => Bytes::from(b),
            Err(e) => {
                tracing::warn!("cannot serialize a message: {e}");
                return;
            }
        };
        let outcome = tokio::time::timeout(self.timeout, self.exchange(body, is_init, &mut pending)).await;
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some(format!(
                "no answer within {} s (--timeout-secs)",
                self.timeout.as_secs()
            )),
        };
        if let Some(e) = &failure {
            tracing::warn!(method = method.as_deref().unwrap_or("(response)"), "{e}");
        }
        for id in pending {
            let message = failure
                .clone()
                .unwrap_or_else(|| "the server ended its answer without a response to this request".into());
            self.write(&json!({"jsonrpc": "2.0", "id": id, "error": {"code": TRANSPORT_ERROR, "message": message}}))
                .await;
        }
        if failure.is_none() && method.as_deref() == Some("notifications/initialized") {
            self.start_listener();
        }
    }

    async fn exchange(&self, body: Bytes, is_init: bool, pending: &mut Vec<Value>) -> Result<(), String> {
        let had_session = self.session.lock().map(|s| s.id.is_some()).unwrap_or(false);
        let resp = self.send(Method::POST, body, ACCEPT_BOTH).await?;
        let status = resp.status();
        tracing::debug!(%status, "POST answered");
        if status.is_success()
            && is_init
            && let Some(id) = resp.headers().get(MCP_SESSION_ID)
            && let Ok(mut s) = self.session.lock()
        {
            s.id = Some(id.clone());
        }
        if status == StatusCode::ACCEPTED || status == StatusCode::NO_CONTENT {
            return Ok(());
        }
        if !status.is_success() {
            let text = read_capped(resp.into_body(), 64 * 1024).await.unwrap_or_default();
            // A JSON-RPC error answering this very request is forwarded as the server wrote it.
            if let Ok(v) = serde_json::from_slice::<Value>(&text)
                && v.get("error").is_some()
                && v.get("id").is_some_and(|id| pending.contains(id))
            {
                self.deliver(v, pending, is_init).await;
                return Ok(());
            }
            if status == StatusCode::NOT_FOUND && had_session && !is_init {
                return Err(
                    "HTTP 404: the server no longer knows this session (it expired or the server \
                            restarted); restart the MCP client to start a new one"
                        .into(),
                );
            }
            return Err(format!("HTTP {status} from the server: {}", snippet(&text)));
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("text/event-stream") {
            self.stream(resp.into_body(), pending, is_init).await.map(|_| ())
        } else {
            let text = read_capped(resp.into_body(), MAX_JSON_BODY).await?;
            if text.iter().all(u8::is_ascii_whitespace) {
                return Ok(()); // an empty 200 to a notification
            }
            let v = serde_json::from_slice::<Value>(&text)
                .map_err(|e| format!("the server answered {content_type:?} that is not JSON ({e})"))?;
            self.deliver(v, pending, is_init).await;
            Ok(())
        }
    }

    /// Deliver every message of an SSE body; returns how many. Stops once the requests it was
    /// opened for are answered (the server should close it then anyway).
    async fn stream(&self, mut body: Incoming, pending: &mut Vec<Value>, is_init: bool) -> Result<usize, String> {
        let waiting_for_answers = !pending.is_empty();
        let mut parser = sse::Parser::default();
        let mut delivered = 0;
        loop {
            let frame = match body.frame().await {
                Some(Ok(f)) => f,
                Some(Err(e)) => return Err(format!("the server's event stream broke: {}", error_chain(&e))),
                None => break,
            };
            let Ok(chunk) = frame.into_data() else { continue };
            for ev in parser.push(&chunk)? {
                delivered += self.event(ev, pending, is_init).await;
            }
            if waiting_for_answers && pending.is_empty() {
                return Ok(delivered);
            }
        }
        if let Some(ev) = parser.finish() {
            delivered += self.event(ev, pending, is_init).await;
        }
        Ok(delivered)
    }

    async fn event(&self, ev: sse::Event, pending: &mut Vec<Value>, is_init: bool) -> usize {
        if ev.kind != "message" || ev.data.trim().is_empty() {
            return 0; // priming events and other event types carry no JSON-RPC message
        }
        match serde_json::from_str::<Value>(&ev.data) {
            Ok(v) => {
                self.deliver(v, pending, is_init).await;
                1
            }
            Err(e) => {
                tracing::warn!(
                    event_id = ev.id.as_deref(),
                    "dropped an SSE event that is not JSON ({e})"
                );
                0
            }
        }
    }

    /// Write a server message to stdout, marking the responses it holds as answered.
    async fn deliver(&self, v: Value, pending: &mut Vec<Value>, is_init: bool) {
        let messages: Vec<&Value> = match &v {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for m in messages {
            let is_response = m.get("result").is_some() || m.get("error").is_some();
            if !is_response {
                continue;
            }
            if let Some(id) = m.get("id") {
                pending.retain(|p| p != id);
            }
            if is_init
                && let Some(version) = m.pointer("/result/protocolVersion").and_then(Value::as_str)
                && let Ok(value) = HeaderValue::from_str(version)
                && let Ok(mut s) = self.session.lock()
            {
                s.protocol = Some(value);
            }
        }
        self.write(&v).await;
    }

    /// One message, one line: re-serialized compactly, so a server's pretty-printed JSON cannot
    /// break the newline-delimited framing.
    async fn write(&self, v: &Value) {
        let mut line = match serde_json::to_vec(v) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("cannot serialize a message: {e}");
                return;
            }
        };
        line.push(b'\n');
        let mut out = self.stdout.lock().await;
        if let Err(e) = async {
            out.write_all(&line).await?;
            out.flush().await
        }
        .await
        {
            tracing::warn!("cannot write to stdout: {e}");
        }
    }

    /// Build, authenticate and send one request carrying the session's headers.
    async fn send(&self, method: Method, body: Bytes, accept: &'static str) -> Result<Response<Incoming>, String> {
        let mut req = Request::builder()
            .method(method)
            .uri(self.target.uri.clone())
            .body(Full::new(body.clone()))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        let headers = req.headers_mut();
        headers.insert(HOST, self.target.host.clone());
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        if !body.is_empty() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        for (k, v) in &self.extra_headers {
            headers.insert(k.clone(), v.clone());
        }
        if let Ok(s) = self.session.lock() {
            if let Some(id) = &s.id {
                headers.insert(MCP_SESSION_ID, id.clone());
            }
            if let Some(p) = &s.protocol {
                headers.insert(MCP_PROTOCOL_VERSION, p.clone());
            }
        }
        self.auth.apply(&mut req, &body).await?;
        self.client
            .request(req)
            .await
            .map_err(|e| format!("cannot reach {}: {}", self.target.uri, error_chain(&e)))
    }

    /// Open the GET stream for server-initiated messages, once, when the session is established.
    fn start_listener(self: &Arc<Self>) {
        let has_session = self.session.lock().map(|s| s.id.is_some()).unwrap_or(false);
        let Ok(mut slot) = self.listener.lock() else { return };
        if !has_session || slot.is_some() {
            return; // a stateless server has nowhere to send unsolicited messages
        }
        *slot = Some(tokio::spawn(self.clone().listen()));
    }

    /// Keep the GET stream open, reconnecting after a stream that delivered something; give up on
    /// a refusal (405: the server offers none) or after three empty streams in a row.
    async fn listen(self: Arc<Self>) {
        let mut empty_in_a_row = 0;
        while empty_in_a_row < 3 {
            let resp = match self.send(Method::GET, Bytes::new(), "text/event-stream").await {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!("no stream for server-initiated messages: {e}");
                    return;
                }
            };
            if !resp.status().is_success() {
                tracing::debug!(status = %resp.status(), "the server offers no stream for server-initiated messages");
                return;
            }
            match self.stream(resp.into_body(), &mut Vec::new(), false).await {
                Ok(0) => empty_in_a_row += 1,
                Ok(_) => empty_in_a_row = 0,
                Err(e) => {
                    tracing::debug!("{e}");
                    empty_in_a_row += 1;
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Tell the server the session is over (best effort: the client is already gone).
    async fn end_session(&self) {
        let has_session = self.session.lock().map(|s| s.id.is_some()).unwrap_or(false);
        if !has_session {
            return;
        }
        let sent = tokio::time::timeout(
            Duration::from_secs(3),
            self.send(Method::DELETE, Bytes::new(), ACCEPT_BOTH),
        );
        match sent.await {
            Ok(Ok(r)) => tracing::debug!(status = %r.status(), "session ended"),
            Ok(Err(e)) => tracing::debug!("could not end the session: {e}"),
            Err(_) => tracing::debug!("could not end the session in time"),
        }
    }
}

/// The ids of the requests in a message (or batch): what must be answered.
fn request_ids(msg: &Value) -> Vec<Value> {
    let one = |m: &Value| m.get("method").and(m.get("id")).filter(|id| !id.is_null()).cloned();
    match msg {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        m => one(m).into_iter().collect(),
    }
}

fn method_of(msg: &Value) -> Option<String> {
    msg.get("method").and_then(Value::as_str).map(str::to_owned)
}

async fn read_capped(mut body: Incoming, cap: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("the server's answer broke off: {}", error_chain(&e)))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > cap {
                return Err(format!("the server's answer is larger than {cap} bytes"));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// An HTTP error body as one short line.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return "(empty body)".into();
    }
    match one_line.char_indices().nth(ERROR_SNIPPET) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_requests_need_answers() {
        assert_eq!(
            request_ids(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})),
            vec![json!(1)]
        );
        assert!(request_ids(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).is_empty());
        assert!(request_ids(&json!({"jsonrpc": "2.0", "id": 1, "result": {}})).is_empty());
        let batch = json!([{"id": "a", "method": "x"}, {"method": "y"}, {"id": 2, "result": {}}]);
        assert_eq!(request_ids(&batch), vec![json!("a")]);
    }

    #[test]
    fn error_snippets_are_one_bounded_line() {
        assert_eq!(snippet(b"  <html>\n Forbidden\n</html> "), "<html> Forbidden </html>");
        assert_eq!(snippet(b""), "(empty body)");
        assert_eq!(snippet("é".repeat(600).as_bytes()).chars().count(), ERROR_SNIPPET + 1);
    }
}
