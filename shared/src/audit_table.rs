//! `--audit-table NAME`: one DynamoDB item per tool call, beside the audit line on stderr.
//!
//! The item says who called what and how it went (caller, time, server, tool, account, outcome,
//! error kind and code, AWS request ids, duration) and never carries argument values. It is
//! written with the server's own credentials and region (never an account's role), so the table
//! lives in the server's account; `AWS_ENDPOINT_URL_DYNAMODB` (or the global endpoint settings)
//! redirects it like any DynamoDB call.
//!
//! Writing never slows a call: records go to a bounded queue drained by a background writer with
//! a few `PutItem`s in flight. A full queue or a failed write is logged to stderr (target
//! `audit_table`) with running counters, and the call goes on. Two exceptions:
//! - `--audit-required`: before the tool runs, a `started` item is written and awaited; if it
//!   cannot be written the call fails with kind `audit_unavailable` and does nothing, so no call
//!   has an unaudited side effect. The outcome then replaces that item (same `call_id`).
//! - On Lambda the function is frozen once it answers, so background work would wait for the next
//!   request (or be lost): there the outcome record is written before the call returns.
//!
//! The table needs a string partition key `call_id` (and nothing else); see deploy/README.md for
//! the `create-table` command and useful indexes.

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use aws_sdk_dynamodb::{Client, types::AttributeValue};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Value, json};

use crate::{Op, Target, ToolError, audit::Caller, aws::ConfigError, config::CommonArgs};

/// Records waiting to be written; beyond this a record is dropped (and counted), never waited for.
const QUEUE: usize = 1024;
/// `PutItem`s in flight at once from the background writer.
const IN_FLIGHT: usize = 8;
/// The longest one audit write may take, retries included: a required record holds its call up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// One attempt's limit, so a stalled connection is retried within [`WRITE_TIMEOUT`].
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

const PUT_ITEM: Op = Op::new("dynamodb", "PutItem", "dynamodb:PutItem");

/// The error kind of a call refused because its audit record could not be written.
pub const AUDIT_UNAVAILABLE: &str = "audit_unavailable";

/// The audit table of a server started with `--audit-table`.
pub struct AuditTable {
    writer: Writer,
    required: bool,
    /// Started on first use, inside the runtime.
    queue: OnceLock<tokio::sync::mpsc::Sender<Record>>,
    /// Write each record before the call returns (Lambda).
    inline: bool,
}

impl std::fmt::Debug for AuditTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditTable")
            .field("table", &self.writer.table)
            .field("required", &self.required)
            .field("endpoint", &self.writer.target.endpoint)
            .finish_non_exhaustive()
    }
}

/// Counters reported with every warning, so a log reader sees how many records are missing.
#[derive(Debug, Default)]
struct Stats {
    written: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    /// Queued or being written (for [`AuditTable::flush`]).
    pending: AtomicUsize,
}

/// What one item says. Built from the dispatch's own data, never from the arguments.
#[derive(Clone, Debug)]
pub struct Record {
    pub call_id: String,
    /// When the call started, in epoch milliseconds.
    pub started_ms: i64,
    pub server: &'static str,
    pub version: &'static str,
    pub tool: String,
    pub caller: Option<Caller>,
    /// `alias (id)` of the account the call chose.
    pub account: Option<String>,
    /// `started`, `ok`, `error` (a tool error: see `error_kind`) or `rejected` (a protocol error).
    pub outcome: String,
    pub error_kind: Option<String>,
    pub error_code: Option<String>,
    pub request_ids: Vec<String>,
    pub duration_ms: Option<f64>,
}

impl Record {
    /// A call's record before it runs (`outcome: started`), with a fresh `call_id`.
    pub fn start(server: &'static str, version: &'static str, tool: &str, caller: Option<Caller>) -> Self {
        let started_ms = crate::time::now_ms();
        // Time first so ids sort by time; 64 random bits make them unique across instances.
        let call_id = format!("{}-{:016x}", crate::time::rfc3339_ms(started_ms), rand::random::<u64>());
        Self {
            call_id,
            started_ms,
            server,
            version,
            tool: tool.to_owned(),
            caller,
            account: None,
            outcome: "started".into(),
            error_kind: None,
            error_code: None,
            request_ids: Vec::new(),
            duration_ms: None,
        }
    }

