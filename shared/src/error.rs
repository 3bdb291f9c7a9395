//! [`ToolError`]: every way a tool call can fail, and the one place AWS SDK errors become tool
//! error results (`isError: true`) the model can read and act on. Never a panic, never raw HTTP or
//! XML, never credential material.

use aws_smithy_runtime_api::client::{orchestrator::HttpResponse, result::SdkError};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use serde::Serialize;
use serde_json::json;

use crate::aws::{Op, Target};

/// A failed AWS call, with everything a model (or a person reading the audit log) needs.
#[derive(Clone, Debug, Serialize)]
pub struct AwsError {
    pub service: &'static str,
    pub operation: &'static str,
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub retryable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum ToolError {
    /// An argument is wrong; `field` names it and `message` says what to do instead.
    #[error("invalid argument `{field}`: {message}")]
    InvalidArgument { field: String, message: String },
    /// The resource is outside the allowlist the server was started with.
    #[error(
        "{kind} `{name}` is not allowed by this server's allowlist ({patterns}); ask the operator to add it with {flag}"
    )]
    NotAllowed {
        kind: &'static str,
        name: String,
        patterns: String,
        flag: &'static str,
    },
    /// A write was asked of a server started without `--allow-writes`.
    #[error("{what} changes data, and this server is read-only; restart it with --allow-writes to enable writes")]
    ReadOnly { what: String },
    /// A pagination cursor that this tool did not issue for these arguments.
    #[error("invalid cursor: {0}")]
    Cursor(String),
    /// AWS answered with an error.
    #[error("{}", aws_line(.0))]
    Aws(Box<AwsError>),
    /// AWS could not be reached or did not answer in time.
    #[error("{service}:{operation} could not complete against {endpoint}: {detail}")]
    Transport {
        service: &'static str,
        operation: &'static str,
        endpoint: String,
        detail: String,
        retryable: bool,
    },
    /// The tool is hidden on this server; `flag` is what would enable it.
    #[error("{}", not_enabled_line(.tool, .flag))]
    NotEnabled { tool: String, flag: String },
    /// The user declined (or could not be asked) to let a destructive call run.
    #[error("{0}")]
    Declined(String),
    /// A bug in this server (a panic inside a tool), reported instead of leaving the call unanswered.
    #[error("internal error in {0}; the server keeps serving, and the audit log has the details")]
    Internal(String),
    /// Something this server cannot do with what it was given (e.g. a missing credential source).
    #[error("{0}")]
    Other(String),
}

fn not_enabled_line(tool: &str, flag: &str) -> String {
    let why = match flag {
        "--tools" => "it is not among the tools chosen with --tools; ask the operator to add it".to_owned(),
        "--exclude-tools" => "it is hidden by --exclude-tools".to_owned(),
        f => format!("the operator must restart the server with {f} to enable it"),
    };
    format!("{tool} is not enabled on this server: {why}")
}

/// What a transport error after the request may have been sent says about writes.
const UNKNOWN_OUTCOME: &str =
    ". The request may have reached AWS: if this call changes data, its outcome is unknown; check before retrying";

fn aws_line(e: &AwsError) -> String {
    let mut s = format!("{} from {}:{}", e.code, e.service, e.operation);
    if let Some(status) = e.http_status {
        s.push_str(&format!(" (HTTP {status})"));
    }
    if !e.message.is_empty() {
        s.push_str(&format!(": {}", e.message.trim_end_matches('.')));
    }
    if let Some(hint) = &e.hint {
        s.push_str(&format!(". Hint: {hint}"));
    }
    if let Some(id) = &e.request_id {
        s.push_str(&format!(" [request id {id}]"));
    }
    s
}

