//! Masking of likely secrets in text a tool returns to a model: log lines, function environments,
//! object contents and error messages can carry credentials, and once in a transcript they are
//! copied to places nobody audits. A match is replaced by `[REDACTED:<kind>]`; for `key=value`
//! forms only the value is masked, so the model still sees which setting was there.
//!
//! Patterns favour recall on things that are unambiguously secrets (AWS key ids, PEM private keys,
//! JWTs, GitHub/Slack tokens, passwords in connection strings, values of password/secret/token/
//! api-key settings) and avoid ordinary text: UUIDs, request ids, ARNs, hex hashes and bare
//! 40-character strings are left alone unless a secret-ish word labels them. Known misses: secrets
//! with no recognisable shape or label. Known over-masking: a `PWD=` path, or a `token: 5` count.
//!
//! Cost: regexes compile once per process, on first use. Text is first scanned for a keyword
//! (secret, token, password, AKIA, `://`, …; a byte scan, `has_keyword`); text without any is
//! returned borrowed, uncopied, and a session whose results hold none never compiles a regex.
//! Text with keywords is scanned by each pattern (each with its own literal prefilter), matches
//! are merged, and the text is copied once. Measured in a release build (opt-level 3, keyword
//! regex) on one core of a shared 2-core machine: ~160 MB/s on [`throughput_sample`] (1 MB of log lines with ARNs, `NextToken`s
//! and a secret every ~50 lines), ~600 MB/s on text with no keyword. The `key=value` rule costs
//! most, as every `…token:`/`…secret:` pair is captured and its key checked.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// Masks secrets when enabled; a disabled redactor returns everything unchanged.
#[derive(Clone, Debug)]
pub struct Redactor {
    enabled: bool,
}

impl Redactor {
    /// Nothing is compiled here: the rules compile with the first text that holds a keyword.
    /// Compiling them at start-up cost every server that builds a redactor milliseconds before
    /// its first answer, and megabytes of memory a session whose results hold no keyword never
    /// needs.
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// `s` with secrets masked, and how many were masked. Borrowed when nothing was.
    pub fn text<'a>(&self, s: &'a str) -> (Cow<'a, str>, usize) {
        if !self.enabled || !has_keyword(s) {
            return (Cow::Borrowed(s), 0);
        }
        // A value masked by an earlier pass is not a secret again (so a second pass counts nothing).
        let found: Vec<Span> = find_all(s)
            .into_iter()
            .filter(|sp| !s[sp.start..sp.end].starts_with("[REDACTED:") && !signed_url_credential(s, sp.start))
            .collect();
        let spans = merged(found);
        if spans.is_empty() {
            return (Cow::Borrowed(s), 0);
        }
        let mut out = String::with_capacity(s.len());
        let mut at = 0;
        for span in &spans {
            out.push_str(&s[at..span.start]);
            out.push_str("[REDACTED:");
            out.push_str(span.kind);
            out.push(']');
            at = span.end;
        }
        out.push_str(&s[at..]);
        (Cow::Owned(out), spans.len())
    }

    /// Mask every string in `v` in place (object keys are kept) and return how many secrets were
    /// masked. A string under a secret-ish key (`password`, `SecretAccessKey`, `DB_PASSWORD`,
    /// `api_key`, … but not `NextToken`) is masked whole, whatever it looks like.
    pub fn json(&self, v: &mut serde_json::Value) -> usize {
        if !self.enabled {
            return 0;
        }
        match v {
            serde_json::Value::String(s) => self.string(s),
            serde_json::Value::Array(items) => items.iter_mut().map(|i| self.json(i)).sum(),
            serde_json::Value::Object(map) => map
                .iter_mut()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s)
                        if !s.is_empty() && !s.starts_with("[REDACTED:") && sensitive_key(k) =>
                    {
                        *s = format!("[REDACTED:{}]", key_kind(k));
                        1
                    }
                    _ => self.json(v),
                })
                .sum(),
            _ => 0,
        }
    }

    fn string(&self, s: &mut String) -> usize {
        match self.text(s) {
            (Cow::Owned(masked), n) => {
                *s = masked;
                n
            }
            (Cow::Borrowed(_), _) => 0,
        }
    }
}

/// Whether a match starting at `start` is the key id or session token of a SigV4-presigned URL
/// (`X-Amz-Credential=AKIA…`, `X-Amz-Security-Token=…` beside `X-Amz-Signature=`). Such a URL is a
/// capability the user asked for (S3 `presign_url`, binary objects); masking its parameters breaks
/// it, and neither lets anyone sign a new request without the secret key, which never appears.
fn signed_url_credential(s: &str, start: usize) -> bool {
    let before = s.as_bytes()[..start].to_ascii_lowercase();
    (before.ends_with(b"x-amz-credential=") || before.ends_with(b"x-amz-security-token="))
        && s.contains("X-Amz-Signature=")
}

