//! How each outgoing request is authenticated: SigV4 with credentials from the standard chain, or
//! a static bearer token. Neither a secret key, a session token nor a bearer token is ever logged
//! (the `Debug` impls below name only the kind, service and region).

use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::{
    Credentials,
    provider::{ProvideCredentials, SharedCredentialsProvider},
};
use aws_sigv4::{
    http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign},
    sign::v4,
};
use http::{HeaderValue, Request};

/// Environment variable adding seconds (possibly negative) to the signing clock. For testing only:
/// it lets the tests produce an expired signature through the real binary.
pub(crate) const CLOCK_SKEW_ENV: &str = "AWS_MCP_PROXY_CLOCK_SKEW_SECS";

/// Credentials without an expiry (environment, static profile keys) are re-read this often, so a
/// rotated key is picked up without restarting the client.
const STATIC_CREDENTIALS_TTL: Duration = Duration::from_secs(300);
/// Expiring credentials are refreshed this long before they expire, so no request is signed with
/// credentials that lapse while it is in flight.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

pub(crate) enum Auth {
    SigV4(SigV4),
    Bearer(HeaderValue),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SigV4(s) => write!(f, "SigV4(service={}, region={})", s.service, s.region),
            Self::Bearer(_) => f.write_str("Bearer(..)"),
        }
    }
}

impl Auth {
    /// A bearer token read from the environment variable `var` (never from the command line, where
    /// other local users could read it in the process list).
    pub(crate) fn bearer_from_env(var: &str) -> Result<Self, String> {
        let token = std::env::var(var)
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| format!("--bearer-token-env {var}: the variable is not set or is empty"))?;
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| format!("--bearer-token-env {var}: the token contains characters not allowed in a header"))?;
        value.set_sensitive(true);
        Ok(Self::Bearer(value))
    }

    /// Add the `Authorization` header (and for SigV4 `X-Amz-Date`, `X-Amz-Content-Sha256` and
    /// `X-Amz-Security-Token`). `body` is the request body; every header already set is signed.
    pub(crate) async fn apply<B>(&self, req: &mut Request<B>, body: &[u8]) -> Result<(), String> {
        match self {
            Self::Bearer(value) => {
                req.headers_mut().insert(http::header::AUTHORIZATION, value.clone());
                Ok(())
            }
            Self::SigV4(s) => s.sign(req, body).await,
        }
    }
}

pub(crate) struct SigV4 {
    pub(crate) service: String,
    pub(crate) region: String,
    provider: SharedCredentialsProvider,
    /// The last credentials and until when they are used without asking the provider again.
    cache: tokio::sync::Mutex<Option<(Credentials, Instant)>>,
    skew_secs: i64,
}

impl SigV4 {
    pub(crate) fn new(service: String, region: String, provider: SharedCredentialsProvider) -> Result<Self, String> {
        let skew_secs = match std::env::var(CLOCK_SKEW_ENV) {
            Ok(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("{CLOCK_SKEW_ENV}={v:?} is not a whole number of seconds"))?,
            Err(_) => 0,
        };
        if skew_secs != 0 {
            tracing::warn!(
                skew_secs,
                "{CLOCK_SKEW_ENV} is set: signing with a shifted clock (testing only)"
            );
        }
        Ok(Self {
            service,
            region,
            provider,
            cache: tokio::sync::Mutex::new(None),
            skew_secs,
        })
    }

    /// Resolve credentials through the provider chain, re-resolving when the cached ones near
    /// expiry. One lock: concurrent requests wait for a single refresh instead of each starting one.
    async fn credentials(&self) -> Result<Credentials, String> {
        let mut slot = self.cache.lock().await;
        if let Some((creds, fresh_until)) = slot.as_ref()
            && Instant::now() < *fresh_until
        {
            return Ok(creds.clone());
        }
        let creds = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| format!("cannot resolve AWS credentials: {}", error_chain(&e)))?;
        let ttl = match creds.expiry() {
            Some(expiry) => expiry
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .saturating_sub(REFRESH_MARGIN),
            None => STATIC_CREDENTIALS_TTL,
        };
        tracing::debug!(ttl_secs = ttl.as_secs(), "resolved AWS credentials");
        *slot = Some((creds.clone(), Instant::now() + ttl));
        Ok(creds)
    }

    fn now(&self) -> SystemTime {
        let skew = Duration::from_secs(self.skew_secs.unsigned_abs());
        let now = SystemTime::now();
        if self.skew_secs >= 0 {
            now + skew
        } else {
            now.checked_sub(skew).unwrap_or(now)
        }
    }

    async fn sign<B>(&self, req: &mut Request<B>, body: &[u8]) -> Result<(), String> {
        let identity = self.credentials().await?.into();
        let mut settings = SigningSettings::default();
        // The body hash as a header too: required where a CDN (CloudFront with origin access
        // control) sits in front of a Function URL, and harmless elsewhere.
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(self.now())
            .settings(settings)
            .build()
            .map_err(|e| format!("cannot sign the request: {e}"))?
            .into();
        let uri = req.uri().to_string();
        let headers: Vec<(&str, &str)> = req
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
            .collect();
        let signable = SignableRequest::new(
            req.method().as_str(),
            &uri,
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| format!("cannot sign the request: {e}"))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| format!("cannot sign the request: {e}"))?
            .into_parts();
        instructions.apply_to_request_http1x(req);
        for name in [http::header::AUTHORIZATION.as_str(), "x-amz-security-token"] {
            if let Some(v) = req.headers_mut().get_mut(name) {
                v.set_sensitive(true);
            }
        }
        Ok(())
    }
}

/// An error and its sources on one line (the credentials chain nests the useful part).
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        src = s.source();
    }
    out
}
