//! Accounts that cannot be reached: a role that cannot be assumed, an STS that hangs, a
//! connection that drops, a service endpoint that does not answer. Each is an error entry naming
//! the account while every other result is returned within the deadline.

use std::time::Duration;

use aws_mcp_tests::{
    Mcp, Service,
    emulators::NOWHERE,
    fake::{Fake, Reply, Request},
    fixtures::accounts::{AccountsFile, accounts, bucket_in, text, two_regions},
    unique,
};
use serde_json::{Value, json};

use crate::{BIN, assume_role_reply, caller_identity_reply, errors, resources, role_account, server_with_sts};

/// The external id `denied`'s role trusts (the accounts file gives it another one).
const RIGHT_EXTERNAL_ID: &str = "right-external-id";

/// STS that issues sessions to `ok` accounts, denies `denied` unless it comes with
/// [`RIGHT_EXTERNAL_ID`], hangs for `hung`, drops the connection for `gone`, and answers that the
/// server's own credentials expired for any other.
async fn sts(ok: Vec<String>, denied: String, hung: String, gone: String) -> Fake {
    let fake = Fake::start().await;
    fake.on_action("AssumeRole", move |req: &Request| {
        let account = role_account(req);
        if ok.contains(&account) || (account == denied && req.form_field("ExternalId") == Some(RIGHT_EXTERNAL_ID)) {
            assume_role_reply(req, Duration::from_secs(3600))
        } else if account == denied {
            Reply::error(
                403,
                "AccessDenied",
                &format!(
                    "User: arn:aws:iam::000000000000:user/mcp is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{account}:role/McpReadOnly"
                ),
            )
        } else if account == hung {
            Reply::delay(Duration::from_secs(120), assume_role_reply(req, Duration::from_secs(3600)))
        } else if account == gone {
            Reply::reset()
        } else {
            Reply::error(400, "ExpiredToken", "The security token included in the request is expired")
        }
    });
    fake.on_action("GetCallerIdentity", caller_identity_reply);
    fake
}

fn entries_for<'a>(errs: &'a [Value], alias: &str) -> Vec<&'a Value> {
    errs.iter().filter(|e| e["account"] == alias).collect()
}

