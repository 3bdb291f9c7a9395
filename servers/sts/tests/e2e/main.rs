//! `aws-sts-mcp` end to end: the real binary over stdio, assuming roles through LocalStack's STS
//! (which maps an assumed role's credentials to the role's account), listing with the real SDK
//! against LocalStack and moto; the rig's fake endpoint plays STS where a fault or a count is
//! needed (a denied or hanging AssumeRole, short sessions, calls no emulator has).
//!
//! | module | proves |
//! |---|---|
//! | `isolation` | 3 accounts × 2 regions: each account's own resources and none of another's; identities; sessions listed |
//! | `faults` | unreachable, denied (wrong external id), hanging and expired accounts are error entries naming them while the rest succeed within the deadline; a region not enabled for an account; a listing capped at its page limit; ignore-listed codes (per call and `--ignore-error-codes`); unknown aliases and regions refused |
//! | `sessions` | one AssumeRole per account across many calls, renewed before expiry; the read-only session policy on every AssumeRole; no secret or token in any output or log line |
//! | `organizations` | accounts discovered through moto's Organizations, the suspended one skipped and reported; discovered accounts used as `account` (alias, id, name) by whoami, assume_role and inventory, the suspended one refused; an organization that cannot be listed is one entry, not a failure |
//! | `lookups` | get_access_key_info and decode_authorization_message on the wire (fake STS: no emulator has them) |
//! | `bench` | inventory over 50 accounts: complete, every resource once across pages, one AssumeRole per account (timings: the bench binary) |
//! | `contract`, `cli` | the checks every server shares |

mod bench;
mod cli;
mod contract;
mod faults;
mod isolation;
mod lookups;
mod organizations;
mod sessions;

use std::time::Duration;

use aws_mcp_tests::{
    Mcp, McpBuilder, Service,
    emulators::NOWHERE,
    fake::{Fake, Reply, Request},
    fixtures::accounts::AccountsFile,
};
use serde_json::Value;

pub const BIN: &str = "aws-sts-mcp";

/// The services inventory lists, at their emulators; Bedrock's control plane goes nowhere unless a
/// test says otherwise (moto's answers 404 to the Rust SDK's ListKnowledgeBases path).
pub fn server(file: &AccountsFile, args: &[&str]) -> McpBuilder {
    Mcp::builder(BIN)
        .args(&["--accounts", &file.arg()])
        .args(args)
        .emulators(&[
            Service::Sts,
            Service::S3,
            Service::Lambda,
            Service::Logs,
            Service::DynamoDb,
        ])
        .endpoint(Service::BedrockAgent, NOWHERE)
}

/// Like [`server`], with STS at `fake` instead of LocalStack.
pub fn server_with_sts(file: &AccountsFile, args: &[&str], fake: &Fake) -> McpBuilder {
    Mcp::builder(BIN)
        .args(&["--accounts", &file.arg()])
        .args(args)
        .emulators(&[Service::S3, Service::Lambda, Service::Logs, Service::DynamoDb])
        .endpoint(Service::Sts, &fake.url())
        .endpoint(Service::BedrockAgent, NOWHERE)
}

pub use aws_mcp_tests::fixtures::accounts::role_account;

/// The secret key and session token the fake STS issues for `account`: recognisable, so a scan can
/// prove neither leaves the server.
pub fn fake_secret(account: &str) -> String {
    format!("FakeSecretKey{account}SECRETMARK")
}
pub fn fake_token(account: &str) -> String {
    format!("FakeSessionToken{account}TOKENMARK")
}

/// An AssumeRole answer as STS gives it, for a session of `lifetime`, with this suite's
/// recognisable secret key and token.
pub fn assume_role_reply(req: &Request, lifetime: Duration) -> Reply {
    let account = role_account(req);
    aws_mcp_tests::fixtures::accounts::assume_role_reply(req, lifetime, &fake_secret(&account), &fake_token(&account))
}

/// GetCallerIdentity as STS answers it, for whichever access key id signed the request.
pub fn caller_identity_reply(req: &Request) -> Reply {
    let akid = req
        .header("authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .unwrap_or_default()
        .to_owned();
    let account = if akid.len() == 12 && akid.chars().all(|c| c.is_ascii_digit()) {
        akid.clone()
    } else {
        "000000000000".to_owned()
    };
    Reply::query_result(
        "GetCallerIdentity",
        format!(
            "<Arn>arn:aws:sts::{account}:assumed-role/McpReadOnly/aws-mcp</Arn>\
             <UserId>AROAFAKE:aws-mcp</UserId><Account>{account}</Account>"
        ),
    )
}

/// The `(account, region, type, name)` of every resource in an inventory result.
pub fn resources(v: &Value) -> Vec<(String, String, String, String)> {
    v["resources"]
        .as_array()
        .unwrap_or_else(|| panic!("no resources in {v}"))
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("account"), s("region"), s("type"), s("name"))
        })
        .collect()
}

/// The error entries of an inventory result.
pub fn errors(v: &Value) -> Vec<Value> {
    v["errors"].as_array().cloned().unwrap_or_default()
}
