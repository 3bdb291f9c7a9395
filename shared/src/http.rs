//! What stands in front of rmcp's Streamable HTTP service on every HTTP-shaped transport (HTTP,
//! AgentCore Runtime, Lambda events): tolerance for what real clients send, and the caller's
//! identity for the audit line.
//!
//! rmcp is strict where clients in the wild are not: it answers 400 to an `initialize` whose
//! `MCP-Protocol-Version` header disagrees with the body (the header only means something after
//! negotiation, yet some clients send their newest version), and 400 to a header repeated on one
//! line (`2025-06-18, 2025-06-18`, as Claude Code sends it), and -32020 to a request whose
//! `_meta` names one protocol version while the header names another (claude.ai connectors send
//! `2025-11-25` with 2026-07-28 `_meta`). [`normalize`] fixes these before rmcp sees the request,
//! and [`answer`] turns the 202 rmcp gives a session DELETE into the 204 the Python SDK expects.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited, combinators::BoxBody};
use serde_json::Value;

use crate::audit::Caller;

pub const PROTOCOL_VERSION: &str = "mcp-protocol-version";
pub const SESSION_ID: &str = "mcp-session-id";
/// SEP-2243 routing headers, required from 2026-07-28 on.
const MCP_METHOD: &str = "mcp-method";
const MCP_NAME: &str = "mcp-name";
/// The per-request protocol version of 2026-07-28 requests.
const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// The first version that puts the protocol version in `_meta` and requires SEP-2243 headers.
const STATELESS_VERSION: &str = "2026-07-28";

/// Bodies larger than this are refused before parsing (rmcp's own default limit).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

pub type HttpResponse = Response<BoxBody<Bytes, Infallible>>;

/// A request read whole (rmcp reads it whole anyway), with its protocol-version header made
/// acceptable; the parsed JSON-RPC message, when the body is one, for routing decisions.
pub struct Buffered {
    pub request: Request<Full<Bytes>>,
    pub message: Option<Value>,
}

impl Buffered {
    /// The JSON-RPC method of a single message.
    pub fn method(&self) -> Option<&str> {
        self.message.as_ref()?.get("method")?.as_str()
    }
}

/// Read the body (up to the limit) and normalise the `MCP-Protocol-Version` header.
pub async fn normalize<B>(request: Request<B>) -> Result<Buffered, HttpResponse>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (mut parts, body) = request.into_parts();
    let bytes = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let status = if e.is::<http_body_util::LengthLimitError>() {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            };
            return Err(text(status, format!("cannot read the request body: {e}")));
        }
    };
    let message: Option<Value> = serde_json::from_slice(&bytes).ok();
    normalize_version_header(&mut parts.headers, message.as_ref());
    Ok(Buffered {
        request: Request::from_parts(parts, Full::new(bytes)),
        message,
    })
}

/// Make the protocol-version header one clean value rmcp accepts:
/// - on `initialize` the body negotiates and the header has no meaning yet: it is dropped;
/// - a request whose `_meta` names its protocol version is served in that version: the header
///   says the same (and, from 2026-07-28, the `Mcp-Method`/`Mcp-Name` headers the body implies
///   are added when missing; ones present are left for rmcp to check);
/// - a list on one line or repeated lines (`2025-06-18, 2025-06-18`) become the first value.
pub fn normalize_version_header(headers: &mut HeaderMap, message: Option<&Value>) {
    let method = message.and_then(|m| m.get("method")).and_then(Value::as_str);
    if method == Some("initialize") {
        headers.remove(PROTOCOL_VERSION);
        return;
    }
    if let (Some(message), Some(method)) = (message, method)
        && let Some(version) = meta_version(message)
    {
        follow_meta_version(headers, message, method, version);
        return;
    }
    if !headers.contains_key(PROTOCOL_VERSION) {
        return;
    }
    let lines = headers.get_all(PROTOCOL_VERSION).iter().count();
    let first = headers
        .get_all(PROTOCOL_VERSION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|v| !v.is_empty())
        .map(str::to_owned);
    let Some(first) = first else { return };
    let unchanged = lines == 1 && headers.get(PROTOCOL_VERSION).and_then(|v| v.to_str().ok()) == Some(first.as_str());
    if !unchanged && let Ok(value) = HeaderValue::from_str(&first) {
        headers.insert(PROTOCOL_VERSION, value);
    }
}

