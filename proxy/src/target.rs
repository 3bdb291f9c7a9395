//! The remote endpoint: its URL, and the signing service and region its host implies.

use http::{HeaderValue, Uri};

/// Where messages go, checked once at start-up.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) uri: Uri,
    /// The `Host` header, sent and signed explicitly so the signature covers exactly what is sent.
    pub(crate) host: HeaderValue,
}

impl Target {
    /// Parse `url`. Plain `http://` is allowed only to loopback: a bearer token (or a SigV4 request
    /// anyone on the path could replay) must not cross a network in the clear.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("URL {url:?} is not a valid URL: {e}"))?;
        let scheme = uri.scheme_str().unwrap_or("");
        let host = uri.host().ok_or_else(|| format!("URL {url:?} has no host"))?.to_owned();
        match scheme {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => {
                return Err(format!("URL {url:?} uses plain http to a non-loopback host: use https"));
            }
            _ => return Err(format!("URL {url:?} must start with https://")),
        }
        let default_port = matches!((scheme, uri.port_u16()), ("https", Some(443)) | ("http", Some(80)));
        // The same rule as aws-sigv4 and hyper: a default port is left out of Host. (`Uri::host`
        // keeps an IPv6 literal's brackets.)
        let host_value = match uri.port_u16() {
            Some(port) if !default_port => format!("{host}:{port}"),
            _ => host,
        };
        let host = HeaderValue::from_str(&host_value)
            .map_err(|_| format!("URL {url:?} has a host that cannot be sent as a header"))?;
        Ok(Self { uri, host })
    }

    /// The SigV4 service and region the host name implies, where it follows an AWS pattern.
    pub(crate) fn inferred(&self) -> (Option<&'static str>, Option<String>) {
        infer(self.uri.host().unwrap_or(""))
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Service and region from an AWS host name:
/// - `<id>.lambda-url.<region>.on.aws` (Lambda Function URL) → `lambda`
/// - `bedrock-agentcore.<region>.amazonaws.com` (AgentCore Runtime) and
///   `<id>.gateway.bedrock-agentcore.<region>.amazonaws.com` (AgentCore Gateway) → `bedrock-agentcore`
/// - `<id>.execute-api.<region>.amazonaws.com` (API Gateway with IAM auth) → `execute-api`
pub(crate) fn infer(host: &str) -> (Option<&'static str>, Option<String>) {
    let host = host.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    for (marker, service) in [
        ("lambda-url", "lambda"),
        ("bedrock-agentcore", "bedrock-agentcore"),
        ("bedrock-agentcore-fips", "bedrock-agentcore"),
        ("execute-api", "execute-api"),
    ] {
        if let Some(i) = labels.iter().position(|l| *l == marker) {
            let region = labels
                .get(i + 1)
                .filter(|r| looks_like_region(r))
                .map(|r| (*r).to_owned());
            return (Some(service), region);
        }
    }
    (None, None)
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-5`: letters, dashes, a final number.
fn looks_like_region(s: &str) -> bool {
    let mut parts = s.split('-');
    let first_is_letters = parts
        .next()
        .is_some_and(|p| p.len() >= 2 && p.bytes().all(|b| b.is_ascii_lowercase()));
    let rest: Vec<&str> = parts.collect();
    first_is_letters
        && rest.len() >= 2
        && rest
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_hosts_imply_service_and_region() {
        assert_eq!(
            infer("abcdefghijklmnop.lambda-url.eu-west-1.on.aws"),
            (Some("lambda"), Some("eu-west-1".into()))
        );
        assert_eq!(
            infer("bedrock-agentcore.us-west-2.amazonaws.com"),
            (Some("bedrock-agentcore"), Some("us-west-2".into()))
        );
        assert_eq!(
            infer("my-gw-123.gateway.bedrock-agentcore.us-east-1.amazonaws.com"),
            (Some("bedrock-agentcore"), Some("us-east-1".into()))
        );
        assert_eq!(
            infer("a1b2c3.execute-api.us-gov-west-1.amazonaws.com"),
            (Some("execute-api"), Some("us-gov-west-1".into()))
        );
        assert_eq!(infer("127.0.0.1"), (None, None));
        assert_eq!(infer("mcp.example.com"), (None, None));
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(Target::parse("http://127.0.0.1:8080/mcp").is_ok());
        assert!(Target::parse("http://localhost/mcp").is_ok());
        assert!(Target::parse("http://[::1]:9/mcp").is_ok());
        let err = Target::parse("http://mcp.example.com/mcp").unwrap_err();
        assert!(err.contains("use https"), "{err}");
        assert!(Target::parse("ftp://x/").is_err());
        assert!(Target::parse("not a url").is_err());
    }

    #[test]
    fn host_header_drops_default_ports_only() {
        let t = Target::parse("https://x.lambda-url.us-east-1.on.aws:443/").unwrap();
        assert_eq!(t.host, "x.lambda-url.us-east-1.on.aws");
        let t = Target::parse("http://127.0.0.1:8080/mcp").unwrap();
        assert_eq!(t.host, "127.0.0.1:8080");
    }
}
