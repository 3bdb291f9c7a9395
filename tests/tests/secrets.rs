//! Secrets (issue 13). Every server any end-to-end test starts passes the rig's secret scan
//! ([`aws_mcp_tests::scan`]): each MCP message and log line is checked for the server's own
//! credentials, session credentials of assumed roles and the planted secrets of
//! [`aws_mcp_tests::fixtures::planted`]. This file drives that scan hardest: each server runs
//! with its own code at trace level and distinctive credentials of its own, against emulators or
//! the fake endpoint holding planted secrets (an S3 object, a DynamoDB item, Lambda environment
//! values, log events, a knowledge-base chunk, an assumed role's session), and calls the tools that
//! return them. And it proves the scan fires: on a credential a server was made to return even
//! with `--no-redact`, and on planted data echoed back unmasked.
//!
//! What is guaranteed, and tested:
//! - the server's own credentials (secret key) and the session credentials of roles it assumes
//!   never appear in a tool output or a log line, whatever the flags;
//! - planted secrets are masked in S3 object text, DynamoDB items, knowledge-base chunks and log
//!   events, and never in a log line;
//! - Lambda environment values: names only by default; with `--show-env-values` the values are
//!   masked by redaction;
//! - log events: shown as written with `--no-redact` (the user asked for them).

use std::path::PathBuf;

use aws_mcp_tests::{
    Mcp, McpBuilder, Service,
    fake::{Fake, Reply, Request},
    fixtures::{
        self,
        accounts::AccountsFile,
        logs::Made,
        planted::{self, API_KEY, JWT, PASSWORD},
    },
    scan::Kind,
    text, unique,
};
use serde_json::{Value, json};

/// The credentials every server here runs with: distinctive, so a scan cannot miss or confuse
/// them (the emulators accept any key; these map to the same account as `test`).
const OWN_KEY_ID: &str = "AKIAFAKEFAKEFAKE0001";
const OWN_SECRET: &str = "Zq8vR3nK0pW7sX2mB5cY9dF1gH4jL6tN8uE0aQ3i";

/// The session the fake STS hands out (the rig learns both from its answer).
const SESSION_SECRET: &str = "Pl4ntedSessionSecretKey000000000000000000";
const SESSION_TOKEN: &str = "Pl4ntedSessionTokenFQoGZXIvYXdzEJr0000000000";

/// Everything of ours at trace level, dependencies at the servers' default levels. (A bare
/// `RUST_LOG=debug` also opens rmcp's and the SDK's debug logs, which print whole tool results
/// and the access key id: reported, not covered here.)
const LOG_FILTER: &str = "info,aws_config=warn,aws_smithy_runtime=warn,aws_runtime=warn,rmcp=warn,shared=trace,\
    aws_s3_mcp=trace,aws_dynamodb_mcp=trace,aws_lambda_mcp=trace,aws_logs_mcp=trace,aws_bedrock_kb_mcp=trace,aws_sts_mcp=trace";