/// One masked range of the input.
#[derive(Debug)]
struct Span {
    start: usize,
    end: usize,
    /// Rule index: on equal starts the more specific (earlier) rule names the kind.
    rank: usize,
    kind: &'static str,
}

/// How a rule's match becomes a span.
enum Pick {
    /// The whole match.
    Whole,
    /// Capture group 1.
    Group,
    /// Group 1 if it looks like a token rather than a word.
    TokenLike,
    /// `key` and the first matching value group, if the key is secret-ish.
    KeyValue,
}

struct Rule {
    kind: &'static str,
    re: Regex,
    pick: Pick,
}

/// Between a key and its value: optional closing quote (possibly escaped), then `:` or `=`.
const SEP: &str = r#"\\?["']?\s*[:=]\s*"#;
/// [`SEP`] and an optional opening quote, for rules whose value charset excludes quotes.
const SEP_Q: &str = r#"\\?["']?\s*[:=]\s*\\?["']?"#;

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |kind, pattern: &str, pick| Rule {
        kind,
        // The patterns are constants covered by the tests below.
        re: Regex::new(pattern).unwrap_or_else(|e| panic!("redact pattern {kind}: {e}")),
        pick,
    };
    vec![
        rule(
            "private-key",
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
            Pick::Whole,
        ),
        rule(
            "aws-access-key-id",
            r"\b(?:AKIA|ASIA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA|APKA|ABIA|ACCA)[A-Z0-9]{16}\b",
            Pick::Whole,
        ),
        rule(
            "aws-secret-access-key",
            r#"(?i:secret)[A-Za-z_ -]{0,30}?[\s:="'\\]+([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
            Pick::Group,
        ),
        rule(
            "aws-session-token",
            &format!(
                r"(?i:aws_?session_?token|x-amz-security-token|session_?token|security_?token){SEP_Q}([A-Za-z0-9/+=%_-]{{16,}})"
            ),
            Pick::Group,
        ),
        rule(
            "aws-session-token",
            r"\b(?:FwoGZXIvYXdzE|FQoGZXIvYXdzE|IQoJb3JpZ2lu)[A-Za-z0-9/+=%_-]{20,}",
            Pick::Whole,
        ),
        rule(
            "jwt",
            r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            Pick::Whole,
        ),
        rule(
            "github-token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
            Pick::Whole,
        ),
        rule("slack-token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}", Pick::Whole),
        rule(
            "bearer-token",
            r"(?i:\bbearer)\s+([A-Za-z0-9_.~+/=-]{8,})",
            Pick::TokenLike,
        ),
        rule(
            "authorization",
            &format!(r#"(?i:\bauthorization){SEP_Q}(?:(?i:bearer|basic|digest|token|negotiate)\s+)?([^\r\n"'\\]+)"#),
            Pick::Group,
        ),
        rule(
            "password",
            r#"\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"'<>]*:([^\s/?#"'<>]+)@"#,
            Pick::Group,
        ),
        rule(
            "secret",
            &format!(
                r#"(?P<key>[A-Za-z0-9_.-]*?(?i:password|passwd|passphrase|pwd|secret_?access_?key|secret_?key|secret_?string|client_?secret|secret|token|api_?key|apikey|private_?key)){SEP}(?:"((?:[^"\\\r\n]|\\.)*)"|\\"((?:[^"\\\r\n]|\\[^"])*)\\"|'([^'\r\n]*)'|([^\s&,;"'\\<>(){{}}\[\]]+))"#
            ),
            Pick::KeyValue,
        ),
    ]
});

/// Any text a rule can match contains one of these; text without them is returned as is. A JWT
/// has `.eyJ` (its payload), so the servers' own cursors (`eyJ…` then a signature) are not
/// keywords. Compiled only for text holding a character that Unicode case-folds onto an ASCII
/// letter ([`has_keyword`] scans the rest by hand).
static KEYWORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)AKIA|ASIA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA|APKA|ABIA|ACCA|FwoGZXIvYXdzE|FQoGZXIvYXdzE|IQoJb3JpZ2lu|secret|token|bearer|authoriz|\.eyJ|pass|pwd|api_?key|private|://|gh[pousr]_|github_pat_|xox",
    )
    .unwrap_or_else(|e| panic!("redact keywords: {e}"))
});