#[tokio::test]
async fn failing_accounts_are_error_entries_and_the_rest_succeed_within_the_deadline() {
    let accts = accounts(&["ok1", "ok2", "denied", "hung", "gone", "expired"]);
    let ids: Vec<String> = accts.iter().map(|a| a.id.clone()).collect();
    let fake = sts(ids[..2].to_vec(), ids[2].clone(), ids[3].clone(), ids[4].clone()).await;
    let regions = two_regions();
    // The denied account's role is given the wrong external id.
    let denied_section = format!("[accounts.denied]\nid = \"{}\"\n", ids[2]);
    let file = AccountsFile::write(&text(&accts, &[&regions[0], &regions[1]], &[]).replace(
        &denied_section,
        &format!("{denied_section}external_id = \"wrong-external-id\"\n"),
    ));
    let tag = unique("faults");
    for a in &accts[..2] {
        bucket_in(&a.id, &regions[1], &format!("{tag}-{}", a.alias)).await;
    }
    let mcp = server_with_sts(
        &file,
        &[
            "--item-deadline-ms",
            "2000",
            "--deadline-ms",
            "10000",
            "--max-attempts",
            "2",
        ],
        &fake,
    )
    .start()
    .await;

    // No wall-clock assertion: the entries below say which deadline ended each account (the
    // hanging one a `timeout` at the 2000 ms item deadline, and nothing `skipped` by the 10 s one).
    let inv = mcp
        .ok("inventory", json!({ "types": ["s3", "logs", "bedrock_kb"] }))
        .await;
    assert_eq!(inv["complete"], false, "{inv}");
    let errs = errors(&inv);

    // The denied account: one entry, its alias and id, AWS's code and request id.
    let denied = entries_for(&errs, "denied");
    assert_eq!(denied.len(), 1, "{inv}");
    assert_eq!(denied[0]["account_id"], ids[2].as_str());
    assert_eq!(denied[0]["category"], "access_denied");
    assert_eq!(denied[0]["code"], "AccessDenied");
    let msg = denied[0]["message"].as_str().unwrap();
    assert!(msg.contains("sts:AssumeRole") && msg.contains("FAKE-"), "{msg}");
    // It was the file's external id that STS refused; the other accounts sent none.
    for req in fake.requests_for("AssumeRole") {
        let want = (role_account(&req) == ids[2]).then_some("wrong-external-id");
        assert_eq!(req.form_field("ExternalId"), want, "{}", role_account(&req));
    }

    // The hanging STS: a timeout at the per-item deadline, naming the account.
    let hung = entries_for(&errs, "hung");
    assert_eq!(hung.len(), 1, "{inv}");
    assert_eq!(hung[0]["category"], "timeout", "{inv}");
    assert_eq!(hung[0]["account_id"], ids[3].as_str());
    assert!(hung[0]["message"].as_str().unwrap().contains("2000 ms"), "{inv}");

    // The dropped connection: unreachable, naming the account.
    let gone = entries_for(&errs, "gone");
    assert_eq!(gone.len(), 1, "{inv}");
    assert_eq!(gone[0]["category"], "unreachable", "{inv}");
    assert!(gone[0]["message"].as_str().unwrap().contains(&ids[4]), "{inv}");

    // The unreachable Bedrock endpoint: one entry per healthy account and region.
    for a in ["ok1", "ok2"] {
        let e = entries_for(&errs, a);
        assert_eq!(e.len(), 2, "{inv}");
        assert!(
            e.iter()
                .all(|e| e["type"] == "bedrock_kb" && e["category"] == "unreachable"),
            "{inv}"
        );
    }
    // Expired base credentials: the fix is the same for every account, and the entry says so.
    let expired = entries_for(&errs, "expired");
    assert_eq!(expired.len(), 1, "{inv}");
    assert_eq!(expired[0]["category"], "expired_credentials", "{inv}");
    assert_eq!(expired[0]["code"], "ExpiredToken", "{inv}");
    assert_eq!(errs.len(), 4 + 4, "{inv}");
    assert!(errs.iter().all(|e| e["category"] != "skipped"), "{inv}");
    assert_eq!(inv["counts"]["items"]["skipped"], 0, "{inv}");

    // Everything else came back: both healthy accounts' buckets, and their S3 and Logs items.
    let got: Vec<_> = resources(&inv).into_iter().filter(|r| r.3.starts_with(&tag)).collect();
    assert_eq!(got.len(), 2, "{inv}");
    assert_eq!(inv["counts"]["items"]["ok"], 2 * 2 * 2, "{inv}");
    assert_eq!(inv["counts"]["accounts"]["ok1"]["s3"], 1, "{inv}");

    // Ignore-listed codes are not failures: the denied account is reported as ignored.
    let inv = mcp
        .ok(
            "inventory",
            json!({ "types": ["s3"], "accounts": ["ok1", "denied"], "ignore_error_codes": ["AccessDenied"] }),
        )
        .await;
    assert!(errors(&inv).is_empty(), "{inv}");
    assert_eq!(inv["complete"], true, "{inv}");
    assert_eq!(inv["ignored"], json!(["denied AccessDenied"]), "{inv}");
    assert_eq!(inv["counts"]["items"]["ignored"], 1, "{inv}");

    // A tool naming the denied account fails with AWS's code, naming the account.
    let e = mcp.err("assume_role", json!({ "account": "denied" })).await;
    assert_eq!(e["code"], "AccessDenied", "{e}");
    assert!(e["summary"].as_str().unwrap().contains(&ids[2]), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("trust policy"), "{e}");
}

#[tokio::test]
async fn an_alias_not_in_the_file_is_refused() {
    let accts = accounts(&["only"]);
    let fake = sts(vec![accts[0].id.clone()], String::new(), String::new(), String::new()).await;
    let file = AccountsFile::for_accounts(&accts, &["us-east-1"]);
    let mcp = server_with_sts(&file, &[], &fake).start().await;
    for tool in ["whoami", "assume_role", "inventory"] {
        let e = mcp.err(tool, json!({ "account": "stranger" })).await;
        assert_eq!(e["kind"], "invalid_argument", "{e}");
        assert_eq!(e["field"], "account", "{e}");
        assert!(
            e["summary"].as_str().unwrap().contains("only"),
            "lists the valid aliases: {e}"
        );
    }
    let e = mcp.err("inventory", json!({ "accounts": ["stranger"] })).await;
    assert_eq!(e["field"], "accounts", "{e}");
    let e = mcp.err("inventory", json!({ "regions": ["mars-1"] })).await;
    assert_eq!(e["field"], "regions", "{e}");
    let e = mcp.err("find_resource", json!({ "name": "  " })).await;
    assert_eq!(e["field"], "name", "{e}");
    // Nothing was assumed for any of that.
    assert!(fake.requests_for("AssumeRole").is_empty());
}