/// A server run: the rig scans everything; this also keeps the outputs for the checks below.
struct Run {
    name: String,
    mcp: Mcp,
    log: PathBuf,
    calls: Vec<String>,
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
            calls: Vec::new(),
        }
    }

    /// Call a tool (success or tool error); whether it failed, and everything it returned.
    async fn call(&mut self, tool: &str, args: Value) -> (bool, String) {
        let r = self.mcp.call(tool, args.clone()).await;
        let all = format!("{}\n{}", text(&r), r.structured_content.clone().unwrap_or_default());
        self.calls.push(tool.to_owned());
        (r.is_error == Some(true), all)
    }

    /// Call a tool that must succeed; its whole output.
    async fn ok(&mut self, tool: &str, args: Value) -> String {
        let (failed, all) = self.call(tool, args.clone()).await;
        assert!(!failed, "{}: {tool}({args}) failed: {all}", self.name);
        all
    }

    /// End the session (the rig's scan of the rest of the log runs here) and check the scan had
    /// something to read: every call's audit line, at trace level.
    async fn finish(self) {
        let (messages, _) = self.mcp.scan_counts();
        self.mcp.close().await;
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        assert!(
            messages > self.calls.len() as u64,
            "{}: {messages} messages scanned",
            self.name
        );
        for tool in &self.calls {
            assert!(
                log.contains(tool.as_str()),
                "{}: no log line for {tool}:\n{log}",
                self.name
            );
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

#[tokio::test]
async fn s3_masks_a_credentials_file_and_never_shows_its_own_credentials() {
    let body = planted::credentials_file();
    let bucket = fixtures::s3::bucket_named("secrets", &[("config/credentials", body.as_bytes(), "text/plain")]).await;
    let (b, log) = logged("aws-s3-mcp", "s3");
    let mut run = Run::start("aws-s3-mcp", b.args(&["--region", "us-east-1"]), log).await;
    run.ok("list_objects", json!({"bucket": bucket})).await;
    run.ok("head_object", json!({"bucket": bucket, "key": "config/credentials"}))
        .await;
    let out = run
        .ok("get_object", json!({"bucket": bucket, "key": "config/credentials"}))
        .await;
    assert!(out.contains("aws_secret_access_key = [REDACTED"), "{out}");
    run.ok("get_bucket_info", json!({"bucket": bucket})).await;
    let (failed, _) = run
        .call("get_object", json!({"bucket": bucket, "key": "missing"}))
        .await;
    assert!(failed);
    // A presigned URL carries the signing access key id by construction, never the secret key
    // (which the rig's scan looks for in every output); redaction must leave it usable.
    let url = run
        .ok("presign_url", json!({"bucket": bucket, "key": "config/credentials"}))
        .await;
    assert!(
        url.contains("X-Amz-Signature=") && url.contains(OWN_KEY_ID) && !url.contains("[REDACTED"),
        "{url}"
    );
    run.finish().await;
}

#[tokio::test]
async fn dynamodb_masks_a_planted_item_and_never_shows_its_own_credentials() {
    let db = aws_mcp_tests::dynamodb().await;
    let table = unique("secrets");
    fixtures::dynamodb::create_simple(&db, &table).await;
    fixtures::dynamodb::put_planted(&db, &table, "user#1").await;
    let (b, log) = logged("aws-dynamodb-mcp", "dynamodb");
    let mut run = Run::start("aws-dynamodb-mcp", b.args(&["--region", "us-east-1"]), log).await;
    run.ok("describe_table", json!({"table": table})).await;
    let out = run
        .ok("get_item", json!({"table": table, "key": {"pk": "user#1"}}))
        .await;
    assert!(out.contains("[REDACTED"), "{out}");
    run.ok("scan", json!({"table": table})).await;
    run.ok("query", json!({"table": table, "partition_key": "user#1"}))
        .await;
    run.ok(
        "execute_partiql",
        json!({"statement": format!("SELECT * FROM \"{table}\" WHERE pk = 'user#1'")}),
    )
    .await;
    run.finish().await;
    fixtures::dynamodb::drop_table(&db, &table).await;
}

#[tokio::test]
async fn lambda_environment_values_are_hidden_or_masked() {
    aws_mcp_tests::require(&[Service::Lambda]);
    let name = unique("secrets-fn");
    fixtures::lambda::create_function(
        &name,
        fixtures::lambda::Spec {
            env: planted::lambda_env(),
            ..Default::default()
        },
    )
    .await;

    // Default: names only.
    let (b, log) = logged("aws-lambda-mcp", "lambda");
    let mut run = Run::start("aws-lambda-mcp", b.args(&["--region", "us-east-1"]), log).await;
    let out = run.ok("get_function", json!({"function": name})).await;
    for n in ["DB_PASSWORD", "PAYMENTS_API_KEY", "LOG_LEVEL"] {
        assert!(out.contains(n), "the variable names are shown: {out}");
    }
    assert!(!out.contains("\"info\""), "names only: {out}");
    run.ok("list_functions", json!({"name": name})).await;
    run.ok("list_versions", json!({"function": name})).await;
    run.finish().await;

    // --show-env-values: values shown, secrets masked by redaction. (The rig's scan exempts planted
    // data here, as the user asked for values: this test checks them itself.)
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
    assert!(!out.contains(PASSWORD) && !out.contains(API_KEY), "{out}");
    run.finish().await;
    fixtures::lambda::delete_functions(&[&name]).await;
}

/// A new group with a plain event, a password and a bearer JWT (planted), and `extra` events.
async fn group_with_secrets(extra: &[String]) -> String {
    let logs = fixtures::logs::client().await;
    let group = format!("/secrets/{}", unique("app"));
    fixtures::logs::create_group(&logs, &group).await;
    let now = shared::time::now_ms();
    let mut events = vec![
        Made::new("s1", now - 3_000, "service started"),
        Made::new(
            "s1",
            now - 2_000,
            format!("db connect user=app password={PASSWORD} host=db"),
        ),
        Made::new("s1", now - 1_000, format!("GET /orders Authorization: Bearer {JWT}")),
    ];
    events.extend(extra.iter().map(|m| Made::new("s1", now - 500, m.clone())));
    fixtures::logs::put(&logs, &group, "s1", &events).await;
    group
}

#[tokio::test]
async fn log_events_are_masked_unless_the_user_asks_with_no_redact() {
    let group = group_with_secrets(&[]).await;
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
    run.finish().await;

    // The user's choice: shown as written (the rig's scan exempts planted data here; the
    // server's own credentials still never appear, and its log carries no event text).
    let (b, log) = logged("aws-logs-mcp", "logs-no-redact");
    let mut run = Run::start(
        "aws-logs-mcp --no-redact",
        b.args(&["--region", "us-east-1", "--no-redact"]),
        log,
    )
    .await;
    let out = run.ok("filter_log_events", args).await;
    assert!(
        out.contains(PASSWORD) && out.contains(JWT),
        "--no-redact shows the events as written: {out}"
    );
    run.finish().await;
}

/// The scan fires on real server output (a scan that never fires proves nothing): a log event
/// holding the server's own secret key, read with `--no-redact`, is a credential hit (never
/// exempt), while the planted password beside it is not (the user asked for event text).
#[tokio::test]
async fn the_scan_catches_a_servers_own_credential_even_with_no_redact() {
    let group = group_with_secrets(&[format!("leaked config secret={OWN_SECRET}")]).await;
    let (b, log) = logged("aws-logs-mcp", "logs-leak");
    let mcp = b
        .args(&["--region", "us-east-1", "--no-redact"])
        .collect_scan_hits()
        .start()
        .await;
    let r = mcp
        .call("filter_log_events", json!({"log_groups": [group], "start": "-1h"}))
        .await;
    let out = r.structured_content.clone().unwrap_or_default().to_string();
    assert!(out.contains(OWN_SECRET) && out.contains(PASSWORD), "{out}");
    let hits = mcp.take_scan_hits();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    let hit = &hits[0];
    assert_eq!(hit.kind, Kind::Credential, "{hit}");
    assert!(hit.what.contains("AWS_SECRET_ACCESS_KEY"), "{hit}");
    assert!(hit.place.starts_with("stdout message"), "{hit}");
    assert!(hit.excerpt.contains("secret=[SECRET]"), "{hit}");
    assert!(
        !hit.to_string().contains(OWN_SECRET),
        "the report masks the secret: {hit}"
    );
    mcp.close().await;
    let _ = std::fs::remove_file(&log);
}

/// Planted data echoed back unmasked (here: a model sends the planted API key as a prefix and the
/// server repeats its arguments) is a hit on a server started without `--no-redact`.
#[tokio::test]
async fn the_scan_catches_planted_data_in_an_answer() {
    let bucket = fixtures::s3::bucket_named("secrets-echo", &[("a.txt", b"a", "text/plain")]).await;
    let mcp = Mcp::builder("aws-s3-mcp").collect_scan_hits().start().await;
    let out = mcp
        .ok("list_objects", json!({"bucket": bucket, "prefix": API_KEY}))
        .await;
    assert!(out.to_string().contains(API_KEY), "the prefix is echoed: {out}");
    let hits = mcp.take_scan_hits();
    assert!(!hits.is_empty(), "the scan missed the planted API key in {out}");
    assert!(
        hits.iter()
            .all(|h| h.kind == Kind::Planted && h.what == "the planted API key"),
        "{hits:#?}"
    );
    mcp.close().await;
}

#[tokio::test]
async fn bedrock_kb_masks_a_planted_chunk_and_never_shows_its_own_credentials() {
    let fake = Fake::start().await;
    fake.on_json(
        "Retrieve",
        "POST /knowledgebases/{kbId}/retrieve",
        Reply::json(json!({"retrievalResults": [{
            "content": {"type": "TEXT", "text": planted::kb_chunk()},
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
    let out = run
        .ok(
            "retrieve",
            json!({"knowledge_base_id": "KBSECRETS1", "query": "billing api key"}),
        )
        .await;
    assert!(out.contains("api_key = [REDACTED"), "{out}");
    run.finish().await;
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
    run.finish().await;
    // The session really was used (so its credentials were in the server to leak).
    assert!(
        fake.requests_for("GetCallerIdentity")
            .iter()
            .any(|r| r.header("x-amz-security-token") == Some(SESSION_TOKEN)),
        "the assumed session signed a call"
    );
}

/// LocalStack's STS makes up the session: the rig learns it on its way to the server (the scan's
/// STS pass-through), and the server never shows it.
#[tokio::test]
async fn sts_sessions_from_localstack_are_learned_and_never_shown() {
    let accts = fixtures::accounts::accounts(&["prod"]);
    let file = AccountsFile::for_accounts(&accts, &["us-east-1"]);
    let sts = Service::Sts.endpoint();
    let before = aws_mcp_tests::scan::learned_from(&sts);
    let (b, log) = logged("aws-sts-mcp", "sts-localstack");
    let b = b
        .args(&["--region", "us-east-1", "--accounts", &file.arg()])
        .emulators(&[Service::Sts]);
    let mut run = Run::start("aws-sts-mcp", b, log).await;
    let out = run.ok("assume_role", json!({"account": "prod"})).await;
    assert!(out.contains(&accts[0].id), "{out}");
    run.ok("whoami", json!({"account": "prod"})).await;
    run.finish().await;
    assert!(
        aws_mcp_tests::scan::learned_from(&sts) >= before + 2,
        "the session's secret key and token were learned"
    );
}
