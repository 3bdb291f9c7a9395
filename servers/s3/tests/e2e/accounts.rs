//! Accounts and regions on every tool (shared layer): S3 in three LocalStack accounts through the
//! accounts file. LocalStack maps the credentials of an assumed role to the role's account, so
//! each account really sees only its own buckets.

use aws_mcp_tests::{
    Mcp, Service,
    fixtures::accounts::{self, AccountsFile, TestAccount},
    region, unique,
};
use serde_json::{Value, json};

use crate::BIN;

fn names(buckets: &[Value]) -> Vec<String> {
    buckets
        .iter()
        .filter_map(|b| b["name"].as_str().map(str::to_owned))
        .collect()
}

/// One fresh bucket per account, with `objects` objects each.
async fn buckets_in(accts: &[TestAccount], objects: usize) -> Vec<String> {
    let mut out = Vec::new();
    for a in accts {
        let b = unique("acct");
        accounts::bucket_in(&a.id, &region(), &b).await;
        let s3 = accounts::s3_as(&a.id, &region()).await;
        for i in 0..objects {
            s3.put_object()
                .bucket(&b)
                .key(format!("k{i}"))
                .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
                .send()
                .await
                .expect("put");
        }
        out.push(b);
    }
    out
}

#[tokio::test]
async fn each_account_sees_only_its_own_buckets_and_cursors_do_not_cross() {
    let accts = accounts::accounts(&["prod", "dev", "test"]);
    let buckets = buckets_in(&accts, 3).await;
    let file = AccountsFile::for_accounts(&accts, &[&region()]);
    let log = std::env::temp_dir().join(format!("{}.log", unique("accounts-audit")));
    let mcp = Mcp::builder(BIN)
        .emulators(&[Service::S3, Service::Sts])
        .args(&["--accounts", &file.arg()])
        .log_to(&log)
        .start()
        .await;

    // `account` is offered with exactly the file's aliases.
    let tools = mcp.tools().await;
    for t in &tools {
        let p = &t.input_schema["properties"]["account"];
        assert_eq!(p["enum"], json!(["dev", "prod", "test"]), "{}: {p}", t.name);
    }

    for (a, b) in accts.iter().zip(&buckets) {
        let seen = names(&mcp.pages("list_buckets", json!({"account": a.alias}), "buckets").await);
        assert!(seen.contains(b), "{}: {seen:?}", a.alias);
        for other in buckets.iter().filter(|o| *o != b) {
            assert!(!seen.contains(other), "{} sees {other}", a.alias);
        }
        let keys = mcp
            .pages(
                "list_objects",
                json!({"account": a.alias, "bucket": b, "page_size": 1}),
                "objects",
            )
            .await;
        assert_eq!(keys.len(), 3, "{}", a.alias);
    }
    // Without `account`, the server's own credentials: none of the accounts' buckets.
    let own = names(&mcp.pages("list_buckets", json!({}), "buckets").await);
    assert!(buckets.iter().all(|b| !own.contains(b)), "{own:?}");

    // A cursor issued in one account is refused in another, and for the server's own account.
    let first = mcp
        .ok(
            "list_objects",
            json!({"account": "prod", "bucket": buckets[0], "page_size": 1}),
        )
        .await;
    let cursor = first["next_cursor"].as_str().expect("a second page").to_owned();
    for account in [json!("dev"), Value::Null] {
        let mut args = json!({"bucket": buckets[0], "page_size": 1, "cursor": cursor});
        if !account.is_null() {
            args["account"] = account.clone();
        }
        let e = mcp.err("list_objects", args).await;
        assert_eq!(e["kind"], "invalid_cursor", "{account}: {e}");
    }
    let again = mcp
        .ok(
            "list_objects",
            json!({"account": "prod", "bucket": buckets[0], "page_size": 1, "cursor": cursor}),
        )
        .await;
    assert_eq!(again["objects"][0]["key"], "k1");

    // A cache entry never crosses accounts: prod's bucket info is cached, dev asking for the same
    // name does not get it.
    mcp.ok("get_bucket_info", json!({"account": "prod", "bucket": buckets[0]}))
        .await;
    let cached = mcp
        .ok("get_bucket_info", json!({"account": "prod", "bucket": buckets[0]}))
        .await;
    assert_eq!(cached["from_cache"], true);
    let r = mcp
        .call("get_bucket_info", json!({"account": "dev", "bucket": buckets[0]}))
        .await;
    let v = r.structured_content.clone().unwrap_or_default();
    assert!(v.get("from_cache").is_none(), "dev got prod's cached entry: {v}");

    // Errors name the account (alias and id).
    let e = mcp
        .err("list_objects", json!({"account": "dev", "bucket": unique("missing")}))
        .await;
    let dev = &accts[1];
    assert_eq!(e["account"], format!("dev ({})", dev.id), "{e}");
    assert!(e["summary"].as_str().unwrap().contains(&dev.id), "{e}");

    // The audit line of each call names the account alias and id.
    let audit = std::fs::read_to_string(&log).unwrap();
    let line = audit
        .lines()
        .find(|l| l.contains("tool call") && l.contains("NoSuchBucket"))
        .unwrap_or_else(|| panic!("no audit line for the failed call in {audit}"));
    assert!(line.contains(&format!("dev ({})", dev.id)), "{line}");
    let _ = std::fs::remove_file(&log);
}