    /// The same record with the call's outcome: the audit line's `outcome` (`ok`, `rejected`, or
    /// the error kind) split into `outcome` and `error_kind`.
    pub fn finish(mut self, call: &crate::audit::ToolCall<'_>) -> Self {
        self.account = call.account.map(str::to_owned);
        (self.outcome, self.error_kind) = match call.outcome {
            "ok" => ("ok".into(), None),
            "rejected" => ("rejected".into(), None),
            kind => ("error".into(), Some(kind.to_owned())),
        };
        self.error_code = call.error_code.map(str::to_owned);
        self.request_ids = call.request_ids.to_vec();
        self.duration_ms = Some(call.elapsed.as_secs_f64() * 1000.0);
        self
    }

    fn item(&self) -> std::collections::HashMap<String, AttributeValue> {
        let s = |v: &str| AttributeValue::S(v.to_owned());
        let mut item = std::collections::HashMap::from([
            ("call_id".to_owned(), s(&self.call_id)),
            ("time".to_owned(), s(&crate::time::rfc3339_ms(self.started_ms))),
            ("epoch_ms".to_owned(), AttributeValue::N(self.started_ms.to_string())),
            ("server".to_owned(), s(self.server)),
            ("server_version".to_owned(), s(self.version)),
            ("tool".to_owned(), s(&self.tool)),
            ("outcome".to_owned(), s(&self.outcome)),
            (
                "request_ids".to_owned(),
                AttributeValue::L(self.request_ids.iter().map(|id| s(id)).collect()),
            ),
        ]);
        let mut opt = |k: &str, v: Option<&str>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                item.insert(k.to_owned(), s(v));
            }
        };
        opt("caller_kind", self.caller.as_ref().map(|c| c.kind));
        opt("caller", self.caller.as_ref().map(|c| c.principal.as_str()));
        opt("client_id", self.caller.as_ref().and_then(|c| c.client_id.as_deref()));
        opt("account", self.account.as_deref());
        opt("error_kind", self.error_kind.as_deref());
        opt("error_code", self.error_code.as_deref());
        if let Some(ms) = self.duration_ms {
            // Whole microseconds: a short, exact decimal.
            item.insert("duration_ms".into(), AttributeValue::N(format!("{ms:.3}")));
        }
        item
    }
}

