//! Three accounts × two regions in LocalStack, reached through assumed roles: each account's
//! inventory holds its own resources and none of another's.

use std::collections::BTreeSet;

use aws_mcp_tests::{
    Service,
    fixtures::accounts::{AccountsFile, TestAccount, accounts, bucket_in, sdk_config_as, two_regions},
    unique,
};
use serde_json::json;

use crate::{errors, resources, server};

/// A zip archive holding one stored (uncompressed) file: enough for Lambda's control plane.
fn zip_one(name: &str, body: &[u8]) -> Vec<u8> {
    let crc = {
        let mut c = 0xffff_ffffu32;
        for b in body {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 == 1 { (c >> 1) ^ 0xedb8_8320 } else { c >> 1 };
            }
        }
        !c
    };
    let (n, len) = (name.len() as u16, body.len() as u32);
    let mut z = Vec::new();
    z.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    z.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&n.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(name.as_bytes());
    z.extend_from_slice(body);
    let central = z.len() as u32;
    z.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    z.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&n.to_le_bytes());
    z.extend_from_slice(&[0; 12]);
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(name.as_bytes());
    let size = z.len() as u32 - central;
    z.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    z.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    z.extend_from_slice(&size.to_le_bytes());
    z.extend_from_slice(&central.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

/// What one account holds in one region: a bucket, a log group and a function, named after both.
pub(crate) async fn populate(a: &TestAccount, region: &str, tag: &str) -> [(String, String); 3] {
    let bucket = format!("{tag}-{}-{region}", a.alias);
    bucket_in(&a.id, region, &bucket).await;
    let group = format!("/{tag}/{}/{region}", a.alias);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config_as(Service::Logs, &a.id, region).await);
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap_or_else(|e| panic!("log group {group}: {e:?}"));
    let function = format!("{tag}-{}-{region}", a.alias);
    let lambda = aws_sdk_lambda::Client::new(&sdk_config_as(Service::Lambda, &a.id, region).await);
    lambda
        .create_function()
        .function_name(&function)
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .handler("index.handler")
        .role(format!("arn:aws:iam::{}:role/fn", a.id))
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_smithy_types::Blob::new(zip_one(
                    "index.py",
                    b"def handler(e, c):\n    return 1\n",
                )))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("function {function}: {e:?}"));
    [
        ("s3".into(), bucket),
        ("logs".into(), group),
        ("lambda".into(), function),
    ]
}

