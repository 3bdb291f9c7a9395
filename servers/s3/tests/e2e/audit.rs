//! The audit trail: what each line records for S3 (outcome, error code, request ids), beyond the
//! contract's one-line-per-call and no-secrets checks.

use aws_mcp_tests::{Mcp, fixtures::s3::bucket_with, unique};
use serde_json::json;

use crate::BIN;

#[tokio::test]
async fn one_audit_line_per_call_and_no_data_or_secrets_in_logs() {
    let bucket = bucket_with(&[]).await;
    let log = std::env::temp_dir().join(format!("{}.log", unique("audit")));
    // LocalStack accepts any secret: a recognisable one shows whether it leaks anywhere.
    let secret = "wJalrXUtnFEMI-DO-NOT-LEAK-7f3a";
    let payload = "TOP-SECRET-PAYLOAD-9c1e";
    let mcp = Mcp::start_logged(BIN, &["--allow-writes"], &[("AWS_SECRET_ACCESS_KEY", secret)], &log).await;
    let put = mcp
        .call(
            "put_object",
            json!({"bucket": bucket, "key": "secret.txt", "text": payload}),
        )
        .await;
    let got = mcp
        .ok("get_object", json!({"bucket": bucket, "key": "secret.txt"}))
        .await;
    assert_eq!(got["text"], payload);
    let missing = mcp.err("get_object", json!({"bucket": bucket, "key": "nope"})).await;
    let url = mcp
        .ok("presign_url", json!({"bucket": bucket, "key": "secret.txt"}))
        .await;
    drop(mcp);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let logs = std::fs::read_to_string(&log).unwrap();
    let audit: Vec<&str> = logs.lines().filter(|l| l.contains("audit")).collect();
    assert_eq!(audit.len(), 4, "one line per call:\n{logs}");
    assert!(
        audit[0].contains("tool=\"put_object\"") && audit[0].contains("outcome=\"ok\""),
        "{}",
        audit[0]
    );
    assert!(audit[0].contains("duration_ms=") && audit[0].contains("server=\"aws-s3-mcp\""));
    assert!(
        !audit[0].contains("aws_request_ids=\"\""),
        "request ids are recorded: {}",
        audit[0]
    );
    assert!(
        audit[2].contains("outcome=\"aws\"") && audit[2].contains("error_code=\"NoSuchKey\""),
        "{}",
        audit[2]
    );
    assert!(audit[2].contains(missing["request_id"].as_str().unwrap()));
    // Arguments and object data are never logged; the secret key appears nowhere.
    for needle in [payload, "secret.txt", secret] {
        assert!(!logs.contains(needle), "{needle} leaked into the logs");
    }
    for result in [aws_mcp_tests::text(&put), got.to_string(), url.to_string()] {
        assert!(!result.contains(secret), "the secret key leaked into a result");
    }
    std::fs::remove_file(log).ok();
}
