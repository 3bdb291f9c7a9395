//! The secret scan (issue 13): every line a server started by the rig writes — each MCP message
//! on stdout (results, errors, notifications) and each log line on stderr — is checked for the
//! secrets the run knows, and a hit fails the test that started that server, naming the line and
//! the secret (masked).
//!
//! What is looked for ([`Watch::new`] builds the set per server):
//! - **credentials of the server's own**: [`RIG_SECRET_ACCESS_KEY`] (what the rig gives every
//!   server), the `AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`/`MCP_AUTH_TOKEN` a test sets instead,
//!   and the secret keys and session tokens in the credentials and config files it points at;
//! - **session credentials of assumed roles**: those in AssumeRole-style answers of a
//!   [`crate::fake::Fake`] or of an emulator's STS, which servers started by the rig reach through
//!   a recording pass-through ([`sts_tap`]); and any session token with moto's prefix
//!   ([`MOTO_SESSION_TOKEN_PREFIX`]: LocalStack's STS is moto's) whoever asked for it;
//! - **planted secrets** ([`crate::fixtures::planted::ALL`]), the values fixtures put in S3 objects,
//!   DynamoDB items, Lambda environments, log events and knowledge-base chunks. A server started
//!   with `--no-redact` or `--show-env-values` (flag or environment variable) was asked to show
//!   them: planted secrets are not looked for there. Credentials always are.
//!
//! An access key id is not a secret (it is in every presigned URL by construction) and is not
//! looked for; a planted one is, as the redaction must mask it in data.
//!
//! Answers a test reads itself over HTTP or from the Lambda emulator go through [`answer`] (the
//! servers' log lines are scanned as above). Not scanned: what the real clients of
//! `tests/tests/clients.rs` print (their servers' log lines are not read either).
//!
//! Cost: a substring search per known secret per line (a few dozen needles). Each test binary
//! prints its running totals to stderr when a scanned server goes away.

use std::{
    fmt,
    io::Write,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
};

use crate::fixtures::planted;

/// The secret access key the rig gives every server it starts (the emulators and the fake accept
/// any; a distinctive value, unlike the emulators' customary `test`, so the scan can find it).
pub const RIG_SECRET_ACCESS_KEY: &str = "RigSecretKey0NeverInAnyOutput0000000E2Ex";

/// Every session token moto issues starts with this (`moto/sts/utils.py`), so also those of
/// LocalStack's STS, which is moto's.
pub const MOTO_SESSION_TOKEN_PREFIX: &str = "FQoGZXIvYXdzEBYaD";

/// Shorter values are not learned: too likely to occur by chance (`test`, `s`, `t`).
const MIN_LEN: usize = 10;

/// Environment variables whose values are credentials of the server's own.
const CREDENTIAL_VARS: [&str; 4] = [
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "MCP_AUTH_TOKEN",
];

/// Whether a secret is the server's own credential or data a fixture planted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Credential,
    Planted,
}

/// A known secret: what it is (for the report) and its value.
#[derive(Clone, Debug)]
pub struct Secret {
    pub what: String,
    pub value: String,
    pub kind: Kind,
}

impl Secret {
    fn new(what: impl Into<String>, value: impl Into<String>, kind: Kind) -> Self {
        Self {
            what: what.into(),
            value: value.into(),
            kind,
        }
    }
}

/// Credentials learned while the test binary runs (session credentials the fake handed out).
static LEARNED: Mutex<Vec<Secret>> = Mutex::new(Vec::new());

/// Totals for this test binary.
static MESSAGES: AtomicU64 = AtomicU64::new(0);
static LINES: AtomicU64 = AtomicU64::new(0);
static SERVERS: AtomicU64 = AtomicU64::new(0);
static HITS: AtomicU64 = AtomicU64::new(0);

/// Remember a credential seen at run time; every server's output is checked for it from now on.
pub fn learn(what: &str, value: &str) {
    let value = value.trim();
    if value.len() < MIN_LEN {
        return;
    }
    let mut learned = LEARNED.lock().unwrap_or_else(|p| p.into_inner());
    if !learned.iter().any(|s| s.value == value) {
        learned.push(Secret::new(what, value, Kind::Credential));
    }
}

