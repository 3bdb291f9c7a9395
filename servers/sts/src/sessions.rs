//! Role sessions kept in the server, and the service clients built on them.
//!
//! Each account's credentials come from the shared layer's assume-role provider
//! ([`shared::accounts::Account::sdk`], which carries the read-only session policy). This module
//! puts one [`Keeper`] in front of it per account: the session is assumed once, handed to every
//! client of the account (all services, all regions), and renewed before it expires, so one
//! AssumeRole serves any number of calls. The keeper remembers only what tools may show (when the
//! session expires, how many were started, why the last attempt failed); the credentials never
//! leave it, and its `Debug` prints none of them.
//!
//! (Belongs in shared: `ClientPool` cannot report a session's expiry or an AssumeRole failure as
//! a typed error, which `assume_role`, `list_accounts` and the inventory need.)

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, SystemTime},
};

use aws_config::identity::IdentityCache;
use aws_credential_types::{
    Credentials,
    provider::{ProvideCredentials, SharedCredentialsProvider, error::CredentialsError, future},
};
use aws_sdk_sts::{error::ProvideErrorMetadata, operation::RequestId};
use aws_smithy_runtime_api::client::{orchestrator::HttpResponse, result::SdkError};
use aws_types::SdkConfig;
use shared::{Core, Target, ToolError, accounts::Account};

use crate::ASSUME_ROLE;

/// Renew a session this long before it expires at most (less for short sessions: half their life).
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// What is known about an account's role session, for `list_accounts` and `assume_role`.
#[derive(Clone, Debug, Default)]
pub(crate) struct SessionInfo {
    pub expires: Option<SystemTime>,
    /// AssumeRole calls that succeeded since the server started.
    pub started: usize,
}

impl SessionInfo {
    pub(crate) fn active(&self) -> bool {
        self.expires.is_some_and(|e| e > SystemTime::now())
    }
}

struct Held {
    creds: Credentials,
    issued: SystemTime,
}

struct KeeperState {
    alias: String,
    inner: SharedCredentialsProvider,
    held: Mutex<Option<Held>>,
    info: Mutex<SessionInfo>,
    /// One AssumeRole at a time per account: concurrent callers wait for it and share the result.
    renewing: tokio::sync::Mutex<()>,
}

/// The credentials provider every client of one account uses.
#[derive(Clone)]
pub(crate) struct Keeper(Arc<KeeperState>);

impl std::fmt::Debug for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keeper({})", self.0.alias)
    }
}

impl Keeper {
    fn fresh(&self) -> Option<Credentials> {
        let held = self.0.held.lock().ok()?;
        let h = held.as_ref()?;
        let Some(expiry) = h.creds.expiry() else {
            return Some(h.creds.clone());
        };
        let life = expiry.duration_since(h.issued).unwrap_or_default();
        let margin = RENEW_BEFORE.min(life / 2);
        (expiry > SystemTime::now() + margin).then(|| h.creds.clone())
    }

    async fn get(&self) -> Result<Credentials, CredentialsError> {
        if let Some(c) = self.fresh() {
            return Ok(c);
        }
        let _one = self.0.renewing.lock().await;
        if let Some(c) = self.fresh() {
            return Ok(c);
        }
        let issued = SystemTime::now();
        let creds = self.0.inner.provide_credentials().await?;
        if let Ok(mut info) = self.0.info.lock() {
            info.expires = creds.expiry();
            info.started += 1;
        }
        if let Ok(mut held) = self.0.held.lock() {
            *held = Some(Held {
                creds: creds.clone(),
                issued,
            });
        }
        tracing::info!(account = %self.0.alias, "role session started");
        Ok(creds)
    }

    pub(crate) fn info(&self) -> SessionInfo {
        self.0.info.lock().map(|i| i.clone()).unwrap_or_default()
    }
}

impl ProvideCredentials for Keeper {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.get())
    }
}

/// One account's session: its SDK configuration (credentials from the keeper) and the keeper.
pub(crate) struct Session {
    pub account: Arc<Account>,
    pub sdk: SdkConfig,
    keeper: Keeper,
    sts_target: Target,
}

impl Session {
    /// Make sure the session is up (assuming the role if needed): the session's state, or the
    /// AssumeRole failure as a tool error with its code and request id.
    pub(crate) async fn ensure(&self) -> Result<SessionInfo, ToolError> {
        match self.keeper.get().await {
            Ok(_) => Ok(self.keeper.info()),
            Err(e) => Err(assume_error(&self.sts_target, &self.account, &e)),
        }
    }

