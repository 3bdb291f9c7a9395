//! What the fake answers: [`Reply`] and the handlers that choose one, rendered in a route's
//! protocol ([`render`]).

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use serde_json::Value;

use super::{Protocol, Request};

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

pub(super) type Body = BoxBody<Bytes, std::io::Error>;

pub(super) fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never: Infallible| match never {}).boxed()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub(super) fn render(reply: Reply, protocol: Protocol, req: &Request) -> hyper::Response<Body> {
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
        } => {
            // Session credentials handed to a server are its own from now on: the scan looks for them.
            crate::scan::learn_from_reply(&String::from_utf8_lossy(&body), "the fake");
            (
                status,
                content_type.unwrap_or_else(|| protocol.content_type().to_owned()),
                full(body),
                headers,
            )
        }
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
        Reply::QueryResult { action, inner } => {
            crate::scan::learn_from_reply(&inner, "the fake");
            (
                200,
                "text/xml".into(),
                full(format!(
                    "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>{id}</RequestId></ResponseMetadata></{action}Response>"
                )),
                Vec::new(),
            )
        }
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