/// How many credentials the rig has learned so far from answers of `source` (`"fake"`, or an
/// emulator's URL for those the STS pass-through saw).
pub fn learned_from(source: &str) -> usize {
    let learned = LEARNED.lock().unwrap_or_else(|p| p.into_inner());
    learned.iter().filter(|s| s.what.contains(source)).count()
}

/// Learn the secret keys and session tokens in an answer body: STS's XML
/// (`<SecretAccessKey>`, `<SessionToken>`) and the JSON of SSO, container and process credentials
/// (`"secretAccessKey"`, `"SessionToken"`, `"Token"`…).
pub fn learn_from_reply(body: &str, source: &str) {
    if !(body.contains("ecretAccessKey") || body.contains("essionToken") || body.contains("\"Token\"")) {
        return;
    }
    for tag in ["SecretAccessKey", "SessionToken"] {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        let mut rest = body;
        while let Some(at) = rest.find(&open) {
            rest = &rest[at + open.len()..];
            if let Some(end) = rest.find(&close) {
                learn(&format!("a session {tag} from {source}"), &rest[..end]);
            }
        }
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        learn_json(&v, source);
    }
}

/// A JSON object with a secret access key is a credentials object: learn it and its token.
fn learn_json(v: &serde_json::Value, source: &str) {
    match v {
        serde_json::Value::Object(m) => {
            let is_credentials = m.keys().any(|k| k.eq_ignore_ascii_case("secretAccessKey"));
            for (k, v) in m {
                let key = k.to_ascii_lowercase();
                match v.as_str() {
                    Some(s)
                        if is_credentials && ["secretaccesskey", "sessiontoken", "token"].contains(&key.as_str()) =>
                    {
                        learn(&format!("a session {k} from {source}"), s)
                    }
                    _ => learn_json(v, source),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| learn_json(v, source)),
        _ => {}
    }
}

/// Route the STS calls of a server that go to an emulator through [`sts_tap`], so the session
/// credentials its AssumeRole answers hand out are learned (calls to a fake are learned by the
/// fake itself).
pub fn tap_sts(endpoints: &mut [(crate::Service, String)]) {
    use crate::{Emulator, Service};
    let emulators = [
        Emulator::LocalStack.url(),
        Emulator::Moto.url(),
        Service::Sts.endpoint(),
    ];
    for (service, url) in endpoints.iter_mut() {
        if *service == Service::Sts && emulators.contains(url) {
            *url = sts_tap(url);
        }
    }
}

/// The URL of a pass-through to `target` (an emulator's STS) that learns the secret keys and
/// session tokens in its answers: LocalStack's STS (moto's) makes up random secret keys no pattern
/// can find, and the server, not the rig, reads its answers. One per target per test binary, on a
/// thread of its own (it outlives every test's runtime).
pub fn sts_tap(target: &str) -> String {
    static TAPS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let mut taps = TAPS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, url)) = taps.iter().find(|(t, _)| t == target) {
        return url.clone();
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    listener.set_nonblocking(true).expect("non-blocking listener");
    let target_url = target.to_owned();
    std::thread::Builder::new()
        .name("sts tap".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("the STS tap's runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("the STS tap's listener");
                let http = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
                loop {
                    let Ok((sock, _)) = listener.accept().await else {
                        continue;
                    };
                    let (http, target) = (http.clone(), target_url.clone());
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let (http, target) = (http.clone(), target.clone());
                            async move { Ok::<_, std::convert::Infallible>(pass(&http, &target, req).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(sock), service)
                            .await;
                    });
                }
            });
        })
        .expect("a thread for the STS tap");
    taps.push((target.to_owned(), url.clone()));
    url
}