impl AuditTable {
    /// The table of `--audit-table`, if given, with a client on the server's own credentials.
    pub fn from_args(args: &CommonArgs, sdk: &aws_types::SdkConfig) -> Result<Option<Arc<Self>>, ConfigError> {
        let Some(table) = args.audit_table.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
            if args.audit_required {
                return Err(ConfigError::Flag {
                    flag: "--audit-required",
                    message: "it needs --audit-table (MCP_AUDIT_TABLE): the table the records go to".into(),
                });
            }
            return Ok(None);
        };
        check_table(table).map_err(|message| ConfigError::Flag {
            flag: "--audit-table",
            message,
        })?;
        let mut conf = aws_sdk_dynamodb::config::Builder::from(sdk).timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(args.connect_timeout_ms.min(2_000)))
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(WRITE_TIMEOUT)
                .build(),
        );
        // The per-service variable wins over --endpoint-url, as the README promises for every service.
        if let Some(url) = crate::aws::endpoint_override(sdk, "DYNAMODB") {
            conf = conf.endpoint_url(url);
        }
        Ok(Some(Arc::new(Self {
            writer: Writer {
                table: table.to_owned(),
                client: Client::from_conf(conf.build()),
                target: Target::new(sdk, "DYNAMODB", "dynamodb", None),
                stats: Arc::default(),
            },
            required: args.audit_required,
            queue: OnceLock::new(),
            inline: std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some(),
        })))
    }

    /// Whether a call must not run unless its `started` record was written.
    pub fn required(&self) -> bool {
        self.required
    }

    /// The IAM statement the server's role needs: `dynamodb:PutItem` on exactly this table (the
    /// table's ARN when given one; else in the server's region, any account, since the server
    /// cannot know its account without a call).
    pub fn policy_statement(&self, sdk: &aws_types::SdkConfig) -> Value {
        let table = &self.writer.table;
        let resource = if table.starts_with("arn:") {
            table.clone()
        } else {
            let region = sdk.region().map_or("*".to_owned(), |r| r.to_string());
            format!("arn:{}:dynamodb:{region}:*:table/{table}", partition(&region))
        };
        json!({"Sid": "AuditTable", "Effect": "Allow", "Action": [PUT_ITEM.iam_action], "Resource": resource})
    }

    /// `--audit-required`: write the call's `started` record and wait for it. `Err` is the tool
    /// error the call answers instead of running.
    pub async fn before(&self, record: &Record) -> Result<(), CallToolResult> {
        match self.writer.put(record).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.writer
                    .warn(&record.tool, "the required record before the call", &e);
                Err(self.refusal(&e))
            }
        }
    }

    /// The call's outcome record: queued for the background writer (on Lambda, written now).
    pub async fn after(&self, record: Record) {
        if self.inline {
            if let Err(e) = self.writer.put(&record).await {
                self.writer.warn(&record.tool, "the outcome record", &e);
            }
            return;
        }
        let queue = self.queue.get_or_init(|| self.start_writer());
        let stats = &self.writer.stats;
        stats.pending.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = queue.try_send(record) {
            stats.pending.fetch_sub(1, Ordering::SeqCst);
            let dropped = stats.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            let (why, tool) = match &e {
                tokio::sync::mpsc::error::TrySendError::Full(r) => {
                    (format!("the queue is full ({QUEUE} records waiting)"), r.tool.as_str())
                }
                tokio::sync::mpsc::error::TrySendError::Closed(r) => {
                    ("the writer has stopped".to_owned(), r.tool.as_str())
                }
            };
            tracing::warn!(
                target: "audit_table",
                table = %self.writer.table,
                tool,
                dropped_total = dropped,
                failed_total = stats.failed.load(Ordering::Relaxed),
                "audit record dropped: {why}"
            );
        }
    }

    /// Wait (at most `limit`) until every queued record has been written or has failed: for a
    /// server about to exit.
    pub async fn flush(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.writer.stats.pending.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn start_writer(&self) -> tokio::sync::mpsc::Sender<Record> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Record>(QUEUE);
        let writer = self.writer.clone();
        let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        tokio::spawn(async move {
            while let Some(record) = rx.recv().await {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    break;
                };
                let writer = writer.clone();
                tokio::spawn(async move {
                    if let Err(e) = writer.put(&record).await {
                        writer.warn(&record.tool, "the outcome record", &e);
                    }
                    writer.stats.pending.fetch_sub(1, Ordering::SeqCst);
                    drop(slot);
                });
            }
        });
        tx
    }

    /// The tool error of a call that did not run because its record could not be written.
    fn refusal(&self, cause: &ToolError) -> CallToolResult {
        let summary = format!(
            "this call was not run: its audit record could not be written to the DynamoDB table `{}` ({cause}). \
             The server requires an audit record before every call (--audit-required); nothing was done",
            self.writer.table
        );
        let mut error = json!({
            "kind": AUDIT_UNAVAILABLE,
            "summary": summary.clone(),
            "table": self.writer.table,
            "retryable": true,
            "hint": "ask the operator to check the audit table (it must exist in the server's region with a string \
                     partition key `call_id`, and the server's role needs dynamodb:PutItem on it)",
            "cause": cause.to_json()["error"],
        });
        if let Some(code) = cause.code() {
            error["code"] = json!(code);
        }
        let mut result = CallToolResult::error(vec![ContentBlock::text(summary)]);
        result.structured_content = Some(json!({ "error": error }));
        result
    }
}

/// What the background tasks need (cheap clones).
#[derive(Clone)]
struct Writer {
    table: String,
    client: Client,
    target: Target,
    stats: Arc<Stats>,
}

