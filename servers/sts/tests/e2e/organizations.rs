//! Accounts discovered through AWS Organizations (moto's server implements it), reached through
//! the accounts file's default role in LocalStack, and usable wherever `account` is (by alias, id
//! or organization name); suspended accounts are skipped, reported, and refused by name; an
//! organization that cannot be listed is one entry among the file's accounts' results.

use aws_mcp_tests::{
    Mcp, Service,
    emulators::NOWHERE,
    fixtures::accounts::{AccountsFile, TestAccount, accounts, bucket_in, text},
    region, sdk_config, unique,
};
use serde_json::json;

use crate::{BIN, resources};

/// Two new accounts of moto's organization (made if need be), named `{prefix}-active` and
/// `{prefix}-closed`, the second closed (SUSPENDED): their ids and names.
async fn active_and_suspended(prefix: &str) -> ([String; 2], [String; 2]) {
    let org = aws_sdk_organizations::Client::new(&sdk_config(Service::Organizations).await);
    if let Err(e) = org
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
    {
        // Another test (or an earlier run) made it already.
        assert!(
            e.as_service_error()
                .is_some_and(|e| e.is_already_in_organization_exception()),
            "{e:?}"
        );
    }
    let names = [unique(&format!("{prefix}-active")), unique(&format!("{prefix}-closed"))];
    let mut ids = Vec::new();
    for name in &names {
        let out = org
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("create account {name}: {e:?}"));
        let id = out
            .create_account_status()
            .and_then(|s| s.account_id())
            .expect("moto answers with the new account's id")
            .to_owned();
        ids.push(id);
    }
    org.close_account()
        .account_id(&ids[1])
        .send()
        .await
        .expect("close account");
    ([ids[0].clone(), ids[1].clone()], names)
}

/// The server with an accounts file of one account (`home`) and `--organization`.
async fn org_server(file: &AccountsFile) -> Mcp {
    Mcp::builder(BIN)
        .args(&["--accounts", &file.arg(), "--organization"])
        .emulators(&[
            Service::Sts,
            Service::S3,
            Service::Lambda,
            Service::Logs,
            Service::DynamoDb,
            Service::Organizations,
        ])
        .endpoint(Service::BedrockAgent, NOWHERE)
        .start()
        .await
}

#[tokio::test]
async fn organization_accounts_are_discovered_and_suspended_ones_skipped() {
    let (ids, names) = active_and_suspended("org").await;
    let r = region();
    let bucket = unique("org-bucket");
    bucket_in(&ids[0], &r, &bucket).await;

    let home = accounts(&["home"]);
    let file = AccountsFile::write(&text(&home, &[&r], &[]));
    let mcp = org_server(&file).await;

    let listed = mcp
        .ok("list_accounts", json!({ "page_size": 1000, "refresh": true }))
        .await;
    let rows = listed["accounts"].as_array().unwrap();
    let active = rows
        .iter()
        .find(|a| a["id"] == ids[0].as_str())
        .unwrap_or_else(|| panic!("{} not discovered: {listed}", ids[0]));
    assert_eq!(active["source"], "organization");
    assert_eq!(active["name"], names[0].as_str());
    assert_eq!(active["role_arn"], format!("arn:aws:iam::{}:role/McpReadOnly", ids[0]));
    assert!(
        rows.iter().all(|a| a["id"] != ids[1].as_str()),
        "the closed account is not used: {listed}"
    );
    assert!(
        rows.iter().any(|a| a["alias"] == "home" && a["source"] == "file"),
        "{listed}"
    );
    let skipped = listed["organization"]["skipped"].as_array().unwrap();
    let closed = skipped
        .iter()
        .find(|s| s["id"] == ids[1].as_str())
        .unwrap_or_else(|| panic!("the closed account is not reported: {listed}"));
    assert_eq!(closed["state"], "SUSPENDED");
    assert_eq!(closed["name"], names[1].as_str());

    // The discovered account is inventoried through the default role, in its own account.
    let alias = active["alias"].as_str().unwrap();
    let inv = mcp
        .ok("inventory", json!({ "accounts": [alias], "types": ["s3"] }))
        .await;
    assert_eq!(inv["complete"], true, "{inv}");
    let got: Vec<_> = resources(&inv).into_iter().map(|r| (r.0, r.3)).collect();
    assert_eq!(got, vec![(alias.to_owned(), bucket.clone())], "{inv}");
    // The discovery is cached: a second listing reads no Organizations page.
    let again = mcp.ok("list_accounts", json!({ "page_size": 1000 })).await;
    assert_eq!(again["organization"]["cached"], true, "{again}");
}

