//! Secrets (issue 13): each server runs with its log captured (its own code at trace level) and distinctive
//! credentials of its own, against emulators or the fake endpoint holding planted secrets (an S3
//! object, a DynamoDB item, Lambda environment values, log events, a knowledge-base chunk, an
//! assumed role's session). Every tool output and every log line is scanned.
//!
//! What is guaranteed, and tested:
//! - the server's own credentials (access key id, secret key) and the session credentials of roles
//!   it assumes never appear in a tool output or a log line;
//! - no planted secret ever appears in a log line (logs carry no payloads);
//! - Lambda environment values: names only by default; with `--show-env-values` the values are
//!   masked by redaction;
//! - log events: masked by default; shown with `--no-redact` (the user asked for them).
//!
//! Not redacted today, by design of those servers (user data returned as stored): S3 object
//! text, DynamoDB item attributes and knowledge-base chunk text. The tests below do not assert on
//! those outputs beyond the server's own credentials.

use std::path::PathBuf;

use aws_mcp_tests::{
    Mcp, McpBuilder, Service,
    fake::{Fake, Reply, Request},
    fixtures::{self, accounts::AccountsFile},
    text, unique,
};
use serde_json::{Value, json};

/// The credentials every server runs with: distinctive, so a scan cannot miss or confuse them
/// (the emulators accept any key; these map to the same account as `test`).
const OWN_KEY_ID: &str = "AKIAFAKEFAKEFAKE0001";
const OWN_SECRET: &str = "Zq8vR3nK0pW7sX2mB5cY9dF1gH4jL6tN8uE0aQ3i";

const S3_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const DDB_PASSWORD: &str = "Pl4nted-DDB-P4ssw0rd-7781";
const LAMBDA_PASSWORD: &str = "Pl4nted-Lambda-Env-Secret-5521";
const LAMBDA_API_KEY: &str = "Pl4ntedLambdaApiKey9z8y7x6w";
const LOGS_PASSWORD: &str = "Pl4nted-Logs-Pass-9911";
const LOGS_JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkLXVzZXIifQ.cGxhbnRlZC1zaWduYXR1cmUtMDAx";
const KB_API_KEY: &str = "Pl4nted-KB-ApiKey-3344";
const SESSION_SECRET: &str = "Pl4ntedSessionSecretKey000000000000000000";
const SESSION_TOKEN: &str = "Pl4ntedSessionTokenFQoGZXIvYXdzEJr0000000000";

/// Every planted secret (none may ever be in a log line).
const PLANTED: &[&str] = &[
    S3_SECRET,
    DDB_PASSWORD,
    LAMBDA_PASSWORD,
    LAMBDA_API_KEY,
    LOGS_PASSWORD,
    LOGS_JWT,
    KB_API_KEY,
    SESSION_SECRET,
    SESSION_TOKEN,
];
/// The server's own credentials (never anywhere).
const OWN: &[&str] = &[OWN_KEY_ID, OWN_SECRET, SESSION_SECRET, SESSION_TOKEN];

/// Everything of ours at trace level, dependencies at the servers' default levels. (A bare
/// `RUST_LOG=debug` also opens rmcp's and the SDK's debug logs, which print whole tool results
/// and the access key id: reported, not covered here.)
const LOG_FILTER: &str = "info,aws_config=warn,aws_smithy_runtime=warn,aws_runtime=warn,rmcp=warn,shared=trace,\
    aws_s3_mcp=trace,aws_dynamodb_mcp=trace,aws_lambda_mcp=trace,aws_logs_mcp=trace,aws_bedrock_kb_mcp=trace,aws_sts_mcp=trace";

/// A server run whose outputs and log are scanned.
struct Run {
    name: String,
    mcp: Mcp,
    log: PathBuf,
    outputs: Vec<(String, String)>,
}

