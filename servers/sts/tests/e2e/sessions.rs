//! Sessions kept in the server: one AssumeRole per account however many calls use it, a new one
//! shortly before the session expires, the read-only session policy on every AssumeRole, and no
//! secret key or session token in any tool output or log line of the whole run.

use std::{collections::BTreeMap, time::Duration};

use aws_mcp_tests::{
    fake::{Fake, Request},
    fixtures::accounts::{AccountsFile, accounts, bucket_in, two_regions},
    text, unique,
};
use serde_json::json;

use crate::{assume_role_reply, caller_identity_reply, fake_secret, fake_token, role_account, server_with_sts};

/// Sessions the fake STS issues last this long; the server renews at half-life for short ones.
const LIFETIME: Duration = Duration::from_secs(24);

/// A distinctive base secret key, to prove it reaches no output either.
const BASE_SECRET: &str = "BaseSecretKeyForTheServerBASEMARK";

fn assumed_per_account(fake: &Fake) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in fake.requests_for("AssumeRole") {
        *m.entry(role_account(&r)).or_default() += 1;
    }
    m
}

#[tokio::test]
async fn one_assume_role_per_account_across_many_calls_renewed_before_expiry_and_no_secret_anywhere() {
    let accts = accounts(&["red", "green", "blue"]);
    let regions = two_regions();
    let file = AccountsFile::for_accounts(&accts, &[&regions[0], &regions[1]]);
    let tag = unique("sess");
    for a in &accts {
        bucket_in(&a.id, &regions[0], &format!("{tag}-{}", a.alias)).await;
    }
    let fake = Fake::start().await;
    fake.on_action("AssumeRole", |req: &Request| assume_role_reply(req, LIFETIME));
    fake.on_action("GetCallerIdentity", caller_identity_reply);
    let log = std::env::temp_dir().join(format!("{}.log", unique("sts-sessions")));
    let mcp = server_with_sts(&file, &[], &fake)
        .env("AWS_SECRET_ACCESS_KEY", BASE_SECRET)
        .log_to(&log)
        .start()
        .await;
    let mut outputs = Vec::new();

    // Many calls through every account: tools that assume, identities, inventories re-read from AWS.
    for a in &accts {
        let r = mcp.call("assume_role", json!({ "account": a.alias })).await;
        assert_ne!(r.is_error, Some(true), "{}", text(&r));
        outputs.push(text(&r));
    }
    for round in 0..3 {
        for a in &accts {
            let r = mcp.call("whoami", json!({ "account": a.alias })).await;
            let v = r.structured_content.clone().unwrap_or_default();
            assert_eq!(v["account"], a.id.as_str(), "{v}");
            outputs.push(text(&r));
        }
        let r = mcp
            .call(
                "inventory",
                json!({ "types": ["s3", "logs"], "name": tag, "refresh": true }),
            )
            .await;
        let v = r.structured_content.clone().unwrap_or_default();
        assert_eq!(v["complete"], true, "round {round}: {v}");
        assert_eq!(v["counts"]["resources"], 3, "round {round}: {v}");
        outputs.push(text(&r));
    }
    let listed = mcp.call("list_accounts", json!({})).await;
    outputs.push(text(&listed));
    let listed = listed.structured_content.unwrap_or_default();
    for row in listed["accounts"].as_array().unwrap() {
        assert_eq!(row["session"]["active"], true, "{row}");
    }
    let counts = assumed_per_account(&fake);
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(
        counts.values().all(|n| *n == 1),
        "one AssumeRole per account: {counts:?}"
    );

    // Every AssumeRole carried the read-only session policy: the listed tools' actions only.
    for req in fake.requests_for("AssumeRole") {
        let policy: serde_json::Value =
            serde_json::from_str(req.form_field("Policy").expect("a session policy")).unwrap();
        let actions = policy["Statement"][0]["Action"].to_string();
        assert!(
            actions.contains("s3:ListAllMyBuckets") && actions.contains("logs:DescribeLogGroups"),
            "{actions}"
        );
        assert!(
            !actions.contains("Put") && !actions.contains("Delete") && !actions.contains('*'),
            "{actions}"
        );
    }

    // Past half its life the session is renewed by the next call, once, for that account only.
    let first_expiry = {
        let v = mcp.ok("assume_role", json!({ "account": "red" })).await;
        v["session"]["expires"].as_str().unwrap().to_owned()
    };
    tokio::time::sleep(LIFETIME / 2 + Duration::from_secs(1)).await;
    let renewed = mcp.call("assume_role", json!({ "account": "red" })).await;
    outputs.push(text(&renewed));
    let renewed = renewed.structured_content.unwrap_or_default();
    assert_eq!(renewed["new_session"], true, "{renewed}");
    assert_ne!(renewed["session"]["expires"], first_expiry.as_str(), "{renewed}");
    let r = mcp.call("whoami", json!({ "account": "red" })).await;
    outputs.push(text(&r));
    let counts = assumed_per_account(&fake);
    assert_eq!(counts[&accts[0].id], 2, "{counts:?}");
    assert_eq!(counts[&accts[1].id], 1, "{counts:?}");

    // No secret key, session token or base secret in any output or log line.
    drop(mcp);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert!(logs.contains("tool call"), "the log file holds the audit lines: {logs}");
    let mut secrets = vec![BASE_SECRET.to_owned()];
    for a in &accts {
        secrets.push(fake_secret(&a.id));
        secrets.push(fake_token(&a.id));
    }
    for s in &secrets {
        for (i, out) in outputs.iter().enumerate() {
            assert!(!out.contains(s.as_str()), "output {i} holds {s}: {out}");
        }
        assert!(!logs.contains(s.as_str()), "a log line holds {s}");
    }
    for marker in ["SECRETMARK", "TOKENMARK", "BASEMARK"] {
        assert!(!logs.contains(marker), "a log line holds {marker}");
    }
}