/// The protocol version a request's `_meta` names (2026-07-28 and later), if it looks like one.
fn meta_version(message: &Value) -> Option<&str> {
    let v = message
        .get("params")?
        .get("_meta")?
        .get(META_PROTOCOL_VERSION)?
        .as_str()?;
    let looks_like_a_date = v.len() == 10 && v.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    looks_like_a_date.then_some(v)
}

/// The body is what the request means: make the headers say the same.
fn follow_meta_version(headers: &mut HeaderMap, message: &Value, method: &str, version: &str) {
    let current: Vec<&str> = headers
        .get_all(PROTOCOL_VERSION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if current != [version] {
        if !current.is_empty() {
            tracing::debug!(
                header = current.join(", "),
                meta = version,
                "protocol version taken from _meta"
            );
        }
        if let Ok(value) = HeaderValue::from_str(version) {
            headers.insert(PROTOCOL_VERSION, value);
        }
    }
    if version < STATELESS_VERSION {
        return;
    }
    if !headers.contains_key(MCP_METHOD)
        && let Ok(value) = HeaderValue::from_str(method)
    {
        headers.insert(MCP_METHOD, value);
    }
    let name_key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => "uri",
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return,
    };
    let name = message
        .get("params")
        .and_then(|p| p.get(name_key))
        .and_then(Value::as_str);
    if let Some(name) = name
        && !headers.contains_key(MCP_NAME)
        && let Ok(value) = HeaderValue::from_str(&header_safe(name))
    {
        headers.insert(MCP_NAME, value);
    }
}

/// A header value as SEP-2243 writes it: plain printable ASCII without edge blanks as is, anything
/// else Base64 between `=?base64?` and `?=`.
fn header_safe(value: &str) -> String {
    use base64::Engine;
    // A plain value that looks wrapped would be decoded by the reader: wrap it too.
    let looks_wrapped = value.starts_with("=?base64?") && value.ends_with("?=");
    let plain = value.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && !value.starts_with([' ', '\t'])
        && !value.ends_with([' ', '\t'])
        && !looks_wrapped;
    if plain {
        value.to_owned()
    } else {
        format!("=?base64?{}?=", base64::engine::general_purpose::STANDARD.encode(value))
    }
}

/// The answer to an HTTP request, adjusted for clients: a session DELETE that rmcp accepted with
/// 202 becomes 204 No Content, which the Python SDK expects (it logs "Session termination
/// failed: 202" otherwise); the TypeScript SDK takes either.
pub fn answer(method: &http::Method, mut response: HttpResponse) -> HttpResponse {
    if *method == http::Method::DELETE && response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::NO_CONTENT;
        *response.body_mut() = Full::new(Bytes::new()).boxed();
        response.headers_mut().remove(http::header::CONTENT_TYPE);
        response.headers_mut().remove(http::header::CONTENT_LENGTH);
    }
    response
}

/// The caller a Lambda HTTP event names: the IAM principal of a SigV4-signed call (Function URL
/// with `AWS_IAM`, API Gateway IAM auth), else the subject and client id of a JWT authorizer.
pub fn lambda_caller(request: &lambda_http::Request) -> Option<Caller> {
    use lambda_http::{RequestExt, request::RequestContext};
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => authorizer_caller(ctx.authorizer.as_ref()?),
        RequestContext::ApiGatewayV1(ctx) => {
            let identity = &ctx.identity;
            match identity.user_arn.as_ref().or(identity.caller.as_ref()) {
                Some(arn) if identity.cognito_authentication_type.is_none() => Some(Caller {
                    kind: "iam",
                    principal: arn.clone(),
                    client_id: None,
                }),
                _ => authorizer_caller(&ctx.authorizer),
            }
        }
        _ => None,
    }
}

