//! Accounts discovered through AWS Organizations (moto's server implements it), reached through
//! the accounts file's default role in LocalStack; suspended accounts are skipped and reported.

use aws_mcp_tests::{
    Mcp, Service,
    emulators::NOWHERE,
    fixtures::accounts::{AccountsFile, accounts, bucket_in, text},
    region, sdk_config, unique,
};
use serde_json::json;

use crate::{BIN, resources};

#[tokio::test]
async fn organization_accounts_are_discovered_and_suspended_ones_skipped() {
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
    let mut ids = Vec::new();
    let names = [unique("org-active"), unique("org-closed")];
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
    let r = region();
    let bucket = unique("org-bucket");
    bucket_in(&ids[0], &r, &bucket).await;

    let home = accounts(&["home"]);
    let file = AccountsFile::write(&text(&home, &[&r], &[]));
    let mcp = Mcp::builder(BIN)
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
        .await;

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