    pub(crate) fn info(&self) -> SessionInfo {
        self.keeper.info()
    }
}

/// The service clients of one (account, region), each built on first use: most calls need one.
#[derive(Clone)]
pub(crate) struct Clients(Arc<ClientsInner>);

struct ClientsInner {
    sdk: SdkConfig,
    region: String,
    sts: OnceLock<aws_sdk_sts::Client>,
    s3: OnceLock<aws_sdk_s3::Client>,
    dynamodb: OnceLock<aws_sdk_dynamodb::Client>,
    lambda: OnceLock<aws_sdk_lambda::Client>,
    logs: OnceLock<aws_sdk_cloudwatchlogs::Client>,
    bedrock: OnceLock<aws_sdk_bedrockagent::Client>,
}

macro_rules! client {
    ($name:ident, $sdk:ident) => {
        pub(crate) fn $name(&self) -> &$sdk::Client {
            self.0.$name.get_or_init(|| {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(&self.0.sdk)
                        .region($sdk::config::Region::new(self.0.region.clone()))
                        .build(),
                )
            })
        }
    };
}

impl Clients {
    fn new(sdk: &SdkConfig, region: &str) -> Self {
        Self(Arc::new(ClientsInner {
            sdk: sdk.clone(),
            region: region.to_owned(),
            sts: OnceLock::new(),
            s3: OnceLock::new(),
            dynamodb: OnceLock::new(),
            lambda: OnceLock::new(),
            logs: OnceLock::new(),
            bedrock: OnceLock::new(),
        }))
    }

    pub(crate) fn region(&self) -> &str {
        &self.0.region
    }

    client!(sts, aws_sdk_sts);
    client!(dynamodb, aws_sdk_dynamodb);
    client!(lambda, aws_sdk_lambda);
    client!(logs, aws_sdk_cloudwatchlogs);
    client!(bedrock, aws_sdk_bedrockagent);

    pub(crate) fn s3(&self) -> &aws_sdk_s3::Client {
        self.0.s3.get_or_init(|| {
            // Emulators and S3-compatible stores behind an endpoint override need path-style URLs.
            let path_style = shared::aws::endpoint_override(&self.0.sdk, "S3").is_some();
            aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&self.0.sdk)
                    .region(aws_sdk_s3::config::Region::new(self.0.region.clone()))
                    .force_path_style(path_style)
                    .build(),
            )
        })
    }

    /// Where a service's calls go (named in errors). `service_env` as in `AWS_ENDPOINT_URL_<X>`.
    pub(crate) fn target(&self, service_env: &str, host_prefix: &str) -> Target {
        Target::new(&self.0.sdk, service_env, host_prefix, Some(&self.0.region))
    }
}

/// Every session and client of the server, built on first use.
pub(crate) struct Sessions {
    base: SdkConfig,
    policy: Option<Arc<str>>,
    home: String,
    sessions: tokio::sync::Mutex<HashMap<String, Arc<Session>>>,
    clients: Mutex<HashMap<(String, String), Clients>>,
}

impl Sessions {
    pub(crate) fn new(core: &Core) -> Self {
        Self {
            home: core.sdk.region().map(|r| r.to_string()).unwrap_or_default(),
            base: core.sdk.clone(),
            policy: core.session_policy(),
            sessions: tokio::sync::Mutex::default(),
            clients: Mutex::default(),
        }
    }

    /// The server's own region.
    pub(crate) fn home(&self) -> &str {
        &self.home
    }

