//! What the fake received: [`Request`], and the wire [`Protocol`] a route speaks.

use std::collections::BTreeMap;

use bytes::Bytes;
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

    pub(super) fn is_json(self) -> bool {
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