impl ToolError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A short machine-readable kind, also used as the audit outcome.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidArgument { .. } => "invalid_argument",
            Self::NotAllowed { .. } => "not_allowed",
            Self::ReadOnly { .. } => "read_only",
            Self::Cursor(_) => "invalid_cursor",
            Self::Aws(_) => "aws",
            Self::Transport { .. } => "transport",
            Self::NotEnabled { .. } => "not_enabled",
            Self::Declined(_) => "declined",
            Self::Internal(_) => "internal",
            Self::Other(_) => "other",
        }
    }

    /// The AWS error code, if AWS answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Aws(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The structured form sent as `structuredContent` of the error result.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = match self {
            Self::Aws(e) => serde_json::to_value(e).unwrap_or_default(),
            Self::InvalidArgument { field, .. } => json!({ "field": field }),
            Self::NotAllowed { kind, name, .. } => json!({ "resource_kind": kind, "name": name }),
            Self::NotEnabled { flag, .. } => json!({ "flag": flag }),
            Self::Transport {
                service,
                operation,
                endpoint,
                retryable,
                ..
            } => json!({
                "service": service, "operation": operation, "endpoint": endpoint, "retryable": retryable }),
            _ => json!({}),
        };
        body["kind"] = json!(self.kind());
        body["summary"] = json!(self.to_string());
        json!({ "error": body })
    }

    /// Map an SDK error. `op` names the call, `target` where it went.
    pub fn from_sdk<E>(op: Op, target: &Target, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let transport = |detail: String, retryable: bool| Self::Transport {
            service: op.service,
            operation: op.operation,
            endpoint: target.endpoint.clone(),
            detail,
            retryable,
        };
        match &err {
            SdkError::ServiceError(ctx) => {
                let status = ctx.raw().status().as_u16();
                let (code, message) = match err.code() {
                    Some(code) => (code.to_owned(), err.message().unwrap_or_default().to_owned()),
                    // No error code: the body was not the service's (an HTML page, a cut or
                    // malformed answer). Say so, with what the SDK could not read.
                    None => (
                        fallback_code(status),
                        err.message()
                            .filter(|m| !m.is_empty())
                            .map(str::to_owned)
                            .unwrap_or_else(|| {
                                format!(
                                    "the response from {} could not be understood ({})",
                                    target.endpoint,
                                    source_chain(&err)
                                )
                            }),
                    ),
                };
                Self::aws(op, target, code, message, Some(status), err.request_id())
            }
            SdkError::ResponseError(ctx) => {
                let status = ctx.raw().status().as_u16();
                Self::aws(
                    op,
                    target,
                    fallback_code(status),
                    format!("the response from {} could not be understood", target.endpoint),
                    Some(status),
                    err.request_id(),
                )
            }
            SdkError::TimeoutError(_) => transport(
                format!(
                    "no complete answer within the operation timeout (raise --operation-timeout-secs, or check the \
                     endpoint){UNKNOWN_OUTCOME}"
                ),
                true,
            ),
            SdkError::DispatchFailure(d) => {
                let cause = source_chain(&err);
                let lower = cause.to_ascii_lowercase();
                // Refused or unresolved connections never carried the request; anything else may have.
                let never_sent = ["connection refused", "(connect)", "dns error", "failed to lookup"]
                    .iter()
                    .any(|m| lower.contains(m));
                let outcome = if never_sent { "" } else { UNKNOWN_OUTCOME };
                if d.is_timeout() {
                    transport(
                        format!("connection timed out ({cause}); check the endpoint and network{outcome}"),
                        true,
                    )
                } else if d.is_io() {
                    transport(
                        format!("endpoint unreachable ({cause}); check the endpoint URL, network or proxy{outcome}"),
                        true,
                    )
                } else {
                    credentials_or(op, target, cause)
                }
            }
            // Construction failures are almost always missing credentials or region.
            _ => credentials_or(op, target, source_chain(&err)),
        }
    }

    fn aws(
        op: Op,
        target: &Target,
        code: String,
        message: String,
        status: Option<u16>,
        request_id: Option<&str>,
    ) -> Self {
        let retryable = is_throttling(&code) || status.is_some_and(|s| s >= 500);
        let hint = hint(op, target, &code, status);
        Self::Aws(Box::new(AwsError {
            service: op.service,
            operation: op.operation,
            code,
            message,
            http_status: status,
            request_id: request_id.map(str::to_owned),
            retryable,
            hint,
        }))
    }

    /// Attach the request id of the response this error was derived from.
    pub fn with_request_id(mut self, id: Option<&str>) -> Self {
        if let (Self::Aws(e), Some(id)) = (&mut self, id) {
            e.request_id = Some(id.to_owned());
        }
        self
    }

    /// Build an AWS-shaped error for a condition the server itself detects on AWS's behalf (for
    /// example a 404 from a HEAD request, which carries no code).
    pub fn aws_code(op: Op, target: &Target, code: &str, message: impl Into<String>, status: Option<u16>) -> Self {
        Self::aws(op, target, code.to_owned(), message.into(), status, None)
    }
}

fn credentials_or(op: Op, target: &Target, cause: String) -> ToolError {
    let lower = cause.to_ascii_lowercase();
    if lower.contains("credential") || lower.contains("token") || lower.contains("sso") {
        ToolError::Other(format!(
            "{}:{} could not be signed: {cause}. Configure credentials the way the AWS CLI finds them \
             (AWS_PROFILE, `aws sso login`, environment variables, or an instance/container role)",
            op.service, op.operation
        ))
    } else {
        ToolError::Transport {
            service: op.service,
            operation: op.operation,
            endpoint: target.endpoint.clone(),
            detail: cause,
            retryable: false,
        }
    }
}

/// The error's causes, joined; SDK dispatch errors keep the useful part (e.g. "Connection refused")
/// several levels down. Clipped so an odd error cannot flood the result.
fn source_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    let mut s = parts.join(": ");
    if s.len() > 400 {
        let cut = (0..=400).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        s.truncate(cut);
        s.push('…');
    }
    s
}