/// Forward one request to `target` and return its answer unchanged, learning what it hands out.
async fn pass(
    http: &reqwest::Client,
    target: &str,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
    use http_body_util::{BodyExt, Full};
    let hop = |k: &str| {
        matches!(
            k,
            "host" | "content-length" | "transfer-encoding" | "connection" | "keep-alive"
        )
    };
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = http.request(parts.method, format!("{target}{path}"));
    for (k, v) in &parts.headers {
        if !hop(k.as_str()) {
            out = out.header(k, v);
        }
    }
    let failed = |e: String| {
        hyper::Response::builder()
            .status(502)
            .body(Full::new(bytes::Bytes::from(format!(
                "the rig's STS tap cannot reach {target}: {e}"
            ))))
            .expect("response")
    };
    let resp = match out.body(body).send().await {
        Ok(r) => r,
        Err(e) => return failed(e.to_string()),
    };
    let mut b = hyper::Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        if !hop(k.as_str()) {
            b = b.header(k, v);
        }
    }
    let body = match resp.bytes().await {
        Ok(body) => body,
        Err(e) => return failed(e.to_string()),
    };
    learn_from_reply(&String::from_utf8_lossy(&body), target);
    b.body(Full::new(body)).expect("response")
}

/// `value` masked for a report: its first and last characters and its length.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let head: String = chars.iter().take(4).collect();
    let tail: String = chars[chars.len().saturating_sub(2)..].iter().collect();
    format!("{head}…{tail} ({} chars)", chars.len())
}

/// One secret found on one line.
#[derive(Clone, Debug)]
pub struct Hit {
    /// The server and how it was started.
    pub server: String,
    /// `stdout message 12` or `stderr line 40`.
    pub place: String,
    /// Which secret (its description, not its value).
    pub what: String,
    pub kind: Kind,
    /// The secret, masked.
    pub masked: String,
    /// The line around the hit, the secret replaced by `[SECRET]`.
    pub excerpt: String,
}

impl fmt::Display for Hit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} wrote {} ({:?}, {}) unmasked on {}: {}",
            self.server, self.what, self.kind, self.masked, self.place, self.excerpt
        )
    }
}

fn excerpt(line: &str, value: &str) -> String {
    let at = line.find(value).unwrap_or(0);
    let mut start = at.saturating_sub(150);
    while !line.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + value.len() + 150).min(line.len());
    while !line.is_char_boundary(end) {
        end += 1;
    }
    line[start..end].replace(value, "[SECRET]")
}

struct Inner {
    server: String,
    own: Vec<Secret>,
    planted_exempt: bool,
    hits: Mutex<Vec<Hit>>,
    raised: AtomicUsize,
    messages: AtomicU64,
    lines: AtomicU64,
}

/// The scan of one server process: feed it every stdout message ([`Watch::message`]) and stderr
/// line ([`Watch::log_line`]); [`Watch::raise`] panics with the hits not yet raised. Cheap to
/// clone (the reader tasks hold clones).
#[derive(Clone)]
pub struct Watch(Arc<Inner>);

impl Watch {
    /// The scan for server `bin` started with `args` and the complete environment `env` it got.
    pub fn new(bin: &str, args: &[String], env: &[(String, String)]) -> Self {
        let value = |k: &str| env.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let truthy = |k: &str| value(k).is_some_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"));
        let planted_exempt = args.iter().any(|a| a == "--no-redact" || a == "--show-env-values")
            || truthy("MCP_NO_REDACT")
            || truthy("MCP_LAMBDA_SHOW_ENV_VALUES");
        let mut own = vec![Secret::new(
            "the rig's secret access key",
            RIG_SECRET_ACCESS_KEY,
            Kind::Credential,
        )];
        let mut add = |what: String, v: &str| {
            let v = v.trim().trim_matches('"');
            if v.len() >= MIN_LEN && !own.iter().any(|s| s.value == v) {
                own.push(Secret::new(what, v, Kind::Credential));
            }
        };
        for k in CREDENTIAL_VARS {
            if let Some(v) = value(k) {
                add(format!("the server's {k}"), v);
            }
        }
        for k in ["AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"] {
            let Some(text) = value(k).and_then(|p| std::fs::read_to_string(p).ok()) else {
                continue;
            };
            for line in text.lines() {
                if let Some((key, v)) = line.split_once('=') {
                    let key = key.trim().to_ascii_lowercase();
                    if key == "aws_secret_access_key" || key == "aws_session_token" {
                        add(format!("{key} from {k}"), v);
                    }
                }
            }
        }
        if let Some(token) = value("AWS_WEB_IDENTITY_TOKEN_FILE").and_then(|p| std::fs::read_to_string(p).ok()) {
            add("the server's web identity token".into(), &token);
        }
        let mut server = bin.to_owned();
        for a in args {
            server.push(' ');
            server.push_str(&a.chars().take(60).collect::<String>());
        }
        SERVERS.fetch_add(1, Ordering::Relaxed);
        Self(Arc::new(Inner {
            server,
            own,
            planted_exempt,
            hits: Mutex::new(Vec::new()),
            raised: AtomicUsize::new(0),
            messages: AtomicU64::new(0),
            lines: AtomicU64::new(0),
        }))
    }