#[tokio::test]
async fn an_account_still_assuming_at_the_overall_deadline_is_skipped_and_delays_nobody_else() {
    let accts = accounts(&["fast1", "fast2", "stuck"]);
    let ids: Vec<String> = accts.iter().map(|a| a.id.clone()).collect();
    let fake = sts(ids[..2].to_vec(), String::new(), ids[2].clone(), String::new()).await;
    let regions = two_regions();
    let file = AccountsFile::for_accounts(&accts, &[&regions[0], &regions[1]]);
    let tag = unique("deadline");
    for a in &accts[..2] {
        bucket_in(&a.id, &regions[0], &format!("{tag}-{}", a.alias)).await;
    }
    // The per-item deadline is longer than the whole call's: only the overall one can end it.
    let mcp = server_with_sts(&file, &["--item-deadline-ms", "60000", "--deadline-ms", "3000"], &fake)
        .start()
        .await;
    // The entries say the overall deadline ended the stuck account (`skipped`, 3000 ms).
    let inv = mcp.ok("inventory", json!({ "types": ["s3", "logs"] })).await;
    assert_eq!(inv["complete"], false, "{inv}");
    let errs = errors(&inv);
    assert_eq!(
        errs.len(),
        1,
        "one entry for the stuck account, none for its listings: {inv}"
    );
    assert_eq!(errs[0]["account"], "stuck");
    assert_eq!(errs[0]["account_id"], ids[2].as_str());
    assert_eq!(errs[0]["category"], "skipped");
    assert!(errs[0]["message"].as_str().unwrap().contains("3000 ms"), "{inv}");
    // The other accounts finished: every item of theirs, and their buckets.
    assert_eq!(inv["counts"]["items"]["ok"], 2 * 2 * 2, "{inv}");
    let got: Vec<_> = resources(&inv).into_iter().filter(|r| r.3.starts_with(&tag)).collect();
    assert_eq!(got.len(), 2, "{inv}");
}

