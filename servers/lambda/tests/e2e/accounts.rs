//! `account` on the Lambda server (shared layer, issue 11): functions in several LocalStack
//! accounts through the accounts file. LocalStack maps an assumed role's credentials to the role's
//! account, so each account really holds only its own functions.

use std::{collections::BTreeSet, time::Duration};

use aws_mcp_tests::{
    Mcp, Service,
    fixtures::accounts::{AccountsFile, accounts, assumed_per_account, fake_sts, function_in},
    region, unique,
};
use serde_json::{Value, json};

const BIN: &str = "aws-lambda-mcp";

fn names(functions: &[Value]) -> BTreeSet<String> {
    functions
        .iter()
        .filter_map(|f| f["name"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn each_account_lists_only_its_own_functions_and_an_unknown_alias_is_refused() {
    let accts = accounts(&["prod", "dev"]);
    let r = region();
    let tag = unique("acctfn");
    // Two functions of each account's own, and one name both accounts use.
    let shared_name = format!("{tag}-both");
    let mut own = Vec::new();
    for a in &accts {
        let mine: BTreeSet<String> = (0..2).map(|i| format!("{tag}-{}-{i}", a.alias)).collect();
        for name in &mine {
            function_in(&a.id, &r, name, &format!("in {}", a.alias)).await;
        }
        function_in(&a.id, &r, &shared_name, &format!("in {}", a.alias)).await;
        own.push(mine);
    }
    let file = AccountsFile::for_accounts(&accts, &[&r]);
    let mcp = Mcp::builder(BIN)
        .emulators(&[Service::Lambda, Service::Sts])
        .args(&["--accounts", &file.arg()])
        .start()
        .await;

    // `account` is offered on every tool with exactly the file's aliases.
    for t in mcp.tools().await {
        let p = &t.input_schema["properties"]["account"];
        assert_eq!(p["enum"], json!(["dev", "prod"]), "{}: {p}", t.name);
    }

    for (a, mine) in accts.iter().zip(&own) {
        let listed = names(
            &mcp.pages(
                "list_functions",
                json!({"account": a.alias, "name": tag, "page_size": 1}),
                "functions",
            )
            .await,
        );
        let mut want = mine.clone();
        want.insert(shared_name.clone());
        assert_eq!(listed, want, "{} lists its own functions only", a.alias);
        // The name both accounts use is each account's own function (and its own cache entry).
        for round in 0..2 {
            let f = mcp
                .ok("get_function", json!({"account": a.alias, "function": shared_name}))
                .await;
            assert_eq!(f["description"], format!("in {}", a.alias), "{f}");
            assert_eq!(f["cached"], round == 1, "a cache entry per account: {f}");
        }
    }
    // Another account's function is not found, and the error names the account asked.
    let prod = &accts[0];
    let theirs = own[1].iter().next().unwrap();
    let e = mcp
        .err("get_function", json!({"account": "prod", "function": theirs}))
        .await;
    assert_eq!(e["code"], "ResourceNotFoundException", "{e}");
    assert_eq!(e["account"], format!("prod ({})", prod.id), "{e}");
    // Without `account`, the server's own credentials: none of the accounts' functions.
    let mine = names(
        &mcp.pages("list_functions", json!({"name": tag, "page_size": 50}), "functions")
            .await,
    );
    assert!(mine.is_empty(), "the server's own account sees {mine:?}");

    // An alias not in the file is refused before any call, naming it and the valid aliases.
    for (tool, args) in [
        ("list_functions", json!({"account": "stage"})),
        ("get_function", json!({"account": "stage", "function": theirs})),
    ] {
        let e = mcp.err(tool, args).await;
        assert_eq!(e["kind"], "invalid_argument", "{tool}: {e}");
        assert_eq!(e["field"], "account", "{tool}: {e}");
        let summary = e["summary"].as_str().unwrap_or_default();
        assert!(
            summary.contains("stage") && summary.contains("prod") && summary.contains("dev"),
            "{tool}: {e}"
        );
    }
}

#[tokio::test]
async fn one_assume_role_per_account_across_many_calls_with_the_read_only_session_policy() {
    let accts = accounts(&["red", "blue", "green"]);
    let r = region();
    let tag = unique("acctsts");
    for a in &accts {
        function_in(&a.id, &r, &format!("{tag}-{}", a.alias), &format!("in {}", a.alias)).await;
    }
    let file = AccountsFile::for_accounts(&accts, &[&r]);
    for invoke in [false, true] {
        let sts = fake_sts(Duration::from_secs(3600)).await;
        let mut args = vec!["--accounts".to_owned(), file.arg()];
        if invoke {
            args.push("--allow-invoke".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mcp = Mcp::builder(BIN)
            .emulators(&[Service::Lambda])
            .endpoint(Service::Sts, &sts.url())
            .args(&args)
            .start()
            .await;
        for _ in 0..3 {
            for a in &accts {
                let function = format!("{tag}-{}", a.alias);
                let listed = names(
                    &mcp.pages("list_functions", json!({"account": a.alias, "name": tag}), "functions")
                        .await,
                );
                assert_eq!(listed, BTreeSet::from([function.clone()]), "{}", a.alias);
                mcp.ok("list_versions", json!({"account": a.alias, "function": function}))
                    .await;
                mcp.ok("get_function_policy", json!({"account": a.alias, "function": function}))
                    .await;
            }
        }
        let counts = assumed_per_account(&sts);
        let want: BTreeSet<&str> = accts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            counts.keys().map(String::as_str).collect::<BTreeSet<_>>(),
            want,
            "{counts:?}"
        );
        assert!(
            counts.values().all(|n| *n == 1),
            "one AssumeRole per account over 27 calls (--allow-invoke: {invoke}): {counts:?}"
        );
        // The session policy allows the listed tools' actions only: invoking only with its flag,
        // and nothing that writes.
        for req in sts.requests_for("AssumeRole") {
            let policy: Value =
                serde_json::from_str(req.form_field("Policy").expect("a session policy")).expect("policy JSON");
            let actions: Vec<&str> = policy["Statement"][0]["Action"]
                .as_array()
                .expect("actions")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            for read in ["lambda:ListFunctions", "lambda:GetFunction", "lambda:GetPolicy"] {
                assert!(actions.contains(&read), "{read} missing from {actions:?}");
            }
            assert_eq!(
                actions.contains(&"lambda:InvokeFunction"),
                invoke,
                "InvokeFunction in the policy only with --allow-invoke: {actions:?}"
            );
            assert!(
                !actions
                    .iter()
                    .any(|a| a.contains("Update") || a.contains("Delete") || a.contains("Create") || a.contains('*')),
                "{actions:?}"
            );
        }
    }
}
