//! One pool of service clients per server, keyed by (account, region): every tool gets the client
//! for the account and region of the current call ([`crate::context`]) without knowing about
//! either. Clients for an account are built from that account's role configuration, so one
//! AssumeRole serves every client and region of the account.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use aws_types::SdkConfig;

use crate::{Core, Target, ToolError, accounts::Accounts, context};

/// Builds a service client for a configuration and a region.
pub type Build<C> = fn(&SdkConfig, &str) -> C;

/// The usual [`Build`] for an SDK crate: its client from the configuration, in the region.
/// `ClientPool::new(&core, "LAMBDA", "lambda", shared::regional_client!(aws_sdk_lambda))`.
#[macro_export]
macro_rules! regional_client {
    ($sdk:ident) => {
        |sdk: &$crate::aws_types::SdkConfig, region: &str| {
            $sdk::Client::from_conf(
                $sdk::config::Builder::from(sdk)
                    .region($sdk::config::Region::new(region.to_owned()))
                    .build(),
            )
        }
    };
}

#[derive(Clone)]
pub struct ClientPool<C> {
    base: SdkConfig,
    accounts: Option<Arc<Accounts>>,
    policy: Option<Arc<str>>,
    service_env: &'static str,
    host_prefix: &'static str,
    build: Build<C>,
    clients: Arc<Mutex<HashMap<(String, String), C>>>,
}

impl<C: Clone + Send + Sync + 'static> ClientPool<C> {
    /// `service_env` names the endpoint variable (`AWS_ENDPOINT_URL_<service_env>`), `host_prefix`
    /// the service's DNS label; both only name where calls go in errors.
    pub fn new(core: &Core, service_env: &'static str, host_prefix: &'static str, build: Build<C>) -> Self {
        Self {
            base: core.sdk.clone(),
            accounts: core.accounts.clone(),
            policy: core.session_policy(),
            service_env,
            host_prefix,
            build,
            clients: Arc::default(),
        }
    }

    /// The region the current call runs in: its `region` argument, else the server's region if
    /// the account allows it, else the account's first region.
    pub fn region(&self) -> String {
        let call = context::current();
        if let Some(r) = call.region {
            return r;
        }
        let home = self.base.region().map(|r| r.to_string()).unwrap_or_default();
        match call.account {
            Some(a) if !a.regions.is_empty() && !a.regions.contains(&home) => a.regions[0].clone(),
            _ => home,
        }
    }

    /// The client for the current call's account and region.
    pub async fn get(&self) -> Result<(C, Target), ToolError> {
        Ok(self.pick(&self.region()))
    }

    /// The client for the current call's account in `region` (S3 buckets live in their own).
    pub async fn get_in(&self, region: &str) -> Result<(C, Target), ToolError> {
        Ok(self.pick(region))
    }

    /// The current call's client (for code paths that are not async).
    pub fn client(&self) -> C {
        self.pick(&self.region()).0
    }

    /// Where the current call's client sends requests.
    pub fn target(&self) -> Target {
        Target::new(&self.base, self.service_env, self.host_prefix, Some(&self.region()))
    }

    fn pick(&self, region: &str) -> (C, Target) {
        let call = context::current();
        let alias = call.account.as_ref().map_or(String::new(), |a| a.alias.clone());
        let target = Target::new(&self.base, self.service_env, self.host_prefix, Some(region));
        let key = (alias, region.to_owned());
        if let Some(c) = self.clients.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return (c, target);
        }
        let sdk = match (&call.account, &self.accounts) {
            (Some(a), Some(_)) => a.sdk(&self.base, self.policy.as_deref()),
            _ => self.base.clone(),
        };
        let client = (self.build)(&sdk, region);
        if let Ok(mut m) = self.clients.lock() {
            m.insert(key, client.clone());
        }
        (client, target)
    }

    /// The base configuration (the server's own credentials), for calls that must not assume.
    pub fn base(&self) -> &SdkConfig {
        &self.base
    }
}