/// A region not enabled for an account refuses its credentials as invalid while its other regions
/// work: one entry per account naming the region as probably disabled, every other listing
/// returned; ignore-listed (an SCP denying some regions, say), the same code is no failure.
#[tokio::test]
async fn a_region_not_enabled_for_an_account_is_an_entry_naming_it_and_the_rest_is_returned() {
    let accts = accounts(&["east", "west"]);
    let ids: Vec<String> = accts.iter().map(|a| a.id.clone()).collect();
    let sts = sts(ids.clone(), String::new(), String::new(), String::new()).await;
    let regions = two_regions();
    let file = AccountsFile::for_accounts(&accts, &[&regions[0], &regions[1]]);
    let tag = unique("optin");
    for a in &accts {
        bucket_in(&a.id, &regions[1], &format!("{tag}-{}", a.alias)).await;
    }
    // CloudWatch Logs answers in the second region the way a disabled opt-in region does.
    let logs = Fake::start().await;
    let disabled = regions[1].clone();
    logs.on_target("Logs_20140328.DescribeLogGroups", move |req: &Request| {
        let region = req
            .header("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').nth(2))
            .unwrap_or_default();
        if region == disabled {
            Reply::error(
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        } else {
            Reply::json(json!({ "logGroups": [] }))
        }
    });
    let mcp = Mcp::builder(BIN)
        .args(&["--accounts", &file.arg()])
        .emulators(&[Service::S3])
        .endpoint(Service::Sts, &sts.url())
        .endpoint(Service::Logs, &logs.url())
        .endpoint(Service::BedrockAgent, NOWHERE)
        .start()
        .await;

    let inv = mcp.ok("inventory", json!({ "types": ["s3", "logs"] })).await;
    assert_eq!(inv["complete"], false, "{inv}");
    let errs = errors(&inv);
    assert_eq!(errs.len(), 2, "one entry per account: {inv}");
    for (a, id) in accts.iter().zip(&ids) {
        let e = entries_for(&errs, &a.alias);
        assert_eq!(e.len(), 1, "{inv}");
        assert_eq!(e[0]["account_id"], id.as_str(), "{inv}");
        assert_eq!(e[0]["region"], regions[1].as_str(), "{inv}");
        assert_eq!(e[0]["type"], "logs", "{inv}");
        assert_eq!(e[0]["category"], "region_disabled", "{inv}");
        assert_eq!(e[0]["code"], "UnrecognizedClientException", "{inv}");
        let msg = e[0]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(&regions[1]) && msg.contains("not enabled"), "{msg}");
    }
    // Everything else: S3 in both regions and Logs in the first, for both accounts.
    assert_eq!(inv["counts"]["items"]["ok"], 2 * 3, "{inv}");
    let got: Vec<_> = resources(&inv).into_iter().filter(|r| r.3.starts_with(&tag)).collect();
    assert_eq!(got.len(), 2, "{inv}");

    let inv = mcp
        .ok(
            "inventory",
            json!({ "types": ["logs"], "ignore_error_codes": ["UnrecognizedClientException"] }),
        )
        .await;
    assert!(errors(&inv).is_empty(), "{inv}");
    assert_eq!(inv["complete"], true, "{inv}");
    assert_eq!(inv["counts"]["items"]["ignored"], 2, "{inv}");

    // The same from the command line (`--ignore-error-codes`), for every call.
    let flagged = Mcp::builder(BIN)
        .args(&[
            "--accounts",
            &file.arg(),
            "--ignore-error-codes",
            "OptInRequired,UnrecognizedClientException",
        ])
        .emulators(&[Service::S3])
        .endpoint(Service::Sts, &sts.url())
        .endpoint(Service::Logs, &logs.url())
        .endpoint(Service::BedrockAgent, NOWHERE)
        .start()
        .await;
    let inv = flagged.ok("inventory", json!({ "types": ["s3", "logs"] })).await;
    assert!(errors(&inv).is_empty(), "{inv}");
    assert_eq!(inv["complete"], true, "{inv}");
    assert_eq!(inv["counts"]["items"]["ignored"], 2, "{inv}");
    let ignored: Vec<String> = accts
        .iter()
        .map(|a| format!("{} {} logs UnrecognizedClientException", a.alias, regions[1]))
        .collect();
    assert_eq!(inv["ignored"], json!(ignored), "{inv}");

    // A region outside the account's own is refused before any call, naming the allowed ones.
    let e = mcp
        .err("whoami", json!({ "account": "east", "region": "ap-east-1" }))
        .await;
    assert_eq!(e["field"], "region", "{e}");
    assert!(e["summary"].as_str().unwrap_or_default().contains(&regions[0]), "{e}");
}

/// A listing longer than the pages one item may read stops there: its resources so far are
/// returned, the item is named in `capped`, and the result says it is not complete.
#[tokio::test]
async fn a_listing_past_its_page_cap_is_named_and_the_result_incomplete() {
    let accts = accounts(&["endless"]);
    let sts = sts(vec![accts[0].id.clone()], String::new(), String::new(), String::new()).await;
    let r = aws_mcp_tests::region();
    let file = AccountsFile::for_accounts(&accts, &[&r]);
    // Every page names one group and promises another.
    let logs = Fake::start().await;
    logs.on_target("Logs_20140328.DescribeLogGroups", |req: &Request| {
        let n: u32 = req.json()["nextToken"]
            .as_str()
            .and_then(|t| t.strip_prefix('t'))
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        Reply::json(json!({ "logGroups": [{ "logGroupName": format!("/endless/{n:03}") }], "nextToken": format!("t{}", n + 1) }))
    });
    let mcp = Mcp::builder(BIN)
        .args(&["--accounts", &file.arg()])
        .emulators(&[Service::S3])
        .endpoint(Service::Sts, &sts.url())
        .endpoint(Service::Logs, &logs.url())
        .endpoint(Service::BedrockAgent, NOWHERE)
        .start()
        .await;
    let inv = mcp
        .ok("inventory", json!({ "types": ["logs"], "page_size": 1000 }))
        .await;
    assert_eq!(inv["complete"], false, "{inv}");
    assert_eq!(inv["capped"], json!([format!("endless {r} logs")]), "{inv}");
    assert!(errors(&inv).is_empty(), "a cap is not a failure: {inv}");
    let names: Vec<String> = resources(&inv).into_iter().map(|r| r.3).collect();
    let pages = logs.requests_for("DescribeLogGroups").len();
    assert_eq!(names.len(), pages, "one group per page read: {inv}");
    assert!(pages > 1 && pages < 1000, "the listing stopped after {pages} pages");
    assert_eq!(inv["counts"]["accounts"]["endless"]["logs"], pages, "{inv}");
}
