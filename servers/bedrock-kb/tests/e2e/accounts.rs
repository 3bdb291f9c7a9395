//! `account` and `region` on the Bedrock KB server, as on every server: each account's calls are
//! signed with its own role session (one AssumeRole per account, carrying the read-only session
//! policy), discovery is cached per account, and an alias or region outside the file is refused.
//! No emulator separates Bedrock accounts, so the proof is what reaches the wire: the rig's fake
//! endpoint sees which session signed each request.

use std::{collections::BTreeSet, time::Duration};

use aws_mcp_tests::{
    Service,
    fake::Request,
    fixtures::accounts::{AccountsFile, accounts, assumed_per_account, fake_sts},
    region,
};
use serde_json::{Value, json};

use crate::{BIN, args, rig};

/// The access key id that signed a request (the fake STS hands out the account id as one).
fn signer(r: &Request) -> String {
    r.header("authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .unwrap_or_default()
        .to_owned()
}

fn signers(rig: &rig::Rig, op: &str) -> Vec<String> {
    rig.fake.requests_for(op).iter().map(signer).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_account_calls_bedrock_with_its_own_session_and_cache() {
    let rig = rig::Rig::start().await;
    let p = rig::prefix("acct");
    let kb = rig.kb(&p, &[], &[("DS1", "docs")]).await;
    let accts = accounts(&["search", "billing"]);
    let ids: BTreeSet<String> = accts.iter().map(|a| a.id.clone()).collect();
    let file = AccountsFile::for_accounts(&accts, &[&region()]);
    let sts = fake_sts(Duration::from_secs(3600)).await;
    let pattern = format!("{p}*");
    let mcp = rig
        .server(BIN)
        .endpoint(Service::Sts, &sts.url())
        .args(&["--accounts", &file.arg(), "--kb", &pattern])
        .start()
        .await;

    for t in mcp.tools().await {
        let prop = &t.input_schema["properties"]["account"];
        assert_eq!(prop["enum"], json!(["billing", "search"]), "{}: {prop}", t.name);
    }

    let mut discovered_after_first_round = 0;
    for round in 0..2 {
        for a in &accts {
            let listed = mcp
                .ok("list_knowledge_bases", json!({"account": a.alias, "page_size": 100}))
                .await;
            let found: Vec<&Value> = listed["knowledge_bases"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|b| b["id"] == kb.as_str())
                .collect();
            assert_eq!(found.len(), 1, "{listed}");
            assert_eq!(listed["cached"], round == 1, "a catalog per account: {listed}");
            let out = mcp
                .ok(
                    "retrieve",
                    args(&kb, json!({"account": a.alias, "number_of_results": 2})),
                )
                .await;
            assert_eq!(out["results"].as_array().map(Vec::len), Some(2), "{out}");
        }
        if round == 0 {
            discovered_after_first_round = rig.fake.requests_for("ListKnowledgeBases").len();
        }
    }
    // Discovery ran once per account (the second round came from each account's cache), and every
    // Bedrock request was signed by the session of the account the call named.
    assert_eq!(
        rig.fake.requests_for("ListKnowledgeBases").len(),
        discovered_after_first_round
    );
    let by: BTreeSet<String> = signers(&rig, "ListKnowledgeBases").into_iter().collect();
    assert_eq!(by, ids, "ListKnowledgeBases signed by each account's session");
    let retrieved = signers(&rig, "Retrieve");
    assert_eq!(retrieved.len(), 4, "{retrieved:?}");
    for id in &ids {
        assert_eq!(retrieved.iter().filter(|s| *s == id).count(), 2, "{retrieved:?}");
    }

    // One AssumeRole per account, carrying the read-only session policy of the listed tools.
    let counts = assumed_per_account(&sts);
    assert_eq!(counts.keys().cloned().collect::<BTreeSet<_>>(), ids, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    for req in sts.requests_for("AssumeRole") {
        let policy: Value = serde_json::from_str(req.form_field("Policy").expect("a session policy")).unwrap();
        let actions = policy["Statement"][0]["Action"].to_string();
        assert!(
            actions.contains("bedrock:Retrieve\"") && actions.contains("bedrock:ListKnowledgeBases"),
            "{actions}"
        );
        assert!(
            !actions.contains("bedrock:RetrieveAndGenerate"),
            "generation is not listed without --allow-generate: {actions}"
        );
    }

    // Without `account`: the server's own credentials and its own catalog.
    let own = mcp.ok("list_knowledge_bases", json!({})).await;
    assert_eq!(own["cached"], false, "{own}");
    let last = rig.fake.requests_for("ListKnowledgeBases");
    assert!(
        !ids.contains(&signer(last.last().unwrap())),
        "signed by the server's own key"
    );

    // An alias not in the file, and a region outside the account's: refused before any call.
    let before = rig.fake.count();
    let e = mcp.err("retrieve", args(&kb, json!({"account": "ops"}))).await;
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_argument"), Some("account")),
        "{e}"
    );
    assert!(e["summary"].as_str().unwrap_or_default().contains("ops"), "{e}");
    let e = mcp
        .err(
            "list_knowledge_bases",
            json!({"account": "search", "region": "ap-southeast-2"}),
        )
        .await;
    assert_eq!(e["field"], "region", "{e}");
    assert!(e["summary"].as_str().unwrap_or_default().contains(&region()), "{e}");
    assert_eq!(rig.fake.count(), before, "nothing was sent for the refused calls");
}