/// Whether `s` contains a match of [`KEYWORDS`]. Checked on every string of every redacted result:
/// a byte scan instead of the regex, whose compilation (~1 MB of code and tables touched, plus
/// its caches) would otherwise be the price of the first result of every session. The regex is
/// `(?i)`, so `ſ` (U+017F) matches `s` and the Kelvin sign (U+212A) matches `k`: text holding
/// either goes to the regex itself.
fn has_keyword(s: &str) -> bool {
    if s.contains(['\u{17F}', '\u{212A}']) {
        return KEYWORDS.is_match(s);
    }
    let b = s.as_bytes();
    (0..b.len()).any(|i| keyword_at(&b[i..]))
}

/// Four-letter prefixes of AWS key ids ([`KEYWORDS`]' first alternatives).
const KEY_ID_PREFIXES: [&[u8; 4]; 11] = [
    b"akia", b"asia", b"aida", b"aroa", b"aipa", b"anpa", b"anva", b"agpa", b"apka", b"abia", b"acca",
];

/// Whether a keyword of [`KEYWORDS`] starts at `t[0]` (ASCII case-insensitively).
fn keyword_at(t: &[u8]) -> bool {
    let is = |w: &[u8]| t.len() >= w.len() && t[..w.len()].eq_ignore_ascii_case(w);
    match t[0].to_ascii_lowercase() {
        b'a' => KEY_ID_PREFIXES.iter().any(|p| is(&p[..])) || is(b"authoriz") || is(b"api_key") || is(b"apikey"),
        b's' => is(b"secret"),
        b't' => is(b"token"),
        b'b' => is(b"bearer"),
        b'.' => is(b".eyj"),
        b'f' => is(b"fwogzxivyxdze") || is(b"fqogzxivyxdze"),
        b'i' => is(b"iqojb3jpz2lu"),
        b'p' => is(b"pass") || is(b"pwd") || is(b"private"),
        b':' => is(b"://"),
        b'g' => {
            is(b"github_pat_")
                || (t.len() >= 4
                    && t[1].eq_ignore_ascii_case(&b'h')
                    && matches!(t[2].to_ascii_lowercase(), b'p' | b'o' | b'u' | b's' | b'r')
                    && t[3] == b'_')
        }
        b'x' => is(b"xox"),
        _ => false,
    }
}

fn find_all(s: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    for (rank, rule) in RULES.iter().enumerate() {
        let mut push = |m: regex::Match<'_>, kind| {
            spans.push(Span {
                start: m.start(),
                end: m.end(),
                rank,
                kind,
            })
        };
        match rule.pick {
            Pick::Whole => rule.re.find_iter(s).for_each(|m| push(m, rule.kind)),
            Pick::Group | Pick::TokenLike => {
                for c in rule.re.captures_iter(s) {
                    if let Some(m) = c.get(1)
                        && (matches!(rule.pick, Pick::Group) || token_like(m.as_str()))
                    {
                        push(m, rule.kind);
                    }
                }
            }
            Pick::KeyValue => {
                for c in rule.re.captures_iter(s) {
                    if let Some((m, kind)) = key_value(s, &c) {
                        push(m, kind);
                    }
                }
            }
        }
    }
    spans
}

/// The value of a `key=value` match, if the key is secret-ish and not an ARN segment
/// (`…:secret:prod/db`).
fn key_value<'a>(s: &str, c: &Captures<'a>) -> Option<(regex::Match<'a>, &'static str)> {
    let key = c.name("key")?;
    if s[..key.start()].ends_with(':') || !sensitive_key(key.as_str()) {
        return None;
    }
    let value = (2..=5).find_map(|i| c.get(i))?;
    let v = value.as_str();
    (!v.is_empty() && v != "null").then(|| (value, key_kind(key.as_str())))
}

/// A bearer credential rather than an English word after "bearer".
fn token_like(v: &str) -> bool {
    v.len() >= 20 || v.bytes().any(|b| b.is_ascii_digit() || b"._~+/=-_".contains(&b))
}

