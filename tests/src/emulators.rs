//! Which emulator serves which AWS service, where it listens, and whether it is up.
//!
//! A service's endpoint is the standard SDK variable `AWS_ENDPOINT_URL_<SERVICE>` when the test
//! process has it, otherwise its emulator's address (`localstack/start.sh`'s ports). A test states
//! what it needs with [`require`]; when an emulator is down it fails at once, naming the command
//! that starts it.
//!
//! Adding a service: a [`Service`] variant, a row in [`Service::ALL`] (its emulator, or `None` when
//! only the fake endpoint serves it). Adding a server: a row in [`SERVERS`].

use std::{sync::Mutex, time::Duration};

/// An emulator process started by `localstack/start.sh`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Emulator {
    /// LocalStack (S3, Lambda, CloudWatch Logs, STS, IAM), default `http://127.0.0.1:4566`.
    LocalStack,
    /// moto's server (DynamoDB, Bedrock Agent, Organizations), default `http://127.0.0.1:4567`.
    Moto,
}

impl Emulator {
    pub fn name(self) -> &'static str {
        match self {
            Self::LocalStack => "LocalStack",
            Self::Moto => "moto server",
        }
    }

    /// Its base URL: `AWS_ENDPOINT_URL` (LocalStack) or `AWS_MCP_MOTO_ENDPOINT_URL` (moto; also
    /// `AWS_ENDPOINT_URL_DYNAMODB`), else the default port of `localstack/start.sh`.
    pub fn url(self) -> String {
        match self {
            Self::LocalStack => var("AWS_ENDPOINT_URL").unwrap_or_else(|| "http://127.0.0.1:4566".into()),
            Self::Moto => var("AWS_MCP_MOTO_ENDPOINT_URL")
                .or_else(|| var("AWS_ENDPOINT_URL_DYNAMODB"))
                .unwrap_or_else(|| "http://127.0.0.1:4567".into()),
        }
    }

    /// The URL that answers 2xx when the emulator is ready.
    pub fn health_url(self) -> String {
        match self {
            Self::LocalStack => format!("{}/_localstack/health", self.url()),
            Self::Moto => format!("{}/moto-api/", self.url()),
        }
    }
}

/// An AWS service a server talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    S3,
    DynamoDb,
    Lambda,
    Logs,
    Sts,
    Iam,
    BedrockAgent,
    BedrockAgentRuntime,
    Organizations,
}

impl Service {
    /// Every service: (service, the suffix of its `AWS_ENDPOINT_URL_<SUFFIX>` variable — the SDK's
    /// service id in upper snake case —, the emulator that serves it).
    pub const ALL: &'static [(Service, &'static str, Option<Emulator>)] = &[
        (Service::S3, "S3", Some(Emulator::LocalStack)),
        (Service::DynamoDb, "DYNAMODB", Some(Emulator::Moto)),
        (Service::Lambda, "LAMBDA", Some(Emulator::LocalStack)),
        (Service::Logs, "CLOUDWATCH_LOGS", Some(Emulator::LocalStack)),
        (Service::Sts, "STS", Some(Emulator::LocalStack)),
        (Service::Iam, "IAM", Some(Emulator::LocalStack)),
        (Service::BedrockAgent, "BEDROCK_AGENT", Some(Emulator::Moto)),
        // No emulator has the Bedrock runtime: tests serve it from `fake::Fake`.
        (Service::BedrockAgentRuntime, "BEDROCK_AGENT_RUNTIME", None),
        (Service::Organizations, "ORGANIZATIONS", Some(Emulator::Moto)),
    ];

    fn row(self) -> &'static (Service, &'static str, Option<Emulator>) {
        Self::ALL
            .iter()
            .find(|r| r.0 == self)
            .expect("every Service has a row in Service::ALL")
    }

    /// `AWS_ENDPOINT_URL_<SERVICE>`, e.g. `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`.
    pub fn endpoint_var(self) -> String {
        format!("AWS_ENDPOINT_URL_{}", self.row().1)
    }

    /// The emulator that serves it, if any.
    pub fn emulator(self) -> Option<Emulator> {
        self.row().2
    }

    /// Where the emulator for this service listens: its `AWS_ENDPOINT_URL_<SERVICE>` in the test
    /// process's environment, else its emulator's URL. Panics for a service no emulator serves.
    pub fn endpoint(self) -> String {
        var(&self.endpoint_var()).unwrap_or_else(|| {
            self.emulator()
                .unwrap_or_else(|| panic!("no emulator serves {self:?}: point the server at a fake::Fake instead"))
                .url()
        })
    }
}

/// The services each server binary talks to (what [`crate::Mcp::start`] points at emulators and
/// checks are up). A new server adds its row.
pub const SERVERS: &[(&str, &[Service])] = &[
    ("aws-s3-mcp", &[Service::S3]),
    ("aws-dynamodb-mcp", &[Service::DynamoDb]),
    ("aws-lambda-mcp", &[Service::Lambda]),
    ("aws-logs-mcp", &[Service::Logs]),
    ("aws-bedrock-kb-mcp", &[Service::BedrockAgent]),
    ("aws-sts-mcp", &[Service::Sts, Service::Iam, Service::Organizations]),
];