/// A discovered account is usable wherever `account` is: named by its alias, its id or its
/// organization name, in whoami, assume_role and inventory, through the default role in its own
/// account. A suspended one, and a name nobody has, are refused saying which and why.
#[tokio::test]
async fn organization_accounts_are_usable_as_account_and_suspended_ones_are_refused() {
    let (ids, names) = active_and_suspended("use").await;
    let r = region();
    let bucket = unique("org-use");
    bucket_in(&ids[0], &r, &bucket).await;
    // The file names one account of its own and one the organization also has.
    let (also, also_names) = active_and_suspended("file").await;
    let mut home = accounts(&["home"]);
    home.push(TestAccount {
        alias: "mine".into(),
        id: also[0].clone(),
    });
    let file = AccountsFile::write(&text(&home, &[&r], &[]));
    let mcp = org_server(&file).await;

    // `account` takes names the file does not hold: the schema lists no fixed values.
    for t in mcp.tools().await {
        let p = &t.input_schema["properties"]["account"];
        assert!(p.is_object() && p.get("enum").is_none(), "{}: {p}", t.name);
    }
    let listed = mcp.ok("list_accounts", json!({ "page_size": 1000 })).await;
    let alias = listed["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == ids[0].as_str())
        .and_then(|a| a["alias"].as_str())
        .unwrap_or_else(|| panic!("{} not discovered: {listed}", ids[0]))
        .to_owned();

    let role = format!("arn:aws:iam::{}:role/McpReadOnly", ids[0]);
    for name in [alias.as_str(), ids[0].as_str(), names[0].as_str()] {
        let who = mcp.ok("whoami", json!({ "account": name })).await;
        assert_eq!(who["account"], ids[0].as_str(), "{name}: {who}");
        assert_eq!(who["via"], alias.as_str(), "{name}: {who}");
        assert_eq!(who["role_arn"], role.as_str(), "{name}: {who}");
    }
    let assumed = mcp.ok("assume_role", json!({ "account": ids[0] })).await;
    assert_eq!(assumed["account"], alias.as_str(), "{assumed}");
    assert_eq!(assumed["account_id"], ids[0].as_str(), "{assumed}");
    assert!(
        assumed["assumed_arn"]
            .as_str()
            .is_some_and(|a| a.contains(&ids[0]) && a.contains("McpReadOnly")),
        "{assumed}"
    );
    assert!(assumed.get("warning").is_none(), "{assumed}");
    // The session is kept: the listing shows it active, and a second assume_role reuses it.
    assert_eq!(
        mcp.ok("assume_role", json!({ "account": alias })).await["new_session"],
        false
    );
    let listed = mcp.ok("list_accounts", json!({ "page_size": 1000 })).await;
    let row = listed["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == ids[0].as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(row["session"]["active"], true, "{row}");

    // inventory with `account`: the account's own buckets only, under its alias.
    let inv = mcp
        .ok(
            "inventory",
            json!({ "account": names[0], "types": ["s3"], "refresh": true }),
        )
        .await;
    assert_eq!(inv["complete"], true, "{inv}");
    let got: Vec<_> = resources(&inv).into_iter().map(|r| (r.0, r.3)).collect();
    assert_eq!(got, vec![(alias.clone(), bucket.clone())], "{inv}");
    // And through the `accounts` filter, by organization name.
    let inv = mcp
        .ok(
            "find_resource",
            json!({ "name": "org-", "accounts": [names[0]], "types": ["s3"] }),
        )
        .await;
    let got: Vec<_> = resources(&inv).into_iter().map(|r| r.3).collect();
    assert_eq!(got, vec![bucket.clone()], "{inv}");
    // A file account may be named by its id, and by its organization name when it has one.
    let who = mcp.ok("whoami", json!({ "account": also_names[0] })).await;
    assert_eq!(
        (who["via"].as_str(), who["account"].as_str()),
        (Some("mine"), Some(also[0].as_str()))
    );
    let who = mcp.ok("whoami", json!({ "account": home[0].id })).await;
    assert_eq!(
        (who["via"].as_str(), who["account"].as_str()),
        (Some("home"), Some(home[0].id.as_str()))
    );

    // The suspended account, by id or by name: refused, saying it is suspended.
    for name in [ids[1].as_str(), names[1].as_str()] {
        for tool in ["whoami", "assume_role", "inventory"] {
            let e = mcp.err(tool, json!({ "account": name })).await;
            assert_eq!(
                (e["kind"].as_str(), e["field"].as_str()),
                (Some("invalid_argument"), Some("account")),
                "{tool}: {e}"
            );
            let summary = e["summary"].as_str().unwrap_or_default();
            assert!(
                summary.contains(&ids[1]) && summary.contains("SUSPENDED"),
                "{tool}: {e}"
            );
        }
        let e = mcp.err("inventory", json!({ "accounts": [name] })).await;
        assert_eq!(e["field"], "accounts", "{e}");
        assert!(e["summary"].as_str().unwrap_or_default().contains("SUSPENDED"), "{e}");
    }
    // A name neither the file nor the organization has.
    let e = mcp.err("whoami", json!({ "account": "no-such-account" })).await;
    assert_eq!(e["field"], "account", "{e}");
    let summary = e["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("no-such-account") && summary.contains("list_accounts"),
        "{e}"
    );
}

/// An organization that cannot be listed fails nothing else: the inventory is the file's accounts
/// plus one entry saying why, list_accounts reports it, and a name only the organization could
/// resolve is refused with the reason.
#[tokio::test]
async fn an_organization_that_cannot_be_listed_is_an_entry_not_a_failure() {
    let r = region();
    let home = accounts(&["home"]);
    let bucket = unique("org-down");
    bucket_in(&home[0].id, &r, &bucket).await;
    let file = AccountsFile::write(&text(&home, &[&r], &[]));
    let mcp = Mcp::builder(BIN)
        .args(&["--accounts", &file.arg(), "--organization", "--max-attempts", "1"])
        .emulators(&[Service::Sts, Service::S3])
        .endpoint(Service::Organizations, NOWHERE)
        .endpoint(Service::BedrockAgent, NOWHERE)
        .start()
        .await;

    let inv = mcp.ok("inventory", json!({ "types": ["s3"] })).await;
    assert_eq!(inv["complete"], false, "{inv}");
    let errs = crate::errors(&inv);
    assert_eq!(errs.len(), 1, "{inv}");
    assert_eq!(errs[0]["account"], "organization", "{inv}");
    assert_eq!(errs[0]["category"], "unreachable", "{inv}");
    let got: Vec<_> = resources(&inv).into_iter().map(|r| (r.0, r.3)).collect();
    assert_eq!(got, vec![("home".to_owned(), bucket.clone())], "{inv}");

    let listed = mcp.ok("list_accounts", json!({})).await;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["organization"]["error"]["kind"], "transport", "{listed}");

    let e = mcp.err("whoami", json!({ "account": "somewhere-else" })).await;
    assert_eq!(e["field"], "account", "{e}");
    assert!(
        e["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("could not be listed"),
        "{e}"
    );
    // The file's own account works as ever.
    let who = mcp.ok("whoami", json!({ "account": "home" })).await;
    assert_eq!(who["account"], home[0].id.as_str(), "{who}");
}
