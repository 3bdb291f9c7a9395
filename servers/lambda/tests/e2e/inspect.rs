//! Inspection against LocalStack's Lambda control plane (functions are created with a tiny zip
//! and stay Pending/Failed without Docker, which is all these tools need).

use std::collections::BTreeSet;

use aws_mcp_tests::{
    Mcp, assert_each_once,
    fake::{Fake, Reply},
    fixtures::accounts::{function_in, lambda_as},
    unique,
};
use futures::StreamExt;
use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, PaginatedRequestParams, ReadResourceRequestParams, Reference, ResourceContents,
};
use serde_json::{Value, json};

use crate::support::{Spec, create_function, delete_functions, lambda};

const BIN: &str = "aws-lambda-mcp";

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|f| f["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Every resource URI over all `resources/list` pages.
async fn all_resources(mcp: &Mcp) -> Vec<String> {
    let (mut uris, mut cursor) = (Vec::new(), None);
    for _ in 0..200 {
        let page = mcp
            .client
            .list_resources(Some(PaginatedRequestParams::default().with_cursor(cursor.clone())))
            .await
            .expect("resources/list");
        uris.extend(page.resources.iter().map(|r| r.uri.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return uris,
        }
    }
    panic!("resources/list did not end");
}

/// LocalStack's default account, and the region only the paging test uses.
const DEFAULT_ACCOUNT: &str = "000000000000";
const PAGING_REGION: &str = "ca-central-1";

#[tokio::test]
async fn paging_over_105_functions_returns_each_once() {
    let prefix = unique("e2e-page");
    // A region no other test uses: a function another test deletes while these pages are read
    // would shift LocalStack's pages under the cursors (positions are a marker plus an offset).
    let made: BTreeSet<String> = (0..105).map(|i| format!("{prefix}-{i:03}")).collect();
    futures::stream::iter(made.iter().cloned())
        .map(|name| async move { function_in(DEFAULT_ACCOUNT, PAGING_REGION, &name, "paging").await })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let pattern = format!("{prefix}-*");

    // Allowlisted, pages of 20: ListFunctions pages of 50 are cut in the middle.
    let mcp = Mcp::start(BIN, &["--region", PAGING_REGION, "--function", &pattern]).await;
    let got = mcp.pages("list_functions", json!({"page_size": 20}), "functions").await;
    assert_each_once(&names(&got), &made);

    // A small output budget cuts pages itself; each function still comes once.
    let small = Mcp::start(
        BIN,
        &[
            "--region",
            PAGING_REGION,
            "--function",
            &pattern,
            "--max-output-tokens",
            "1000",
        ],
    )
    .await;
    let (items, pages) = small
        .all_pages("list_functions", json!({"page_size": 1000}), "functions")
        .await;
    assert_each_once(&names(&items), &made);
    assert!(
        pages.iter().any(|p| p.get("truncated").is_some()),
        "no page was cut by the budget"
    );
    assert!(pages.len() > 2, "{} pages", pages.len());

    // No allowlist: the name filter (case-insensitive) finds the same set among everything else.
    let open = Mcp::start(BIN, &["--region", PAGING_REGION]).await;
    let got = open
        .pages(
            "list_functions",
            json!({"name": prefix.to_uppercase(), "page_size": 30}),
            "functions",
        )
        .await;
    assert_each_once(&names(&got), &made);
    // The runtime filter keeps them (python3.12), and another runtime finds none of them.
    let py = open
        .pages(
            "list_functions",
            json!({"name": prefix, "runtime": "python"}),
            "functions",
        )
        .await;
    assert_eq!(py.len(), made.len());
    let node = open
        .pages(
            "list_functions",
            json!({"name": prefix, "runtime": "nodejs"}),
            "functions",
        )
        .await;
    assert!(node.is_empty(), "{node:?}");

    // resources/list walks the same functions with its own cursor.
    let uris: Vec<String> = all_resources(&mcp).await;
    let want: BTreeSet<String> = made.iter().map(|n| format!("lambda://{n}/configuration")).collect();
    assert_each_once(&uris, &want);

    let client = lambda_as(DEFAULT_ACCOUNT, PAGING_REGION).await;
    for name in &made {
        client.delete_function().function_name(name).send().await.ok();
    }
}

#[tokio::test]
async fn environment_values_are_hidden_by_default_and_masked_when_shown() {
    let name = unique("e2e-env");
    let spec = Spec {
        env: vec![("DB_PASSWORD", "hunter2-very-secret"), ("MODE", "blue-green")],
        ..Spec::default()
    };
    create_function(&name, spec).await;
    let mcp = Mcp::start(BIN, &["--function", &name]).await;
    let v = mcp.ok("get_function", json!({"function": name})).await;
    assert_eq!(v["environment"]["names"], json!(["DB_PASSWORD", "MODE"]));
    let text = v.to_string();
    assert!(!text.contains("hunter2") && !text.contains("blue-green"), "{text}");
    assert_eq!(v["name"], name.as_str());
    assert_eq!(v["runtime"], "python3.12");
    // ListFunctions carries the environment too; list_functions never shows it.
    let listed = mcp.ok("list_functions", json!({})).await;
    assert!(!listed.to_string().contains("hunter2"), "{listed}");
    assert_eq!(names(listed["functions"].as_array().unwrap()), vec![name.clone()]);

    let shown = Mcp::start(BIN, &["--function", &name, "--show-env-values"]).await;
    let v = shown.ok("get_function", json!({"function": name})).await;
    let vars = &v["environment"]["variables"];
    assert_eq!(vars["MODE"], "blue-green");
    let masked = vars["DB_PASSWORD"].as_str().unwrap();
    assert!(masked.starts_with("[REDACTED"), "{masked}");
    assert!(v["environment"]["redacted"].as_u64().unwrap() >= 1);
    assert_eq!(v["cached"], false);
    let again = shown.ok("get_function", json!({"function": name})).await;
    assert_eq!(again["cached"], true);
    delete_functions(&[&name]).await;
}

#[tokio::test]
async fn versions_aliases_policy_tags_and_mappings() {
    let name = unique("e2e-ver");
    let spec = Spec {
        description: "orders api",
        tags: vec![("team", "payments".to_owned())],
        ..Spec::default()
    };
    create_function(&name, spec).await;
    let client = lambda().await;
    let version = client.publish_version().function_name(&name).send().await.unwrap();
    let v1 = version.version().unwrap().to_owned();
    client
        .create_alias()
        .function_name(&name)
        .name("live")
        .function_version(&v1)
        .send()
        .await
        .unwrap();
    client
        .add_permission()
        .function_name(&name)
        .statement_id("s3-invoke")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::orders-bucket")
        .send()
        .await
        .unwrap();
    let bare = unique("e2e-ver");
    create_function(&bare, Spec::default()).await;

    let mcp = Mcp::start(BIN, &["--function", "e2e-ver-*"]).await;
    let versions = mcp.pages("list_versions", json!({"function": name}), "versions").await;
    let listed: Vec<&str> = versions.iter().filter_map(|v| v["version"].as_str()).collect();
    assert!(
        listed.contains(&"$LATEST") && listed.contains(&v1.as_str()),
        "{listed:?}"
    );

    let aliases = mcp.ok("list_aliases", json!({"function": name})).await;
    assert_eq!(aliases["aliases"][0]["name"], "live");
    assert_eq!(aliases["aliases"][0]["version"], v1.as_str());

    // A full ARN names the same function.
    let arn = format!(
        "arn:aws:lambda:{}:000000000000:function:{name}",
        aws_mcp_tests::region()
    );
    let policy = mcp.ok("get_function_policy", json!({"function": arn})).await;
    let s = &policy["statements"][0];
    assert_eq!(s["principal"], json!(["Service: s3.amazonaws.com"]));
    assert_eq!(s["source_arn"], "arn:aws:s3:::orders-bucket");
    assert_eq!(s["effect"], "Allow");
    let none = mcp.ok("get_function_policy", json!({"function": bare})).await;
    assert_eq!(none["statements"], json!([]));
    assert!(none["note"].as_str().unwrap().contains("no resource-based policy"));

    let f = mcp.ok("get_function", json!({"function": name})).await;
    assert_eq!(f["tags"]["team"], "payments");
    assert_eq!(f["description"], "orders api");
    assert!(f["state"].is_string(), "{f}");
    let at_alias = mcp
        .ok("get_function", json!({"function": name, "qualifier": "live"}))
        .await;
    assert_eq!(at_alias["version"], v1.as_str());

    // LocalStack cannot create mappings here (no SQS/Kinesis); the listing is real and empty.
    let m = mcp.ok("list_event_source_mappings", json!({"function": name})).await;
    assert_eq!(m["mappings"], json!([]));
    delete_functions(&[&name, &bare]).await;
}

#[tokio::test]
async fn a_missing_function_is_resource_not_found_in_every_tool() {
    let mcp = Mcp::start(BIN, &["--allow-invoke"]).await;
    let missing = unique("e2e-missing");
    for tool in [
        "get_function",
        "get_function_policy",
        "list_versions",
        "list_aliases",
        "invoke_function",
    ] {
        let e = mcp.err(tool, json!({"function": missing})).await;
        assert_eq!(e["code"], "ResourceNotFoundException", "{tool}: {e}");
        assert!(
            e["hint"].as_str().unwrap_or_default().contains("list_functions"),
            "{tool}: {e}"
        );
    }
    let e = mcp.err("get_function", json!({"function": "no spaces allowed"})).await;
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_argument"), Some("function"))
    );
}

#[tokio::test]
async fn the_allowlist_holds_for_listings_resources_and_completions() {
    let allowed = unique("e2e-allow");
    let other = unique("e2e-allow-not");
    create_function(&allowed, Spec::default()).await;
    create_function(&other, Spec::default()).await;
    let mcp = Mcp::start(BIN, &["--function", &allowed]).await;

    let listed = mcp
        .pages("list_functions", json!({"name": "e2e-allow"}), "functions")
        .await;
    assert_eq!(names(&listed), vec![allowed.clone()]);
    let e = mcp.err("get_function", json!({"function": other})).await;
    assert_eq!(e["kind"], "not_allowed");

    assert_eq!(
        all_resources(&mcp).await,
        vec![format!("lambda://{allowed}/configuration")]
    );
    let read = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!(
            "lambda://{allowed}/configuration"
        )))
        .await
        .expect("read the allowed function");
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("not text: {read:?}");
    };
    let v: Value = serde_json::from_str(text).unwrap();
    assert_eq!(v["name"], allowed.as_str());
    let refused = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!(
            "lambda://{other}/configuration"
        )))
        .await;
    assert!(refused.is_err(), "{refused:?}");

    let complete = mcp
        .client
        .complete(CompleteRequestParams::new(
            Reference::for_resource("lambda://{function}/configuration"),
            ArgumentInfo::new("function", "e2e-allow"),
        ))
        .await
        .expect("completion/complete");
    assert_eq!(complete.completion.values, vec![allowed.clone()]);

    // `region` sends the call to another region, where these functions do not exist.
    let elsewhere = mcp
        .ok("list_functions", json!({"name": "e2e-allow", "region": "eu-west-1"}))
        .await;
    assert_eq!(elsewhere["functions"], json!([]));
    let e = mcp
        .err("get_function", json!({"function": allowed, "region": "eu-west-1"}))
        .await;
    assert_eq!(e["code"], "ResourceNotFoundException");
    assert!(e["hint"].as_str().unwrap().contains("eu-west-1"), "{e}");
    delete_functions(&[&allowed, &other]).await;
}

