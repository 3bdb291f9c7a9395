//! Accounts and regions (shared layer) on DynamoDB, against moto, whose own STS issues credentials
//! that moto's DynamoDB maps to the assumed role's account: tables in one account are invisible
//! from another, and `region` picks the region's tables.

use aws_mcp_tests::{
    Mcp, Service,
    fixtures::{
        accounts::{self, AccountsFile},
        dynamodb as fx,
    },
    region, sdk_config, unique,
};
use serde_json::json;

use crate::BIN;

/// A DynamoDB client acting in `account` (through moto's STS) in `region_name`.
async fn dynamodb_as(account: &str, region_name: &str) -> aws_sdk_dynamodb::Client {
    let moto = Service::DynamoDb.endpoint();
    let base = sdk_config(Service::DynamoDb).await;
    let sts = aws_sdk_sts::Client::from_conf(aws_sdk_sts::config::Builder::from(&base).endpoint_url(&moto).build());
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{}", accounts::ROLE_NAME))
        .role_session_name("e2e")
        .send()
        .await
        .expect("moto AssumeRole");
    let c = out.credentials().expect("credentials");
    let creds = aws_sdk_dynamodb::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "e2e",
    );
    aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&base)
            .credentials_provider(creds)
            .region(aws_sdk_dynamodb::config::Region::new(region_name.to_owned()))
            .build(),
    )
}

#[tokio::test]
async fn each_account_sees_only_its_own_tables() {
    let accts = accounts::accounts(&["prod", "dev"]);
    let mut tables = Vec::new();
    for a in &accts {
        let t = unique("acct");
        fx::create_keyed(&dynamodb_as(&a.id, &region()).await, &t).await;
        tables.push(t);
    }
    let file = AccountsFile::for_accounts(&accts, &[&region()]);
    let moto = Service::DynamoDb.endpoint();
    let mcp = Mcp::builder(BIN)
        .emulators(&[Service::DynamoDb])
        .endpoint(Service::Sts, &moto)
        .args(&["--accounts", &file.arg()])
        .start()
        .await;
    for (a, t) in accts.iter().zip(&tables) {
        let names = mcp
            .pages("list_tables", json!({"account": a.alias, "prefix": "acct"}), "tables")
            .await;
        assert!(names.contains(&json!(t)), "{}: {names:?}", a.alias);
        for other in tables.iter().filter(|o| *o != t) {
            assert!(!names.contains(&json!(other)), "{} sees {other}", a.alias);
        }
        let d = mcp.ok("describe_table", json!({"account": a.alias, "table": t})).await;
        assert!(d["arn"].as_str().unwrap().contains(&a.id), "{d}");
    }
    // The same name in the other account is not served from the first one's cache.
    let e = mcp
        .err("describe_table", json!({"account": "dev", "table": tables[0]}))
        .await;
    assert_eq!(e["code"], "ResourceNotFoundException", "{e}");
    assert!(
        e["summary"].as_str().unwrap().contains(&accts[1].id),
        "errors name the account: {e}"
    );
}

#[tokio::test]
async fn region_picks_the_regions_tables() {
    let other = if region() == "eu-west-1" {
        "us-west-2"
    } else {
        "eu-west-1"
    };
    let t = unique("regional");
    let db = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk_config(Service::DynamoDb).await)
            .region(aws_sdk_dynamodb::config::Region::new(other))
            .build(),
    );
    fx::create_keyed(&db, &t).await;
    let mcp = Mcp::start(BIN, &[]).await;
    let here = mcp.pages("list_tables", json!({"prefix": "regional"}), "tables").await;
    assert!(!here.contains(&json!(t)), "{here:?}");
    let there = mcp
        .pages("list_tables", json!({"prefix": "regional", "region": other}), "tables")
        .await;
    assert!(there.contains(&json!(t)), "{there:?}");
    let d = mcp.ok("describe_table", json!({"table": t, "region": other})).await;
    assert!(d["arn"].as_str().unwrap().contains(other), "{d}");
}

#[tokio::test]
async fn nested_argument_errors_name_the_nested_field() {
    let mcp = Mcp::start(BIN, &[]).await;
    let t = unique("nested");
    for (args, field) in [
        (json!({"table": t, "partition_key": "a", "sort_key": 12345}), "sort_key"),
        (
            json!({"table": t, "partition_key": "a", "sort_key": {"op": "~", "value": 1}}),
            "sort_key.op",
        ),
        (
            json!({"table": t, "partition_key": "a", "sort_key": {"value": 1}}),
            "sort_key.op",
        ),
        (json!({"table": t, "projection": ["a", 5]}), "projection[1]"),
    ] {
        let e = mcp.err("query", args.clone()).await;
        assert_eq!(e["field"], field, "{args}: {e}");
    }
    let e = mcp
        .err("batch_get_items", json!({"requests": {t.clone(): {"keys": "pk"}}}))
        .await;
    assert_eq!(e["field"], format!("requests.{t}.keys"), "{e}");
}
