//! AWS configuration, resolved exactly like the AWS CLI: aws-config's default chain (environment,
//! profiles including SSO and `credential_process`, container and instance metadata), with
//! `--profile`/`--region`/`--endpoint-url` layered on top. Retry and timeouts are set explicitly so
//! behaviour does not depend on SDK defaults changing underneath us.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, retry::RetryConfig, timeout::TimeoutConfig};
use aws_smithy_runtime_api::{
    box_error::BoxError,
    client::{
        connector_metadata::ConnectorMetadata,
        http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector},
        runtime_components::{RuntimeComponents, RuntimeComponentsBuilder},
        runtime_plugin::RuntimePlugin,
    },
};
use aws_smithy_types::config_bag::ConfigBag;
use aws_types::{SdkConfig, app_name::AppName};

use crate::config::CommonArgs;

/// Why configuration could not be resolved at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no AWS region is configured{profile}: pass --region, set AWS_REGION, or set `region` for the profile in ~/.aws/config"
    )]
    NoRegion { profile: String },
    #[error("invalid user-agent app name {0:?}")]
    AppName(String),
    #[error("accounts file {0}")]
    Accounts(String),
    #[error("{flag} names unknown tools: {unknown}; valid names: {valid}")]
    UnknownTools {
        flag: &'static str,
        unknown: String,
        valid: String,
    },
    #[error("invalid {flag}: {message}")]
    Flag { flag: &'static str, message: String },
    /// A bug in the server's own tables (caught by its unit tests).
    #[error("internal: {0}")]
    Internal(String),
}

/// Load the shared `SdkConfig` every client of this server is built from.
pub async fn load(server: &str, version: &str, args: &CommonArgs) -> Result<SdkConfig, ConfigError> {
    let app = format!("aws-mcp#{server}#{version}");
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .app_name(AppName::new(app.clone()).map_err(|_| ConfigError::AppName(app))?)
        .retry_config(RetryConfig::standard().with_max_attempts(args.max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(args.connect_timeout_ms))
                .operation_timeout(Duration::from_secs(args.operation_timeout_secs))
                .build(),
        );
    if let Some(profile) = &args.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &args.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &args.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(client) = lazy_roots_https_client() {
        loader = loader.http_client(client);
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        let profile = args
            .profile
            .clone()
            .or_else(|| std::env::var("AWS_PROFILE").ok())
            .map(|p| format!(" for profile `{p}`"))
            .unwrap_or_default();
        return Err(ConfigError::NoRegion { profile });
    }
    Ok(sdk)
}

/// The SDK's own default HTTPS client (hyper 1, rustls with aws-lc, proxy settings from the
/// environment), one for every client of the process, which loads the system's trusted roots with
/// its first connection rather than when a client is built. The SDK loads them eagerly, and
/// aws-config builds an STS client inside `load()`: every file of /etc/ssl/certs was read and
/// parsed (1.5–3 ms) before the server could answer `initialize`.
fn lazy_roots_https_client() -> Option<SharedHttpClient> {
    let plugin = aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(BehaviorVersion::latest())?;
    let inner = plugin
        .runtime_components(&RuntimeComponentsBuilder::new("aws-mcp"))
        .http_client()?;
    Some(SharedHttpClient::new(LazyRoots(inner)))
}

#[derive(Debug)]
struct LazyRoots(SharedHttpClient);

impl HttpClient for LazyRoots {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    /// The wrapped client builds a connector here only to load the roots early: skipped.
    fn validate_base_client_config(&self, _: &RuntimeComponentsBuilder, _: &ConfigBag) -> Result<(), BoxError> {
        Ok(())
    }

    fn validate_final_config(&self, components: &RuntimeComponents, cfg: &ConfigBag) -> Result<(), BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The endpoint override for a service, if any: `AWS_ENDPOINT_URL_<SERVICE>` wins over the global
/// `AWS_ENDPOINT_URL`/`--endpoint-url`, as in the SDK. `service_env` is e.g. `S3`, `DYNAMODB`.
pub fn endpoint_override(sdk: &SdkConfig, service_env: &str) -> Option<String> {
    std::env::var(format!("AWS_ENDPOINT_URL_{service_env}"))
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| sdk.endpoint_url().map(str::to_owned))
}

/// Where a client's calls go: named in error messages (timeouts, unreachable endpoints, wrong
/// region) and used for the throttling hint.
#[derive(Clone, Debug)]
pub struct Target {
    pub region: String,
    pub endpoint: String,
    pub max_attempts: u32,
}

impl Target {
    /// `service_env` as in [`endpoint_override`]; `host_prefix` is the service's DNS label (`s3`, `dynamodb`).
    pub fn new(sdk: &SdkConfig, service_env: &str, host_prefix: &str, region: Option<&str>) -> Self {
        let region = region
            .map(str::to_owned)
            .or_else(|| sdk.region().map(|r| r.to_string()))
            .unwrap_or_default();
        let endpoint = endpoint_override(sdk, service_env)
            .unwrap_or_else(|| format!("https://{host_prefix}.{region}.amazonaws.com"));
        let max_attempts = sdk.retry_config().map_or(3, |r| r.max_attempts());
        Self {
            region,
            endpoint,
            max_attempts,
        }
    }
}

/// One AWS operation, as named in errors, hints and the audit log.
#[derive(Clone, Copy, Debug)]
pub struct Op {
    /// The service's IAM prefix, e.g. `s3`.
    pub service: &'static str,
    /// The API operation, e.g. `ListObjectsV2`.
    pub operation: &'static str,
    /// The IAM action a caller needs, which is not always `service:Operation`
    /// (ListObjectsV2 needs `s3:ListBucket`).
    pub iam_action: &'static str,
}

impl Op {
    pub const fn new(service: &'static str, operation: &'static str, iam_action: &'static str) -> Self {
        Self {
            service,
            operation,
            iam_action,
        }
    }
}

/// Await one SDK call: record its request id for the audit line and map a failure to [`ToolError`].
/// Every AWS call a tool makes goes through here.
pub async fn call<O, E>(
    op: Op,
    target: &Target,
    fut: impl std::future::Future<
        Output = Result<
            O,
            aws_smithy_runtime_api::client::result::SdkError<
                E,
                aws_smithy_runtime_api::client::orchestrator::HttpResponse,
            >,
        >,
    >,
) -> Result<O, crate::ToolError>
where
    O: aws_types::request_id::RequestId,
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_types::request_id::RequestId;
    let result = fut.await;
    crate::audit::record_request_id(result.request_id());
    result.map_err(|e| crate::ToolError::from_sdk(op, target, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDK's default client is there to wrap (the `default-https-client` feature): without it
    /// every service client would quietly get its own, eager one again.
    #[test]
    fn the_default_https_client_is_wrapped() {
        let client = lazy_roots_https_client().expect("the SDK's default HTTPS client");
        assert!(format!("{client:?}").contains("LazyRoots"));
        let components = RuntimeComponentsBuilder::new("test");
        assert!(
            client
                .validate_base_client_config(&components, &ConfigBag::base())
                .is_ok()
        );
    }
}
