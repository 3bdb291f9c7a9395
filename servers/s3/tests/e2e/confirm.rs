//! `--confirm-destructive`: the user is asked through MCP elicitation before a destructive tool
//! runs. Accepted, it runs; declined, nothing changes; a client that cannot ask gets a refusal
//! that says how the operator can run without confirmation.

use std::sync::{Arc, Mutex};

use aws_mcp_tests::{Mcp, Service, emulators, fixtures::s3 as fx, server_bin};
use rmcp::{
    ClientHandler, ErrorData, RoleClient, ServiceExt,
    model::{ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction},
    service::RequestContext,
    transport::TokioChildProcess,
};
use serde_json::json;

use crate::BIN;

/// A client that answers every elicitation with `action`, and remembers what it was asked.
#[derive(Clone)]
struct Answering {
    action: ElicitationAction,
    asked: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Answering {
    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = &request {
            self.asked.lock().unwrap().push(message.clone());
        }
        let mut r = ElicitResult::new(self.action.clone());
        if matches!(self.action, ElicitationAction::Accept) {
            r = r.with_content(json!({"confirm": true}));
        }
        Ok(r)
    }

    fn get_info(&self) -> ClientConfig {
        serde_json::from_value(json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"elicitation": {"form": {}}},
            "clientInfo": {"name": "e2e-elicit", "version": "0"}
        }))
        .expect("client config")
    }
}

async fn exists(bucket: &str, key: &str) -> bool {
    aws_mcp_tests::s3()
        .await
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_ok()
}

#[tokio::test]
async fn destructive_calls_run_only_when_the_user_accepts() {
    let bucket = fx::bucket_with(&[("keep.txt", b"1", "text/plain"), ("go.txt", b"2", "text/plain")]).await;
    for (action, deleted) in [
        (ElicitationAction::Decline, false),
        (ElicitationAction::Cancel, false),
        (ElicitationAction::Accept, true),
    ] {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let mut cmd = tokio::process::Command::new(server_bin(BIN));
        emulators::clear_aws_env(&mut cmd);
        cmd.envs(emulators::aws_env(
            &emulators::emulator_endpoints(&[Service::S3]),
            emulators::NOWHERE,
        ))
        .args(["--allow-writes", "--confirm-destructive"]);
        let (transport, _) = TokioChildProcess::builder(cmd)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let client = Answering {
            action: action.clone(),
            asked: asked.clone(),
        }
        .serve(transport)
        .await
        .expect("initialize");
        let r = client
            .call_tool(
                rmcp::model::CallToolRequestParams::new("delete_object")
                    .with_arguments(json!({"bucket": bucket, "key": "go.txt"}).as_object().unwrap().clone()),
            )
            .await
            .expect("an answer");
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 1, "{action:?}: asked {asked:?}");
        assert!(
            asked[0].contains("delete_object") && asked[0].contains("go.txt"),
            "{}",
            asked[0]
        );
        if deleted {
            assert_ne!(r.is_error, Some(true), "{r:?}");
        } else {
            assert_eq!(r.is_error, Some(true), "{r:?}");
            let e = &r.structured_content.as_ref().unwrap()["error"];
            assert_eq!(e["kind"], "declined", "{e}");
            assert!(e["summary"].as_str().unwrap().contains("declined by the user"), "{e}");
        }
        assert_eq!(exists(&bucket, "go.txt").await, !deleted, "{action:?}");
        // Reads are never asked about.
        let r = client
            .call_tool(
                rmcp::model::CallToolRequestParams::new("head_object").with_arguments(
                    json!({"bucket": bucket, "key": "keep.txt"})
                        .as_object()
                        .unwrap()
                        .clone(),
                ),
            )
            .await
            .expect("an answer");
        assert_ne!(r.is_error, Some(true));
        client.cancel().await.ok();
        if deleted {
            break;
        }
    }
    assert!(exists(&bucket, "keep.txt").await);
}

#[tokio::test]
async fn a_client_without_elicitation_is_refused_and_told_why() {
    let bucket = fx::bucket_with(&[("stay.txt", b"1", "text/plain")]).await;
    let mcp = Mcp::start(BIN, &["--allow-writes", "--confirm-destructive"]).await;
    let e = mcp
        .err("delete_object", json!({"bucket": bucket, "key": "stay.txt"}))
        .await;
    assert_eq!(e["kind"], "declined", "{e}");
    let s = e["summary"].as_str().unwrap();
    assert!(s.contains("elicitation") && s.contains("--confirm-destructive"), "{s}");
    assert!(exists(&bucket, "stay.txt").await);
}