fn authorizer_caller(auth: &lambda_http::aws_lambda_events::apigw::ApiGatewayRequestAuthorizer) -> Option<Caller> {
    if let Some(iam) = &auth.iam
        && let Some(principal) = iam
            .user_arn
            .as_ref()
            .or(iam.caller_id.as_ref())
            .or(iam.user_id.as_ref())
    {
        return Some(Caller {
            kind: "iam",
            principal: principal.clone(),
            client_id: None,
        });
    }
    // HTTP APIs put JWT claims under `jwt.claims`; REST APIs' Cognito authorizers under `claims`.
    let claims: Vec<(String, String)> = match (&auth.jwt, auth.fields.get("claims")) {
        (Some(jwt), _) => jwt.claims.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        (None, Some(Value::Object(map))) => map
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
            .collect(),
        _ => return None,
    };
    let claim = |name: &str| claims.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    Some(Caller {
        kind: "jwt",
        principal: claim("sub")?,
        // Cognito access tokens carry `client_id`; OIDC tokens `azp`, ID tokens only `aud`.
        client_id: claim("client_id").or_else(|| claim("azp")).or_else(|| claim("aud")),
    })
}

pub fn text(status: StatusCode, body: impl Into<Bytes>) -> HttpResponse {
    let mut resp = Response::new(Full::new(body.into()).boxed());
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(PROTOCOL_VERSION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn values(h: &HeaderMap) -> Vec<&str> {
        h.get_all(PROTOCOL_VERSION)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    #[test]
    fn the_header_becomes_one_clean_value() {
        let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
        let mut h = headers(&["2025-06-18, 2025-06-18"]);
        normalize_version_header(&mut h, Some(&call));
        assert_eq!(values(&h), ["2025-06-18"]);
        let mut h = headers(&["2025-06-18", "2025-06-18"]);
        normalize_version_header(&mut h, Some(&call));
        assert_eq!(values(&h), ["2025-06-18"]);
        let mut h = headers(&[" 2025-11-25 "]);
        normalize_version_header(&mut h, None);
        assert_eq!(values(&h), ["2025-11-25"]);
        // A clean header and an absent one are left alone.
        let mut h = headers(&["2025-11-25"]);
        normalize_version_header(&mut h, Some(&call));
        assert_eq!(values(&h), ["2025-11-25"]);
        let mut h = HeaderMap::new();
        normalize_version_header(&mut h, Some(&call));
        assert!(h.is_empty());
    }

    #[test]
    fn initialize_is_negotiated_by_its_body() {
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                          "params": {"protocolVersion": "2025-11-25"}});
        let mut h = headers(&["2025-06-18"]);
        normalize_version_header(&mut h, Some(&init));
        assert!(h.get(PROTOCOL_VERSION).is_none());
    }

    #[test]
    fn a_request_is_served_in_the_version_its_meta_names() {
        let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                          "io.modelcontextprotocol/clientCapabilities": {}});
        let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                          "params": {"name": "get_object", "arguments": {}, "_meta": meta}});
        // claude.ai connectors: header 2025-11-25, body 2026-07-28, no SEP-2243 headers.
        let mut h = headers(&["2025-11-25"]);
        normalize_version_header(&mut h, Some(&call));
        assert_eq!(values(&h), ["2026-07-28"]);
        assert_eq!(h.get(MCP_METHOD).unwrap(), "tools/call");
        assert_eq!(h.get(MCP_NAME).unwrap(), "get_object");
        // No header at all: the body's version too.
        let mut h = HeaderMap::new();
        normalize_version_header(&mut h, Some(&call));
        assert_eq!(values(&h), ["2026-07-28"]);
        // Routing headers the client sent are left for rmcp to check against the body.
        let mut h = headers(&["2025-11-25"]);
        h.insert(MCP_METHOD, HeaderValue::from_static("tools/list"));
        normalize_version_header(&mut h, Some(&call));
        assert_eq!(h.get(MCP_METHOD).unwrap(), "tools/list");
        // A name that is not plain ASCII is Base64, as SEP-2243 writes it.
        let read = json!({"jsonrpc": "2.0", "id": 4, "method": "resources/read",
                          "params": {"uri": "s3://b/ключ", "_meta": meta}});
        let mut h = HeaderMap::new();
        normalize_version_header(&mut h, Some(&read));
        assert_eq!(h.get(MCP_NAME).unwrap(), "=?base64?czM6Ly9iL9C60LvRjtGH?=");
        // Something that is not a version is not trusted.
        let odd = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list",
                         "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "latest"}}});
        let mut h = headers(&["2025-11-25"]);
        normalize_version_header(&mut h, Some(&odd));
        assert_eq!(values(&h), ["2025-11-25"]);
        assert!(h.get(MCP_METHOD).is_none());
    }

    #[test]
    fn a_session_delete_answers_204() {
        let accepted = || {
            let mut r = text(StatusCode::ACCEPTED, "");
            *r.status_mut() = StatusCode::ACCEPTED;
            r
        };
        assert_eq!(
            answer(&http::Method::DELETE, accepted()).status(),
            StatusCode::NO_CONTENT
        );
        assert_eq!(answer(&http::Method::POST, accepted()).status(), StatusCode::ACCEPTED);
        let refused = text(StatusCode::METHOD_NOT_ALLOWED, "no");
        assert_eq!(
            answer(&http::Method::DELETE, refused).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused_before_parsing() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        let req = Request::new(Full::new(Bytes::from(big)));
        let resp = normalize(req).await.err().expect("refused");
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn lambda_callers_come_from_the_request_context() {
        let event = |ctx: Value| {
            json!({
                "version": "2.0", "routeKey": "$default", "rawPath": "/mcp", "rawQueryString": "",
                "headers": {"content-type": "application/json"},
                "requestContext": ctx, "body": "{}", "isBase64Encoded": false
            })
            .to_string()
        };
        let http =
            json!({"method": "POST", "path": "/mcp", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4", "userAgent": "x"});
        let iam = event(json!({
            "accountId": "123456789012", "apiId": "a", "http": http, "requestId": "r", "routeKey": "$default",
            "stage": "$default", "time": "t", "timeEpoch": 0,
            "authorizer": {"iam": {"accessKey": "AKIA", "accountId": "123456789012", "callerId": "AROA:alice",
                                   "userArn": "arn:aws:sts::123456789012:assumed-role/ops/alice", "userId": "AROA:alice"}}
        }));
        let req = lambda_http::request::from_str(&iam).unwrap();
        let caller = lambda_caller(&req).unwrap();
        assert_eq!(caller.kind, "iam");
        assert_eq!(caller.principal, "arn:aws:sts::123456789012:assumed-role/ops/alice");

        let jwt = event(json!({
            "accountId": "123456789012", "apiId": "a", "http": http, "requestId": "r", "routeKey": "$default",
            "stage": "$default", "time": "t", "timeEpoch": 0,
            "authorizer": {"jwt": {"claims": {"sub": "user-42", "client_id": "app-7", "scope": "mcp"}, "scopes": null}}
        }));
        let req = lambda_http::request::from_str(&jwt).unwrap();
        let caller = lambda_caller(&req).unwrap();
        assert_eq!((caller.kind, caller.principal.as_str()), ("jwt", "user-42"));
        assert_eq!(caller.client_id.as_deref(), Some("app-7"));

        let open = event(json!({
            "accountId": "123456789012", "apiId": "a", "http": http, "requestId": "r", "routeKey": "$default",
            "stage": "$default", "time": "t", "timeEpoch": 0
        }));
        assert_eq!(lambda_caller(&lambda_http::request::from_str(&open).unwrap()), None);
    }
}