    /// Whether planted secrets are exempt (the server was started to show them).
    pub fn planted_exempt(&self) -> bool {
        self.0.planted_exempt
    }

    /// Scan one MCP message the server wrote on stdout.
    pub fn message(&self, line: &str) {
        let n = self.0.messages.fetch_add(1, Ordering::Relaxed) + 1;
        MESSAGES.fetch_add(1, Ordering::Relaxed);
        self.scan(line, || format!("stdout message {n}"));
    }

    /// Scan one log line the server wrote on stderr.
    pub fn log_line(&self, line: &str) {
        let n = self.0.lines.fetch_add(1, Ordering::Relaxed) + 1;
        LINES.fetch_add(1, Ordering::Relaxed);
        self.scan(line, || format!("stderr line {n}"));
    }

    fn scan(&self, line: &str, place: impl Fn() -> String) {
        let mut found = Vec::new();
        let planted = planted::ALL
            .iter()
            .filter(|_| !self.0.planted_exempt)
            .map(|(what, v)| (*what, *v, Kind::Planted));
        let own = self.0.own.iter().map(|s| (s.what.as_str(), s.value.as_str(), s.kind));
        for (what, value, kind) in own.chain(planted) {
            if line.contains(value) {
                found.push(Secret::new(what, value, kind));
            }
        }
        {
            let learned = LEARNED.lock().unwrap_or_else(|p| p.into_inner());
            found.extend(learned.iter().filter(|s| line.contains(&s.value)).cloned());
        }
        if let Some(at) = line.find(MOTO_SESSION_TOKEN_PREFIX) {
            let token: String = line[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "+/=".contains(*c))
                .collect();
            found.push(Secret::new(
                "a session token issued by moto/LocalStack STS",
                token,
                Kind::Credential,
            ));
        }
        if found.is_empty() {
            return;
        }
        HITS.fetch_add(found.len() as u64, Ordering::Relaxed);
        let mut hits = self.0.hits.lock().unwrap_or_else(|p| p.into_inner());
        for s in found {
            hits.push(Hit {
                server: self.0.server.clone(),
                place: place(),
                what: s.what,
                kind: s.kind,
                masked: mask(&s.value),
                excerpt: excerpt(line, &s.value),
            });
        }
    }

    /// The hits so far, taken: they no longer fail the test (for a test that provokes them).
    pub fn take_hits(&self) -> Vec<Hit> {
        let mut hits = self.0.hits.lock().unwrap_or_else(|p| p.into_inner());
        self.0.raised.store(0, Ordering::Relaxed);
        std::mem::take(&mut *hits)
    }

    /// Panic with the hits not raised before (none: nothing happens). Not while the thread is
    /// already panicking (a drop during a failed test).
    pub fn raise(&self) {
        if std::thread::panicking() {
            return;
        }
        let hits = self.0.hits.lock().unwrap_or_else(|p| p.into_inner());
        let raised = self.0.raised.swap(hits.len(), Ordering::Relaxed);
        if hits.len() > raised {
            let list: Vec<String> = hits[raised..].iter().map(|h| format!("- {h}")).collect();
            drop(hits);
            panic!("secret scan: a secret left the server unmasked:\n{}", list.join("\n"));
        }
    }