impl Writer {
    async fn put(&self, record: &Record) -> Result<(), ToolError> {
        // Not through `aws::call`: this request id belongs to the audit, not to the tool's result.
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(record.item()))
            .send()
            .await;
        match sent {
            Ok(_) => {
                self.stats.written.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                Err(ToolError::from_sdk(PUT_ITEM, &self.target, e))
            }
        }
    }

    fn warn(&self, tool: &str, what: &str, e: &ToolError) {
        tracing::warn!(
            target: "audit_table",
            table = %self.table,
            tool,
            written_total = self.stats.written.load(Ordering::Relaxed),
            failed_total = self.stats.failed.load(Ordering::Relaxed),
            dropped_total = self.stats.dropped.load(Ordering::Relaxed),
            "audit record not written ({what}): {e}"
        );
    }
}

/// A table name DynamoDB accepts (3–255 of `A-Za-z0-9_.-`), or a table ARN.
fn check_table(table: &str) -> Result<(), String> {
    let name = match table.strip_prefix("arn:") {
        Some(rest) => {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            match parts.as_slice() {
                [_partition, "dynamodb", _region, _account, resource] => resource
                    .strip_prefix("table/")
                    .filter(|n| !n.contains('/'))
                    .ok_or_else(|| format!("`{table}` is not a DynamoDB table ARN (…:table/NAME)"))?,
                _ => {
                    return Err(format!(
                        "`{table}` is not a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)"
                    ));
                }
            }
        }
        None => table,
    };
    let valid = (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a DynamoDB table name (3 to 255 letters, digits, `_`, `.` or `-`)"
        ))
    }
}

/// The ARN partition of a region.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("eusc-") {
        "aws-eusc"
    } else {
        "aws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_and_arns_are_checked() {
        assert!(check_table("mcp-audit").is_ok());
        assert!(check_table("a.b_c-1").is_ok());
        assert!(check_table("arn:aws:dynamodb:us-east-1:111111111111:table/mcp-audit").is_ok());
        for bad in [
            "ab",
            "has space",
            "x/y",
            "arn:aws:s3:::bucket",
            "arn:aws:dynamodb:us-east-1:1:table/a/b",
        ] {
            assert!(check_table(bad).is_err(), "{bad}");
        }
        assert!(check_table(&"t".repeat(256)).is_err());
    }

    #[test]
    fn items_carry_the_outcome_and_never_more_than_the_record() {
        let caller = Caller {
            kind: "jwt",
            principal: "user-1".into(),
            client_id: Some("app".into()),
        };
        let start = Record::start("aws-s3-mcp", "1.0.0", "get_object", Some(caller));
        assert_eq!(start.item()["outcome"], AttributeValue::S("started".into()));
        let ids = vec!["req-1".to_owned()];
        let done = start.clone().finish(&crate::audit::ToolCall {
            server: "aws-s3-mcp",
            tool: "get_object",
            caller: None,
            account: Some("prod (111111111111)"),
            elapsed: Duration::from_micros(1500),
            outcome: "aws",
            error_code: Some("NoSuchKey"),
            request_ids: &ids,
        });
        let item = done.item();
        assert_eq!(item["call_id"], AttributeValue::S(start.call_id.clone()));
        assert_eq!(item["outcome"], AttributeValue::S("error".into()));
        assert_eq!(item["error_kind"], AttributeValue::S("aws".into()));
        assert_eq!(item["error_code"], AttributeValue::S("NoSuchKey".into()));
        assert_eq!(item["caller"], AttributeValue::S("user-1".into()));
        assert_eq!(item["client_id"], AttributeValue::S("app".into()));
        assert_eq!(item["duration_ms"], AttributeValue::N("1.500".into()));
        assert_eq!(
            item["request_ids"],
            AttributeValue::L(vec![AttributeValue::S("req-1".into())])
        );
        let mut keys: Vec<&str> = item.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "account",
                "call_id",
                "caller",
                "caller_kind",
                "client_id",
                "duration_ms",
                "epoch_ms",
                "error_code",
                "error_kind",
                "outcome",
                "request_ids",
                "server",
                "server_version",
                "time",
                "tool"
            ]
        );
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }
}