/// The services `bin` talks to, from [`SERVERS`].
pub fn services_of(bin: &str) -> &'static [Service] {
    SERVERS
        .iter()
        .find(|(b, _)| *b == bin)
        .map(|(_, s)| *s)
        .unwrap_or_else(|| {
            panic!("{bin} is not in tests/src/emulators.rs SERVERS: add a row with the services it calls")
        })
}

/// Where calls to services nobody configured go: a closed port on loopback, so a forgotten
/// endpoint fails at once as "unreachable http://127.0.0.1:9" instead of reaching real AWS.
pub const NOWHERE: &str = "http://127.0.0.1:9";

/// The test region: `AWS_REGION`, else `us-east-1`.
pub fn region() -> String {
    var("AWS_REGION").unwrap_or_else(|| "us-east-1".into())
}

/// Fail at once, with the command that starts them, unless the emulators serving `services` answer
/// their health checks. Each emulator is probed once per test binary.
pub fn require(services: &[Service]) {
    let mut emulators: Vec<Emulator> = services.iter().filter_map(|s| s.emulator()).collect();
    emulators.dedup();
    for e in emulators {
        if let Err(msg) = check(e) {
            panic!("{msg}");
        }
    }
}

/// Whether `e` answers its health check (cached per test binary).
pub fn check(e: Emulator) -> Result<(), String> {
    static SEEN: Mutex<Vec<(Emulator, Result<(), String>)>> = Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, r)) = seen.iter().find(|(x, _)| *x == e) {
        return r.clone();
    }
    let url = e.health_url();
    let r = probe(&url).map_err(|err| {
        format!(
            "{} is not reachable at {url} ({err}).\nThese end-to-end tests need the local AWS emulators. Start them with \
             `localstack/start.sh` (or run the whole suite with `tests/run`, which starts them itself).",
            e.name()
        )
    });
    seen.push((e, r.clone()));
    r
}

/// The environment of a process (server or SDK client) that must reach exactly these endpoints:
/// `AWS_ENDPOINT_URL` = `global`, one `AWS_ENDPOINT_URL_<SERVICE>` per entry, the region, the
/// emulators' dummy credentials, and no profile or config file from the developer's machine.
/// Pair it with [`clear_aws_env`] so no other endpoint variable is inherited.
pub fn aws_env(endpoints: &[(Service, String)], global: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("AWS_ENDPOINT_URL".to_owned(), global.to_owned()),
        ("AWS_REGION".into(), region()),
        ("AWS_ACCESS_KEY_ID".into(), "test".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ("AWS_CONFIG_FILE".into(), "/dev/null".into()),
        ("AWS_SHARED_CREDENTIALS_FILE".into(), "/dev/null".into()),
    ];
    env.extend(endpoints.iter().map(|(s, url)| (s.endpoint_var(), url.clone())));
    env
}

/// The endpoints of the emulators serving `services`.
pub fn emulator_endpoints(services: &[Service]) -> Vec<(Service, String)> {
    services.iter().map(|s| (*s, s.endpoint())).collect()
}

/// Remove from `cmd`'s inherited environment every `AWS_ENDPOINT_URL*` variable and everything
/// else that could route calls elsewhere (profiles, default region, Lambda runtime, auth token).
pub fn clear_aws_env(cmd: &mut tokio::process::Command) {
    for (k, _) in std::env::vars_os() {
        if k.to_str().is_some_and(|k| k.starts_with("AWS_ENDPOINT_URL")) {
            cmd.env_remove(&k);
        }
    }
    for k in [
        "AWS_PROFILE",
        "AWS_DEFAULT_REGION",
        "AWS_SESSION_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_LAMBDA_RUNTIME_API",
        "MCP_AUTH_TOKEN",
    ] {
        cmd.env_remove(k);
    }
}

fn var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// A blocking HTTP GET with a short timeout (std only: this can run before any runtime exists).
pub(crate) fn probe(url: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// endpoints are supported by the probe")?;
    let (authority, path) = rest
        .split_once('/')
        .map(|(a, p)| (a, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).map_err(|e| e.to_string())?;
    if head.starts_with(b"HTTP/1.") && head[9] == b'2' {
        Ok(())
    } else {
        Err(format!("answered {}", String::from_utf8_lossy(&head)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_has_a_row_and_a_distinct_variable() {
        let mut vars: Vec<String> = Service::ALL.iter().map(|r| r.0.endpoint_var()).collect();
        vars.sort();
        vars.dedup();
        assert_eq!(vars.len(), Service::ALL.len());
        assert_eq!(Service::Logs.endpoint_var(), "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");
        assert_eq!(services_of("aws-s3-mcp"), [Service::S3]);
    }

    #[test]
    fn a_closed_port_fails_the_probe_with_a_reason() {
        assert!(probe(NOWHERE).is_err());
    }
}