    /// How many messages and log lines this server's scan saw.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.0.messages.load(Ordering::Relaxed),
            self.0.lines.load(Ordering::Relaxed),
        )
    }

    /// Print this binary's running totals to stderr (past the test harness's capture, so a run
    /// shows that the scan happened).
    pub fn report(&self) {
        let line = format!(
            "secret scan [{}]: {} servers, {} MCP messages and {} log lines scanned so far, {} hits\n",
            binary_name(),
            SERVERS.load(Ordering::Relaxed),
            MESSAGES.load(Ordering::Relaxed),
            LINES.load(Ordering::Relaxed),
            HITS.load(Ordering::Relaxed),
        );
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

/// This test binary's name without cargo's hash (`e2e`, `secrets`).
fn binary_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|s| match s.rsplit_once('-') {
            Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => name.to_owned(),
            _ => s,
        })
        .unwrap_or_default()
}

/// Scan an answer a test read itself (an HTTP body, a Lambda invocation result) for the rig's own
/// credential, learned session credentials and planted secrets; a hit fails the calling test.
/// Only for servers started without `--no-redact`/`--show-env-values`.
pub fn answer(source: &str, body: &str) {
    static ANSWERS: std::sync::OnceLock<Watch> = std::sync::OnceLock::new();
    let watch = ANSWERS.get_or_init(|| Watch::new("answers read over HTTP and Lambda", &[], &[]));
    watch.0.messages.fetch_add(1, Ordering::Relaxed);
    MESSAGES.fetch_add(1, Ordering::Relaxed);
    watch.scan(body, || format!("{source} answer"));
    watch.raise();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(args: &[&str]) -> Watch {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        Watch::new(
            "aws-test-mcp",
            &args,
            &[("AWS_SECRET_ACCESS_KEY".into(), "OwnSecretKeyForTheScanTest00".into())],
        )
    }

    #[test]
    fn a_planted_secret_or_a_credential_on_a_line_is_a_hit_naming_it_masked() {
        let w = watch(&[]);
        w.message(r#"{"result":{"text":"ok"}}"#);
        assert!(w.take_hits().is_empty());
        w.message(&format!("{{\"text\":\"password={}\"}}", planted::PASSWORD));
        w.log_line("INFO signing with OwnSecretKeyForTheScanTest00");
        let hits = w.take_hits();
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert_eq!(hits[0].kind, Kind::Planted);
        assert_eq!(hits[0].place, "stdout message 2");
        assert!(!hits[0].to_string().contains(planted::PASSWORD), "{}", hits[0]);
        assert!(hits[0].excerpt.contains("password=[SECRET]"), "{}", hits[0]);
        assert_eq!(hits[1].kind, Kind::Credential);
        assert_eq!(hits[1].place, "stderr line 1");
        assert!(!hits[1].to_string().contains("OwnSecretKeyForTheScanTest00"));
    }

    #[test]
    fn no_redact_exempts_planted_data_but_never_credentials() {
        let w = watch(&["--no-redact"]);
        w.message(planted::PASSWORD);
        assert!(w.take_hits().is_empty());
        w.message(&format!("x {RIG_SECRET_ACCESS_KEY} y"));
        w.message(&format!("token {MOTO_SESSION_TOKEN_PREFIX}abc+/= end"));
        let hits = w.take_hits();
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert_eq!(hits[1].masked, mask(&format!("{MOTO_SESSION_TOKEN_PREFIX}abc+/=")));
    }

    #[test]
    fn raise_panics_once_per_hit() {
        let w = watch(&[]);
        w.message(planted::JWT);
        let first = std::panic::catch_unwind(|| w.raise());
        assert!(first.is_err());
        w.raise();
    }

    #[test]
    fn session_credentials_in_fake_answers_are_learned() {
        learn_from_reply(
            "<Credentials><SecretAccessKey>LearnedSecretFromXml0001</SecretAccessKey><SessionToken>tok</SessionToken></Credentials>",
            "the fake",
        );
        learn_from_reply(
            r#"{"roleCredentials":{"secretAccessKey":"LearnedSecretFromJson002","sessionToken":"LearnedTokenFromJson0003"}}"#,
            "the fake",
        );
        let w = watch(&[]);
        w.log_line("LearnedSecretFromXml0001 LearnedTokenFromJson0003 tok LearnedSecretFromJson002");
        let hits = w.take_hits();
        assert_eq!(hits.len(), 3, "a too-short value is not learned: {hits:?}");
    }
}