    /// The session of `account` (set up on first use, without calling AWS yet).
    pub(crate) async fn session(&self, account: &Arc<Account>) -> Arc<Session> {
        let mut sessions = self.sessions.lock().await;
        if let Some(s) = sessions.get(&account.alias).filter(|s| s.account.id == account.id) {
            return s.clone();
        }
        let sdk = account.sdk(&self.base, self.policy.as_deref());
        let inner = sdk
            .credentials_provider()
            .unwrap_or_else(|| SharedCredentialsProvider::new(NoCredentials));
        let keeper = Keeper(Arc::new(KeeperState {
            alias: account.alias.clone(),
            inner,
            held: Mutex::new(None),
            info: Mutex::default(),
            renewing: tokio::sync::Mutex::new(()),
        }));
        // The keeper is the cache: the SDK's own identity cache would hide renewals from it.
        let sdk = sdk
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(keeper.clone()))
            .identity_cache(IdentityCache::no_cache())
            .build();
        let session = Arc::new(Session {
            account: account.clone(),
            sdk,
            keeper,
            sts_target: Target::new(&self.base, "STS", "sts", None),
        });
        sessions.insert(account.alias.clone(), session.clone());
        session
    }

    /// The session of `account` if one was set up, without setting one up.
    pub(crate) async fn existing(&self, alias: &str) -> Option<Arc<Session>> {
        self.sessions.lock().await.get(alias).cloned()
    }

    /// The clients of `account` (`None`: the server's own credentials) in `region`.
    pub(crate) async fn clients(&self, account: Option<&Arc<Account>>, region: &str) -> Clients {
        let key = (account.map_or(String::new(), |a| a.alias.clone()), region.to_owned());
        if let Some(c) = self.clients.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return c;
        }
        let sdk = match account {
            Some(a) => self.session(a).await.sdk.clone(),
            None => self.base.clone(),
        };
        let clients = Clients::new(&sdk, region);
        if let Ok(mut m) = self.clients.lock() {
            m.insert(key, clients.clone());
        }
        clients
    }

    /// The region a single-region call runs in: its `region`, else the server's region if the
    /// account allows it, else the account's first region.
    pub(crate) fn region_for(&self, account: Option<&Arc<Account>>, region: Option<&str>) -> String {
        if let Some(r) = region {
            return r.to_owned();
        }
        match account {
            Some(a) if !a.regions.is_empty() && !a.regions.contains(&self.home) => a.regions[0].clone(),
            _ => self.home.clone(),
        }
    }
}

/// Where no credentials are configured at all (aws-config found none): every call says so.
#[derive(Debug)]
struct NoCredentials;

impl ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "the server has no base credentials to assume roles with",
        )))
    }
}

/// An AssumeRole failure as a tool error: AWS's code, message and request id when STS answered,
/// the transport problem when it did not. The error text never carries credential material
/// (STS's answers to a failed AssumeRole have none).
pub(crate) fn assume_error(target: &Target, account: &Account, err: &CredentialsError) -> ToolError {
    use std::error::Error;
    type AssumeSdkError = SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError, HttpResponse>;
    let sdk = err.source().and_then(|s| s.downcast_ref::<AssumeSdkError>());
    let transport = |detail: String| ToolError::Transport {
        service: ASSUME_ROLE.service,
        operation: ASSUME_ROLE.operation,
        endpoint: target.endpoint.clone(),
        detail,
        retryable: true,
    };
    match sdk {
        Some(e @ SdkError::ServiceError(ctx)) => {
            let status = ctx.raw().status().as_u16();
            let code = e.code().unwrap_or("AssumeRoleFailed").to_owned();
            let message = format!(
                "{} (role {} of account {})",
                e.message().unwrap_or_default(),
                account.role_arn,
                account.label()
            );
            ToolError::aws_code(ASSUME_ROLE, target, &code, message, Some(status)).with_request_id(e.request_id())
        }
        Some(SdkError::TimeoutError(_)) => transport(format!(
            "no answer to AssumeRole for account {} within the operation timeout",
            account.label()
        )),
        Some(e @ SdkError::DispatchFailure(d)) => {
            let cause = chain(e);
            if d.is_timeout() {
                transport(format!(
                    "connection timed out ({cause}) assuming the role of account {}",
                    account.label()
                ))
            } else {
                transport(format!(
                    "endpoint unreachable ({cause}) assuming the role of account {}",
                    account.label()
                ))
            }
        }
        Some(e @ SdkError::ResponseError(ctx)) => ToolError::aws_code(
            ASSUME_ROLE,
            target,
            "InvalidResponse",
            format!(
                "the answer to AssumeRole for account {} could not be understood ({})",
                account.label(),
                chain(e)
            ),
            Some(ctx.raw().status().as_u16()),
        ),
        _ => ToolError::Other(format!(
            "credentials for account {} (role {}) could not be obtained: {}",
            account.label(),
            account.role_arn,
            chain(err)
        )),
    }
}

/// An error and its sources, one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}