fn logged(bin: &str, name: &str) -> (McpBuilder, PathBuf) {
    let log = std::env::temp_dir().join(format!("{}.log", unique(&format!("secrets-{name}"))));
    let b = Mcp::builder(bin)
        .env("AWS_ACCESS_KEY_ID", OWN_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", OWN_SECRET)
        .env("RUST_LOG", LOG_FILTER)
        .log_to(&log);
    (b, log)
}

impl Run {
    async fn start(name: &str, b: McpBuilder, log: PathBuf) -> Self {
        Self {
            name: name.to_owned(),
            mcp: b.start().await,
            log,
            outputs: Vec::new(),
        }
    }

    /// Call a tool (success or tool error) and keep everything it returned for the scan.
    async fn call(&mut self, tool: &str, args: Value) -> (bool, String) {
        let r = self.mcp.call(tool, args.clone()).await;
        let all = format!("{}\n{}", text(&r), r.structured_content.clone().unwrap_or_default());
        self.outputs.push((format!("{tool}({args})"), all.clone()));
        (r.is_error == Some(true), all)
    }

    /// Call a tool that must succeed; its whole output.
    async fn ok(&mut self, tool: &str, args: Value) -> String {
        let (failed, all) = self.call(tool, args.clone()).await;
        assert!(!failed, "{}: {tool}({args}) failed: {all}", self.name);
        all
    }

    /// End the session, then scan: own credentials nowhere, `hidden` in no output, and no
    /// planted secret in any log line. Returns the log for further checks.
    async fn scan(self, hidden: &[&str]) -> String {
        self.mcp.close().await;
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        for (call, out) in &self.outputs {
            for s in OWN.iter().chain(hidden) {
                assert!(!out.contains(s), "{}: {call} returned `{s}`:\n{out}", self.name);
            }
        }
        for (i, line) in log.lines().enumerate() {
            for s in OWN.iter().chain(PLANTED) {
                assert!(
                    !line.contains(s),
                    "{}: log line {} holds `{s}`:\n{line}",
                    self.name,
                    i + 1
                );
            }
        }
        // The log was captured: it holds an audit line per call.
        for (call, _) in &self.outputs {
            let tool = call.split('(').next().unwrap_or_default();
            assert!(log.contains(tool), "{}: no log line for {call}:\n{log}", self.name);
        }
        let _ = std::fs::remove_file(&self.log);
        log
    }
}

#[tokio::test]
async fn s3_never_shows_its_credentials_and_logs_no_object_content() {
    let body = format!("[default]\naws_access_key_id = AKIAPLANTEDS3OBJ0001\naws_secret_access_key = {S3_SECRET}\n");
    let bucket = fixtures::s3::bucket_named("secrets", &[("config/credentials", body.as_bytes(), "text/plain")]).await;
    let (b, log) = logged("aws-s3-mcp", "s3");
    let mut run = Run::start("aws-s3-mcp", b.args(&["--region", "us-east-1"]), log).await;
    run.ok("list_objects", json!({"bucket": bucket})).await;
    run.ok("head_object", json!({"bucket": bucket, "key": "config/credentials"}))
        .await;
    // The object's text comes back as stored: the user's own data (not asserted either way).
    run.ok("get_object", json!({"bucket": bucket, "key": "config/credentials"}))
        .await;
    run.ok("get_bucket_info", json!({"bucket": bucket})).await;
    let (failed, _) = run
        .call("get_object", json!({"bucket": bucket, "key": "missing"}))
        .await;
    assert!(failed);
    // A presigned URL carries the signing access key id by construction (never the secret key):
    // checked for the secret only, and kept out of the general scan.
    let r = run
        .mcp
        .ok("presign_url", json!({"bucket": bucket, "key": "config/credentials"}))
        .await
        .to_string();
    assert!(!r.contains(OWN_SECRET), "presign_url: {r}");
    let log = run.scan(&[]).await;
    assert!(!log.trim().is_empty(), "the server logged nothing to scan");
}

#[tokio::test]
async fn dynamodb_never_shows_its_credentials_and_logs_no_item_content() {
    let db = aws_mcp_tests::dynamodb().await;
    let table = unique("secrets");
    fixtures::dynamodb::create_simple(&db, &table).await;
    db.put_item()
        .table_name(&table)
        .item("pk", fixtures::dynamodb::s("user#1"))
        .item("password", fixtures::dynamodb::s(DDB_PASSWORD))
        .send()
        .await
        .expect("put the planted item");
    let (b, log) = logged("aws-dynamodb-mcp", "dynamodb");
    let mut run = Run::start("aws-dynamodb-mcp", b.args(&["--region", "us-east-1"]), log).await;
    run.ok("describe_table", json!({"table": table})).await;
    run.ok("get_item", json!({"table": table, "key": {"pk": "user#1"}}))
        .await;
    run.ok("scan", json!({"table": table})).await;
    run.ok("query", json!({"table": table, "partition_key": "user#1"}))
        .await;
    run.ok(
        "execute_partiql",
        json!({"statement": format!("SELECT * FROM \"{table}\" WHERE pk = 'user#1'")}),
    )
    .await;
    run.scan(&[]).await;
    fixtures::dynamodb::drop_table(&db, &table).await;
}

async fn lambda_with_secrets() -> String {
    let name = unique("secrets-fn");
    fixtures::lambda::create_function(
        &name,
        fixtures::lambda::Spec {
            env: vec![
                ("DB_PASSWORD", LAMBDA_PASSWORD),
                ("PAYMENTS_API_KEY", LAMBDA_API_KEY),
                ("LOG_LEVEL", "info"),
            ],
            ..Default::default()
        },
    )
    .await;
    name
}

#[tokio::test]
async fn lambda_environment_values_are_hidden_or_masked() {
    aws_mcp_tests::require(&[Service::Lambda]);
    let name = lambda_with_secrets().await;

    // Default: names only.
    let (b, log) = logged("aws-lambda-mcp", "lambda");
    let mut run = Run::start("aws-lambda-mcp", b.args(&["--region", "us-east-1"]), log).await;
    let out = run.ok("get_function", json!({"function": name})).await;
    for n in ["DB_PASSWORD", "PAYMENTS_API_KEY", "LOG_LEVEL"] {
        assert!(out.contains(n), "the variable names are shown: {out}");
    }
    run.ok("list_functions", json!({"name": name})).await;
    run.ok("list_versions", json!({"function": name})).await;
    run.scan(&[LAMBDA_PASSWORD, LAMBDA_API_KEY]).await;

    // --show-env-values: values shown, secrets masked by redaction.
    let (b, log) = logged("aws-lambda-mcp", "lambda-values");
    let mut run = Run::start(
        "aws-lambda-mcp --show-env-values",
        b.args(&["--region", "us-east-1", "--show-env-values"]),
        log,
    )
    .await;
    let out = run.ok("get_function", json!({"function": name})).await;
    assert!(out.contains("[REDACTED"), "masked values are marked: {out}");
    assert!(out.contains("info"), "ordinary values are shown: {out}");
    run.scan(&[LAMBDA_PASSWORD, LAMBDA_API_KEY]).await;
    fixtures::lambda::delete_functions(&[&name]).await;
}

#[tokio::test]
async fn log_events_are_masked_unless_the_user_asks_with_no_redact() {
    let logs = fixtures::logs::client().await;
    let group = format!("/secrets/{}", unique("app"));
    fixtures::logs::create_group(&logs, &group).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let events = vec![
        (now - 3_000, "service started".to_owned()),
        (
            now - 2_000,
            format!("db connect user=app password={LOGS_PASSWORD} host=db"),
        ),
        (now - 1_000, format!("GET /orders Authorization: Bearer {LOGS_JWT}")),
    ];
    fixtures::logs::put(&logs, &group, "s1", &events).await;
    let args = json!({"log_groups": [group], "start": "-1h"});

    let (b, log) = logged("aws-logs-mcp", "logs");
    let mut run = Run::start("aws-logs-mcp", b.args(&["--region", "us-east-1"]), log).await;
    let out = run.ok("filter_log_events", args.clone()).await;
    assert!(out.contains("service started"), "the events came back: {out}");
    assert!(out.contains("[REDACTED"), "{out}");
    run.ok(
        "tail_log_stream",
        json!({"log_group": group, "log_stream": "s1", "start": "-1h"}),
    )
    .await;
    run.scan(&[LOGS_PASSWORD, LOGS_JWT]).await;

    // The user's choice: shown as written (the server's own credentials still never are, and
    // its log still carries no event text).
    let (b, log) = logged("aws-logs-mcp", "logs-no-redact");
    let mut run = Run::start(
        "aws-logs-mcp --no-redact",
        b.args(&["--region", "us-east-1", "--no-redact"]),
        log,
    )
    .await;
    let out = run.ok("filter_log_events", args).await;
    assert!(
        out.contains(LOGS_PASSWORD) && out.contains(LOGS_JWT),
        "--no-redact shows the events as written: {out}"
    );
    run.scan(&[]).await;
}

#[tokio::test]
async fn bedrock_kb_never_shows_its_credentials_and_logs_no_chunk_text() {
    let fake = Fake::start().await;
    fake.on_json(
        "Retrieve",
        "POST /knowledgebases/{kbId}/retrieve",
        Reply::json(json!({"retrievalResults": [{
            "content": {"type": "TEXT", "text": format!("To call the billing API use api_key = {KB_API_KEY}.")},
            "location": {"type": "S3", "s3Location": {"uri": "s3://kb-docs/runbook.md"}},
            "score": 0.9
        }]})),
    );
    let (b, log) = logged("aws-bedrock-kb-mcp", "bedrock-kb");
    let b = b
        .args(&["--region", "us-east-1"])
        .endpoint(Service::BedrockAgentRuntime, &fake.url())
        .endpoint(Service::BedrockAgent, &fake.url());
    let mut run = Run::start("aws-bedrock-kb-mcp", b, log).await;
    run.ok(
        "retrieve",
        json!({"knowledge_base_id": "KBSECRETS1", "query": "billing api key"}),
    )
    .await;
    run.scan(&[]).await;
    // The request the fake saw was signed with the server's key id (the credentials in use are
    // the ones planted), and carried no secret key.
    let req = &fake.requests_for("Retrieve")[0];
    let auth = req.header("authorization").unwrap_or_default();
    assert!(auth.contains(OWN_KEY_ID), "{auth}");
    assert!(!auth.contains(OWN_SECRET));
}

/// A fake STS issuing sessions with the planted session credentials.
fn sts_fake(fake: &Fake) {
    fake.on_action("AssumeRole", |req: &Request| {
        let arn = req.form_field("RoleArn").unwrap_or_default().to_owned();
        let account = arn.split(':').nth(4).unwrap_or("111111111111").to_owned();
        let expires = aws_smithy_types::DateTime::from(std::time::SystemTime::now() + std::time::Duration::from_secs(3600))
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap_or_default();
        Reply::query_result(
            "AssumeRole",
            format!(
                "<Credentials><AccessKeyId>ASIAPLANTEDSESSION01</AccessKeyId><SecretAccessKey>{SESSION_SECRET}</SecretAccessKey>\
                 <SessionToken>{SESSION_TOKEN}</SessionToken><Expiration>{expires}</Expiration></Credentials>\
                 <AssumedRoleUser><AssumedRoleId>AROAFAKE:s</AssumedRoleId>\
                 <Arn>arn:aws:sts::{account}:assumed-role/McpReadOnly/s</Arn></AssumedRoleUser>"
            ),
        )
    });
    fake.on_action("GetCallerIdentity", |req: &Request| {
        let session = req.header("x-amz-security-token").is_some();
        let (arn, account) = if session {
            ("arn:aws:sts::222222222222:assumed-role/McpReadOnly/s", "222222222222")
        } else {
            ("arn:aws:iam::000000000000:user/mcp", "000000000000")
        };
        Reply::query_result(
            "GetCallerIdentity",
            format!("<Arn>{arn}</Arn><UserId>AIDAFAKE</UserId><Account>{account}</Account>"),
        )
    });
}

#[tokio::test]
async fn sts_never_shows_its_credentials_or_an_assumed_roles_session() {
    let fake = Fake::start().await;
    sts_fake(&fake);
    let accts = vec![fixtures::accounts::TestAccount {
        alias: "prod".into(),
        id: "222222222222".into(),
    }];
    let file = AccountsFile::for_accounts(&accts, &["us-east-1"]);
    let (b, log) = logged("aws-sts-mcp", "sts");
    let b = b
        .args(&["--region", "us-east-1", "--accounts", &file.arg()])
        .everything_at(&fake.url());
    let mut run = Run::start("aws-sts-mcp", b, log).await;
    run.ok("whoami", json!({})).await;
    let out = run.ok("assume_role", json!({"account": "prod"})).await;
    assert!(out.contains("222222222222"), "{out}");
    run.ok("whoami", json!({"account": "prod"})).await;
    run.ok("list_accounts", json!({})).await;
    run.scan(&[]).await;
    // The session really was used (so its credentials were in the server to leak).
    assert!(
        fake.requests_for("GetCallerIdentity")
            .iter()
            .any(|r| r.header("x-amz-security-token") == Some(SESSION_TOKEN)),
        "the assumed session signed a call"
    );
}