/// `--print-iam-policy`: the least privilege for the flags given, from the tools' declared operations.
#[test]
fn the_printed_iam_policy_follows_the_flags() {
    let accts = accounts::accounts(&["prod"]);
    let file = AccountsFile::for_accounts(&accts, &["us-east-1"]);
    let policy = |args: &[&str]| -> Value {
        let out = std::process::Command::new(aws_mcp_tests::server_bin(BIN))
            .arg("--print-iam-policy")
            .args(args)
            .env("AWS_REGION", "us-east-1")
            .output()
            .expect("run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("JSON on stdout")
    };
    let actions = |p: &Value| -> Vec<String> {
        p["Statement"][0]["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect()
    };
    let read = policy(&[]);
    assert!(actions(&read).contains(&"s3:GetObject".to_owned()), "{read}");
    assert!(!actions(&read).contains(&"s3:PutObject".to_owned()), "{read}");
    let writes = policy(&["--allow-writes"]);
    assert!(actions(&writes).contains(&"s3:PutObject".to_owned()), "{writes}");
    let one = policy(&["--tools", "list_buckets"]);
    assert_eq!(actions(&one), ["s3:ListAllMyBuckets", "s3:ListBucket"], "{one}");
    let cross = policy(&["--accounts", &file.arg()]);
    assert_eq!(cross["Statement"][1]["Action"], "sts:AssumeRole", "{cross}");
    assert_eq!(
        cross["Statement"][1]["Resource"],
        json!([accts[0].role_arn()]),
        "{cross}"
    );
}

#[tokio::test]
async fn an_alias_not_in_the_file_and_a_region_outside_the_account_are_refused() {
    let accts = accounts::accounts(&["prod"]);
    let file = AccountsFile::for_accounts(&accts, &[&region()]);
    let mcp = Mcp::builder(BIN)
        .emulators(&[Service::S3, Service::Sts])
        .args(&["--accounts", &file.arg()])
        .start()
        .await;
    let e = mcp.err("list_buckets", json!({"account": "stage"})).await;
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_argument"), Some("account")),
        "{e}"
    );
    assert!(
        e["summary"].as_str().unwrap().contains("prod"),
        "the valid aliases are listed: {e}"
    );
    let other = if region() == "eu-west-1" {
        "us-west-2"
    } else {
        "eu-west-1"
    };
    let e = mcp
        .err("list_buckets", json!({"account": "prod", "region": other}))
        .await;
    assert_eq!(e["field"], "region", "{e}");
    assert!(
        e["summary"].as_str().unwrap().contains(&region()),
        "the allowed regions are listed: {e}"
    );
    let e = mcp.err("list_buckets", json!({"region": "mars-1"})).await;
    assert_eq!(e["field"], "region", "{e}");
    // The account's own region works.
    mcp.ok("list_buckets", json!({"account": "prod", "region": region()}))
        .await;
}

#[tokio::test]
async fn regions_flag_restricts_the_region_argument() {
    let other = if region() == "eu-west-1" {
        "us-west-2"
    } else {
        "eu-west-1"
    };
    let allowed = format!("{},{other}", region());
    let mcp = Mcp::builder(BIN)
        .emulators(&[Service::S3])
        .args(&["--regions", &allowed])
        .start()
        .await;
    let tools = mcp.tools().await;
    let lb = tools.iter().find(|t| t.name == "list_buckets").unwrap();
    assert_eq!(
        lb.input_schema["properties"]["region"]["enum"],
        json!([region(), other])
    );
    assert!(
        lb.input_schema["properties"].get("account").is_none(),
        "no accounts file, no `account`"
    );
    mcp.ok("list_buckets", json!({"region": other})).await;
    let e = mcp.err("list_buckets", json!({"region": "ap-south-2"})).await;
    assert_eq!(e["field"], "region", "{e}");
    let e = mcp.err("list_buckets", json!({"account": "prod"})).await;
    assert_eq!(e["field"], "account", "{e}");
}

#[tokio::test]
async fn one_assume_role_per_account_carrying_the_read_only_session_policy() {
    let accts = accounts::accounts(&["a", "b"]);
    let buckets = buckets_in(&accts, 2).await;
    let file = AccountsFile::for_accounts(&accts, &[&region()]);
    for writes in [false, true] {
        let sts = accounts::fake_sts(std::time::Duration::from_secs(3600)).await;
        let mut args = vec!["--accounts", file.path().to_str().unwrap()];
        if writes {
            args.push("--allow-writes");
        }
        let mcp = Mcp::builder(BIN)
            .emulators(&[Service::S3])
            .endpoint(Service::Sts, &sts.url())
            .args(&args)
            .start()
            .await;
        for _ in 0..4 {
            for (a, b) in accts.iter().zip(&buckets) {
                let seen = names(&mcp.pages("list_buckets", json!({"account": a.alias}), "buckets").await);
                assert!(seen.contains(b), "{}: {seen:?}", a.alias);
                mcp.ok("list_objects", json!({"account": a.alias, "bucket": b})).await;
            }
        }
        let calls = sts.requests_for("AssumeRole");
        assert_eq!(
            calls.len(),
            accts.len(),
            "one AssumeRole per account over many calls (writes: {writes})"
        );
        for call in calls {
            let policy = call.form_field("Policy");
            if writes {
                assert!(policy.is_none(), "no session policy with --allow-writes: {policy:?}");
                continue;
            }
            let policy: Value = serde_json::from_str(policy.expect("a session policy without --allow-writes")).unwrap();
            let actions: Vec<&str> = policy["Statement"][0]["Action"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            for read in ["s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject"] {
                assert!(actions.contains(&read), "{read} missing from {actions:?}");
            }
            for write in ["s3:PutObject", "s3:DeleteObject"] {
                assert!(
                    !actions.contains(&write),
                    "{write} in a read-only session policy: {actions:?}"
                );
            }
        }
    }
}

/// A broken accounts file stops start-up with the line and the field.
#[test]
fn a_bad_accounts_file_stops_start_up_naming_line_and_field() {
    let file = AccountsFile::write("[defaults]\nrole_name = \"R\"\n\n[accounts.prod]\nid = \"12345\"\n");
    let out = std::process::Command::new(aws_mcp_tests::server_bin(BIN))
        .args(["--accounts", &file.arg()])
        .env("AWS_REGION", "us-east-1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 5") && err.contains("`id`"), "{err}");
}