fn normalise(key: &str) -> String {
    key.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether a setting with this name holds a secret: `password`, `DB_PASSWORD`, `SecretAccessKey`,
/// `client_secret`, `api-key`, `access_token`, … but not pagination or idempotency tokens.
pub fn sensitive_key(key: &str) -> bool {
    const SECRET: [&str; 11] = [
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "secret",
        "secretkey",
        "secretaccesskey",
        "secretstring",
        "token",
        "apikey",
        "privatekey",
    ];
    const NOT: [&str; 12] = [
        "nexttoken",
        "continuationtoken",
        "paginationtoken",
        "pagetoken",
        "clienttoken",
        "starttoken",
        "forwardtoken",
        "backwardtoken",
        "sequencetoken",
        "idempotencytoken",
        "resumptiontoken",
        "maxtoken",
    ];
    let k = normalise(key);
    SECRET.iter().any(|s| k.ends_with(s)) && !NOT.iter().any(|n| k.ends_with(n))
}

fn key_kind(key: &str) -> &'static str {
    let k = normalise(key);
    if k.contains("secretaccesskey") {
        "aws-secret-access-key"
    } else if k.contains("sessiontoken") || k.contains("securitytoken") {
        "aws-session-token"
    } else if ["password", "passwd", "passphrase", "pwd"]
        .iter()
        .any(|p| k.ends_with(p))
    {
        "password"
    } else if k.ends_with("token") {
        "token"
    } else if k.ends_with("apikey") {
        "api-key"
    } else if k.ends_with("privatekey") {
        "private-key"
    } else {
        "secret"
    }
}

/// Sort by start (ties: more specific rule first) and fuse overlaps, so no part of any match is
/// left visible and each secret counts once.
fn merged(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by_key(|s| (s.start, s.rank));
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start < last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// About 1 MB of realistic log text (request ids, ARNs, hashes, JSON fragments) with a secret of a
/// different kind every ~50 lines: the input for measuring redaction throughput.
pub fn throughput_sample() -> String {
    sample(1 << 20).0
}

/// The sample, and how many secrets it contains.
fn sample(bytes: usize) -> (String, usize) {
    let mut out = String::with_capacity(bytes + 512);
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut hex = |n: usize| {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            s.push_str(&format!("{:016x}", seed));
        }
        s.truncate(n);
        s
    };
    let mut secrets = 0;
    let mut line = 0usize;
    while out.len() < bytes {
        line += 1;
        let id = format!("{}-{}-4{}-a{}-{}", hex(8), hex(4), hex(3), hex(3), hex(12));
        let ts = format!(
            "2026-11-30T12:{:02}:{:02}.{:03}Z",
            line / 60 % 60,
            line % 60,
            line % 1000
        );
        let text = match line % 7 {
            0 => format!(
                "{ts} INFO RequestId: {id} Duration: 12.{} ms Billed Duration: 13 ms Memory Size: 128 MB",
                line % 100
            ),
            1 => format!(
                "{ts} DEBUG GetSecretValue arn=arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf request_id={id}"
            ),
            2 => format!(
                "{ts} INFO deployed commit {} to stage prod (sha256:{})",
                hex(40),
                hex(64)
            ),
            3 => format!(
                r#"{ts} INFO {{"level":"info","msg":"listed objects","bucket":"logs-{}","keys":1000,"NextToken":"{}"}}"#,
                hex(6),
                hex(48)
            ),
            4 => format!(
                "{ts} WARN throttled by DynamoDB table orders in Asia Pacific (Tokyo), retrying in 200 ms; x-amzn-RequestId={}",
                hex(52)
            ),
            5 => format!(
                "{ts} INFO user alice@example.com logged in from 10.0.{}.{} via https://app.example.com/login?next=/home",
                line % 256,
                line % 200
            ),
            _ => format!(
                "{ts} INFO the bearer of the request asked for a password reset email; tokens used: {}",
                line % 5000
            ),
        };
        out.push_str(&text);
        out.push('\n');
        if line.is_multiple_of(50) {
            let secret = match line / 50 % 10 {
                0 => "assumed credentials AKIAIOSFODNN7EXAMPLE for role deploy".to_owned(),
                1 => "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
                2 => "GET /v1/items Authorization: Bearer abcDEF123456789xyz.more_token_text".to_owned(),
                3 => "session cookie eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned(),
                4 => "connecting to postgres://app:s3cr3t-P4ss@db.internal:5432/app".to_owned(),
                5 => "loaded config password=hunter2&user=bob".to_owned(),
                6 => r#"{"client_id": "web", "client_secret": "abc123def456"}"#.to_owned(),
                7 => format!("cloning with ghp_{}", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
                8 => format!("notify {}", ["xoxb", "123456789012", "abcdefghijKLMNOP"].join("-")),
                _ => "presigned ?X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr%2F%2F%2F%2FwEaCXVzLWVhc3QtMSJHMEUCIQ&X-Amz-Expires=300".to_owned(),
            };
            out.push_str(&format!("{ts} ERROR {secret}\n"));
            secrets += 1;
        }
    }
    (out, secrets)
}

#[cfg(test)]
mod tests;
