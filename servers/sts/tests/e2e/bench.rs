//! Inventory over 50 configured accounts, checked for correctness only (its timings are measured
//! by the bench binary, `tests/src/bin/bench/inventory.rs`, never asserted): at the default
//! concurrency every (account, region, type) listing is done, the result is complete, each
//! account's role is assumed once, and paging returns every resource exactly once.

use std::{collections::BTreeSet, time::Duration};

use aws_mcp_tests::{
    Mcp,
    fake::{Fake, Reply, Request},
    fixtures::accounts::{AccountsFile, accounts, two_regions},
};
use serde_json::json;

use crate::{BIN, assume_role_reply, resources, role_account};

const ACCOUNTS: usize = 50;

/// A fake AWS: AssumeRole, and S3, Lambda and Logs listings with one resource each (the bucket
/// named after the region asked for).
async fn fake_aws() -> Fake {
    let fake = Fake::start().await;
    fake.on_action("AssumeRole", |req: &Request| {
        assume_role_reply(req, Duration::from_secs(3600))
    });
    fake.on_xml("ListBuckets", "GET /", |req: &Request| {
        let region = req.query_param("bucket-region").unwrap_or("us-east-1").to_owned();
        Reply::xml(format!(
            "<ListAllMyBucketsResult><Buckets><Bucket><Name>b-{region}</Name><BucketRegion>{region}</BucketRegion>\
             </Bucket></Buckets></ListAllMyBucketsResult>"
        ))
    });
    fake.on_json(
        "ListFunctions",
        "GET /2015-03-31/functions",
        Reply::json(json!({ "Functions": [{ "FunctionName": "f" }] })),
    );
    fake.on_target(
        "Logs_20140328.DescribeLogGroups",
        Reply::json(json!({ "logGroups": [{ "logGroupName": "/g" }] })),
    );
    fake
}

#[tokio::test]
async fn inventory_over_50_accounts_is_complete_with_each_resource_once() {
    let fake = fake_aws().await;
    let aliases: Vec<String> = (0..ACCOUNTS).map(|i| format!("a{i:02}")).collect();
    let refs: Vec<&str> = aliases.iter().map(String::as_str).collect();
    let accts = accounts(&refs);
    let regions = two_regions();
    let file = AccountsFile::for_accounts(&accts, &[&regions[0], &regions[1]]);
    let mcp = Mcp::builder(BIN)
        .args(&["--accounts", &file.arg()])
        .everything_at(&fake.url())
        .start()
        .await;
    let args = json!({ "types": ["s3", "lambda", "logs"], "page_size": 40 });
    let (items, pages) = mcp.all_pages("inventory", args, "resources").await;

    let first = &pages[0];
    assert_eq!(first["complete"], true, "{first}");
    assert_eq!(
        first["counts"]["items"]["ok"],
        ACCOUNTS * 2 * 3,
        "every (account, region, type) listed: {}",
        first["counts"]
    );
    assert_eq!(first["counts"]["items"]["failed"], 0, "{}", first["counts"]);
    assert_eq!(first["counts"]["resources"], ACCOUNTS * 2 * 3, "{}", first["counts"]);
    for a in &accts {
        let c = &first["counts"]["accounts"][&a.alias];
        assert_eq!(c["id"], a.id.as_str(), "{}: {c}", a.alias);
        for kind in ["s3", "lambda", "logs"] {
            assert_eq!(c[kind], 2, "{} {kind} (one per region): {c}", a.alias);
        }
    }
    assert!(pages.len() > 1, "300 resources at 40 a page come in several pages");

    // Every resource exactly once across the pages.
    let got = resources(&json!({ "resources": items }));
    let mut want = BTreeSet::new();
    for a in &aliases {
        for r in &regions {
            want.insert((a.clone(), r.clone(), "s3".to_owned(), format!("b-{r}")));
            want.insert((a.clone(), r.clone(), "lambda".to_owned(), "f".to_owned()));
            want.insert((a.clone(), r.clone(), "logs".to_owned(), "/g".to_owned()));
        }
    }
    aws_mcp_tests::assert_each_once(&got, &want);

    // One AssumeRole per account, whatever the number of listings and pages.
    let mut assumed: Vec<String> = fake.requests_for("AssumeRole").iter().map(role_account).collect();
    assumed.sort();
    let mut ids: Vec<String> = accts.iter().map(|a| a.id.clone()).collect();
    ids.sort();
    assert_eq!(assumed, ids, "one AssumeRole per account");
}