#[tokio::test]
async fn event_source_mappings_of_other_functions_are_left_out() {
    // LocalStack here has no SQS or Kinesis to map from: the listing is served by the fake.
    let fake = Fake::start().await;
    let mapping = |uuid: &str, function: &str| {
        json!({"UUID": uuid, "FunctionArn": format!("arn:aws:lambda:us-east-1:000000000000:function:{function}"),
               "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:orders-queue", "State": "Enabled",
               "BatchSize": 10, "LastProcessingResult": "OK", "LastModified": 1_796_000_000.0})
    };
    fake.on_json(
        "ListEventSourceMappings",
        "GET /2015-03-31/event-source-mappings",
        Reply::json(json!({"EventSourceMappings": [mapping("u1", "orders"), mapping("u2", "payroll")]})),
    );
    let mcp = Mcp::builder(BIN)
        .args(&["--function", "orders*"])
        .everything_at(&fake.url())
        .start()
        .await;
    let v = mcp.ok("list_event_source_mappings", json!({})).await;
    let m = v["mappings"].as_array().unwrap();
    assert_eq!(m.len(), 1, "{v}");
    assert_eq!(m[0]["function"], "orders");
    assert_eq!(m[0]["event_source"], "arn:aws:sqs:us-east-1:000000000000:orders-queue");
    assert_eq!(m[0]["state"], "Enabled");
    assert!(m[0]["last_modified"].as_str().unwrap().starts_with("2026-"));
    mcp.ok("list_event_source_mappings", json!({"function": "orders"}))
        .await;
    let sent = fake.requests_for("ListEventSourceMappings");
    assert_eq!(sent.last().unwrap().query_param("FunctionName"), Some("orders"));
    let e = mcp
        .err("list_event_source_mappings", json!({"function": "payroll"}))
        .await;
    assert_eq!(e["kind"], "not_allowed");
    assert_eq!(fake.requests_for("ListEventSourceMappings").len(), 2);
}