#[tokio::test]
async fn inventory_through_assumed_roles_returns_each_accounts_own_resources() {
    let accts = accounts(&["alpha", "beta", "gamma"]);
    let regions = two_regions();
    let file = AccountsFile::for_accounts(&accts, &[&regions[0], &regions[1]]);
    let tag = unique("iso");
    let mut want = BTreeSet::new();
    for a in &accts {
        for r in &regions {
            for (kind, name) in populate(a, r, &tag).await {
                want.insert((a.alias.clone(), r.clone(), kind, name));
            }
        }
    }
    let mcp = server(&file, &[]).start().await;
    let args = json!({ "types": ["s3", "lambda", "logs"], "page_size": 1000 });
    let inv = mcp.ok("inventory", args.clone()).await;
    assert_eq!(inv["complete"], true, "{inv}");
    assert!(errors(&inv).is_empty(), "{inv}");
    // 3 accounts × 2 regions × 3 types, each listed once.
    assert_eq!(inv["counts"]["items"]["ok"], 18, "{inv}");
    let got: BTreeSet<(String, String, String, String)> = resources(&inv)
        .into_iter()
        .filter(|(_, _, _, name)| name.contains(&tag))
        .collect();
    // Every resource under the account and region it was made in, and nowhere else.
    assert_eq!(got, want);
    for a in &accts {
        assert_eq!(inv["counts"]["accounts"][&a.alias]["id"], a.id.as_str(), "{inv}");
        assert_eq!(inv["counts"]["accounts"][&a.alias]["s3"], 2, "{inv}");
    }

    // One account alone: only its own resources, though the others' names match the filter.
    let beta = &accts[1];
    let only = mcp
        .ok(
            "inventory",
            json!({ "account": "beta", "name": tag, "page_size": 1000 }),
        )
        .await;
    let names: BTreeSet<(String, String)> = resources(&only).into_iter().map(|r| (r.2, r.3)).collect();
    assert_eq!(names.len(), 6, "{only}");
    assert!(
        names.iter().all(|(_, n)| n.contains("-beta-") || n.contains("/beta/")),
        "{names:?}"
    );

    // find_resource with a glob, in one region, from the cache.
    let found = mcp
        .ok(
            "find_resource",
            json!({ "name": format!("{tag}-gamma-*"), "regions": [regions[1].clone()] }),
        )
        .await;
    let f: BTreeSet<(String, String, String, String)> = resources(&found).into_iter().collect();
    let gamma_second: BTreeSet<_> = want
        .iter()
        .filter(|(a, r, k, _)| a == "gamma" && *r == regions[1] && k != "logs")
        .cloned()
        .collect();
    assert_eq!(f, gamma_second, "{found}");
    assert!(found["counts"]["items"]["from_cache"].as_u64().unwrap() > 0, "{found}");

    // The identity through a role is the role's session in that account.
    let who = mcp.ok("whoami", json!({ "account": "beta" })).await;
    assert_eq!(who["account"], beta.id.as_str(), "{who}");
    assert!(
        who["arn"]
            .as_str()
            .unwrap()
            .starts_with(&format!("arn:aws:sts::{}:assumed-role/McpReadOnly/", beta.id)),
        "{who}"
    );
    let own = mcp.ok("whoami", json!({})).await;
    assert_eq!(own["via"], "server credentials");
    assert_ne!(own["account"], beta.id.as_str());

    // assume_role: identity and expiry, never key material; the session is listed.
    let assumed = mcp.ok("assume_role", json!({ "account": "gamma" })).await;
    assert_eq!(assumed["account_id"], accts[2].id.as_str(), "{assumed}");
    assert!(
        assumed["session"]["expires_in_secs"].as_u64().unwrap() > 600,
        "{assumed}"
    );
    assert_eq!(
        assumed["new_session"], false,
        "the inventory already started gamma's session: {assumed}"
    );
    let text = assumed.to_string().to_ascii_lowercase();
    for word in ["secret", "sessiontoken", "session_token", "accesskeyid", "access_key"] {
        assert!(!text.contains(word), "{word} in {assumed}");
    }
    let listed = mcp.ok("list_accounts", json!({})).await;
    let rows = listed["accounts"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{listed}");
    for row in rows {
        assert_eq!(row["session"]["active"], true, "{row}");
        assert!(row["session"]["expires"].is_string(), "{row}");
        assert_eq!(row["regions"], json!(regions), "{row}");
    }
}

#[tokio::test]
async fn a_second_page_continues_the_same_cached_inventory() {
    let accts = accounts(&["one", "two", "three"]);
    let regions = two_regions();
    let file = AccountsFile::for_accounts(&accts, &[&regions[0], &regions[1]]);
    let tag = unique("page");
    for a in &accts {
        for r in &regions {
            bucket_in(&a.id, r, &format!("{tag}-{}-{r}-a", a.alias)).await;
            bucket_in(&a.id, r, &format!("{tag}-{}-{r}-b", a.alias)).await;
        }
    }
    let mcp = server(&file, &[]).start().await;
    let (items, pages) = mcp
        .all_pages(
            "inventory",
            json!({ "types": ["s3"], "name": tag, "page_size": 5 }),
            "resources",
        )
        .await;
    assert_eq!(items.len(), 12);
    assert_eq!(pages.len(), 3);
    let names: BTreeSet<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 12, "each resource once");
    // Every page carries the summary; the later ones come from the cache.
    for p in &pages {
        assert_eq!(p["counts"]["resources"], 12, "{p}");
    }
    assert_eq!(pages[2]["counts"]["items"]["from_cache"], 6, "{}", pages[2]);
}
