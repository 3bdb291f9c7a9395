//! The two STS lookups no emulator has (LocalStack answers "not implemented", moto's server a 500),
//! against the fake STS speaking the real query protocol.

use aws_mcp_tests::{
    fake::{Fake, Reply, Request},
    fixtures::accounts::{AccountsFile, accounts},
};
use serde_json::json;

use crate::{assume_role_reply, server_with_sts};

const DECODED: &str = r#"{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"failures":{"items":[]},"context":{"principal":{"id":"AROAFAKE:aws-mcp","arn":"arn:aws:sts::111111111111:assumed-role/McpReadOnly/aws-mcp"},"action":"s3:GetObject","resource":"arn:aws:s3:::reports/q4.csv","conditions":{"items":[{"key":"aws:SourceVpc","values":{"items":[{"value":"vpc-123"}]}},{"key":"s3:prefix","values":{"items":[{"value":"q4"},{"value":"q3"}]}}]}}}"#;

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[tokio::test]
async fn access_key_info_and_decoded_messages() {
    let accts = accounts(&["prod"]);
    let fake = Fake::start().await;
    fake.on_action("AssumeRole", |req: &Request| {
        assume_role_reply(req, std::time::Duration::from_secs(3600))
    });
    fake.on_action("GetAccessKeyInfo", |req: &Request| {
        let account = if req.form_field("AccessKeyId") == Some("AKIAIOSFODNN7EXAMPLE") {
            "444455556666"
        } else {
            "000000000000"
        };
        Reply::query_result("GetAccessKeyInfo", format!("<Account>{account}</Account>"))
    });
    fake.on_action("DecodeAuthorizationMessage", |req: &Request| {
        if req.form_field("EncodedMessage") == Some("encoded-abc") {
            Reply::query_result(
                "DecodeAuthorizationMessage",
                format!("<DecodedMessage>{}</DecodedMessage>", xml_escape(DECODED)),
            )
        } else {
            Reply::error(400, "InvalidAuthorizationMessageException", "The message is invalid.")
        }
    });
    let file = AccountsFile::for_accounts(&accts, &["us-east-1"]);
    let mcp = server_with_sts(&file, &[], &fake).start().await;

    let info = mcp
        .ok(
            "get_access_key_info",
            json!({ "access_key_id": "AKIAIOSFODNN7EXAMPLE" }),
        )
        .await;
    assert_eq!(info["account"], "444455556666", "{info}");
    let e = mcp
        .err("get_access_key_info", json!({ "access_key_id": "not a key" }))
        .await;
    assert_eq!(e["field"], "access_key_id", "{e}");

    // Decoded with the account the error came from: through its role session.
    let d = mcp
        .ok(
            "decode_authorization_message",
            json!({ "encoded_message": "encoded-abc", "account": "prod" }),
        )
        .await;
    assert_eq!(d["action"], "s3:GetObject", "{d}");
    assert_eq!(d["resource"], "arn:aws:s3:::reports/q4.csv", "{d}");
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(d["conditions"]["s3:prefix"], json!(["q4", "q3"]), "{d}");
    let calls = fake.requests_for("DecodeAuthorizationMessage");
    assert_eq!(calls.len(), 1);
    let auth = calls[0].header("authorization").unwrap_or_default().to_owned();
    assert!(
        auth.contains(&format!("Credential={}/", accts[0].id)),
        "signed with the account's session: {auth}"
    );

    let e = mcp
        .err("decode_authorization_message", json!({ "encoded_message": "garbage" }))
        .await;
    assert_eq!(e["code"], "InvalidAuthorizationMessageException", "{e}");
    assert!(e["request_id"].as_str().unwrap().starts_with("FAKE-"), "{e}");
    assert!(e["hint"].as_str().unwrap().contains("unchanged"), "{e}");
    let e = mcp
        .err("decode_authorization_message", json!({ "encoded_message": "" }))
        .await;
    assert_eq!(e["field"], "encoded_message", "{e}");
}