fn fallback_code(status: u16) -> String {
    match status {
        301 => "PermanentRedirect",
        400 => "BadRequest",
        403 => "AccessDenied",
        404 => "NotFound",
        _ if status >= 500 => "ServiceUnavailable",
        _ => "UnknownError",
    }
    .to_owned()
}

pub fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "ProvisionedThroughputExceededException"
            | "TransactionInProgressException"
            | "RequestLimitExceeded"
            | "BandwidthLimitExceeded"
            | "LimitExceededException"
            | "RequestThrottled"
            | "SlowDown"
            | "PriorRequestNotComplete"
            | "EC2ThrottledException"
    )
}

/// A server's own hints for AWS error codes, which name its tools (`NoSuchBucket` → list_buckets).
/// Asked before the generic ones.
pub type ServerHints = fn(code: &str, op: Op, region: &str) -> Option<String>;

static SERVER_HINTS: std::sync::OnceLock<ServerHints> = std::sync::OnceLock::new();

/// Install the server's hints (once, at start-up; later calls are ignored).
pub fn set_server_hints(hints: ServerHints) {
    let _ = SERVER_HINTS.set(hints);
}

/// One line on what to do about the common codes.
fn hint(op: Op, target: &Target, code: &str, status: Option<u16>) -> Option<String> {
    let region = &target.region;
    if let Some(h) = SERVER_HINTS.get().and_then(|f| f(code, op, region)) {
        return Some(h);
    }
    let h = match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "Forbidden" => format!(
            "the caller is not allowed {}: grant that IAM action on this resource (and check SCPs, resource policies and KMS key policies)",
            op.iam_action
        ),
        "ResourceNotFoundException" | "NotFound" => format!("not found: check the name and the region (this call went to {region})"),
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => {
            "the credentials have expired: refresh them (e.g. `aws sso login`) — the server picks new ones up without a restart".into()
        }
        "InvalidAccessKeyId" | "UnrecognizedClientException" | "InvalidClientTokenId" => {
            "the access key is not recognised: check AWS_PROFILE / credentials, and the endpoint/region".into()
        }
        "SignatureDoesNotMatch" | "InvalidSignatureException" => {
            "the request signature was rejected: check the secret key and the system clock".into()
        }
        "ValidationException" => "AWS rejected the request as invalid: read the message, fix the named parameter or expression".into(),
        c if is_throttling(c) => format!(
            "AWS throttled the request; it was tried {} times with backoff. Wait, then retry with a smaller page size or less concurrency",
            target.max_attempts
        ),
        _ if status.is_some_and(|s| s >= 500) => {
            format!("AWS had a server-side error; it was tried {} times. Retry later", target.max_attempts)
        }
        _ => return None,
    };
    Some(h)
}

/// Tools return `Result<_, ToolError>`; the error side becomes an `isError: true` result with a
/// readable line as text and the details as `structuredContent`.
impl rmcp::handler::server::tool::IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, rmcp::ErrorData> {
        let mut result = CallToolResult::error(vec![ContentBlock::text(self.to_string())]);
        result.structured_content = Some(self.to_json());
        Ok(result.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            region: "eu-west-1".into(),
            endpoint: "http://127.0.0.1:1".into(),
            max_attempts: 4,
        }
    }
    const OP: Op = Op::new("s3", "ListObjectsV2", "s3:ListBucket");

    #[test]
    fn access_denied_names_the_iam_action() {
        let e = ToolError::aws_code(OP, &target(), "AccessDenied", "denied", Some(403));
        let j = e.to_json();
        assert_eq!(j["error"]["code"], "AccessDenied");
        assert!(j["error"]["hint"].as_str().unwrap().contains("s3:ListBucket"));
        assert_eq!(j["error"]["retryable"], false);
    }

    #[test]
    fn throttling_is_retryable_and_says_how_often_it_was_tried() {
        let e = ToolError::aws_code(OP, &target(), "SlowDown", "", Some(503));
        let j = e.to_json();
        assert_eq!(j["error"]["retryable"], true);
        assert!(j["error"]["hint"].as_str().unwrap().contains("4 times"));
    }

    #[test]
    fn summary_line_carries_code_status_and_request_id() {
        let mut e = ToolError::aws_code(
            OP,
            &target(),
            "NoSuchBucket",
            "The specified bucket does not exist",
            Some(404),
        );
        if let ToolError::Aws(a) = &mut e {
            a.request_id = Some("REQ123".into());
        }
        let s = e.to_string();
        assert!(s.starts_with("NoSuchBucket from s3:ListObjectsV2 (HTTP 404)"), "{s}");
        assert!(s.contains("REQ123"));
    }

    #[test]
    fn long_causes_are_clipped_on_a_char_boundary() {
        #[derive(Debug)]
        struct Long;
        impl std::fmt::Display for Long {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&"é".repeat(500))
            }
        }
        impl std::error::Error for Long {}
        assert!(source_chain(&Long).len() <= 404);
    }
}
