//! Failures the emulators cannot produce, from a small fake AWS endpoint in this test that answers
//! with the services' real wire formats: throttling (the SDK retries, then the tool says how often
//! it tried), access denied (the hint names the IAM action), a silent endpoint (timeout) and a
//! closed port (unreachable). Each must be a clear tool error naming the endpoint, never a hang.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use aws_mcp_tests::Mcp;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// How the fake endpoint answers a request (method, path) after its headers are read.
#[derive(Clone, Copy)]
enum Behaviour {
    /// S3: HEAD answers 200 with a region; everything else 503 SlowDown.
    S3SlowDown,
    /// S3: HEAD answers 200 with a region; everything else 403 AccessDenied.
    S3AccessDenied,
    /// DynamoDB (JSON 1.0): ProvisionedThroughputExceededException.
    DynamoThrottled,
    /// Accept the connection, read the request, never answer.
    Silent,
}

struct Fake {
    url: String,
    requests: Arc<AtomicUsize>,
    /// Request lines and headers, as received.
    heads: Arc<std::sync::Mutex<Vec<String>>>,
}

async fn fake(behaviour: Behaviour) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (counter, seen) = (requests.clone(), heads.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (counter, seen) = (counter.clone(), seen.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    // One request per read loop: headers, then a body of Content-Length bytes.
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..head_end + len);
                    counter.fetch_add(1, Ordering::SeqCst);
                    seen.lock().unwrap().push(head.clone());
                    let is_head = head.starts_with("HEAD ");
                    let (status, headers, body) = match behaviour {
                        Behaviour::Silent => {
                            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                            return;
                        }
                        Behaviour::S3SlowDown | Behaviour::S3AccessDenied if is_head => {
                            ("200 OK", "x-amz-bucket-region: us-east-1\r\n", String::new())
                        }
                        Behaviour::S3SlowDown => (
                            "503 Slow Down",
                            "content-type: application/xml\r\n",
                            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAKE-REQ-1</RequestId></Error>".to_owned(),
                        ),
                        Behaviour::S3AccessDenied => (
                            "403 Forbidden",
                            "content-type: application/xml\r\n",
                            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/e2e is not authorized to perform: s3:ListBucket</Message><RequestId>FAKE-REQ-2</RequestId></Error>".to_owned(),
                        ),
                        Behaviour::DynamoThrottled => (
                            "400 Bad Request",
                            "content-type: application/x-amz-json-1.0\r\n",
                            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#.to_owned(),
                        ),
                    };
                    let resp = format!(
                        "HTTP/1.1 {status}\r\n{headers}x-amz-request-id: FAKE-REQ\r\nx-amzn-requestid: FAKE-REQ\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if sock.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Fake { url, requests, heads }
}

#[tokio::test]
async fn s3_throttling_is_retried_then_reported_with_the_attempt_count() {
    let f = fake(Behaviour::S3SlowDown).await;
    let mcp = Mcp::start_against("aws-s3-mcp", &["--region", "us-east-1", "--max-attempts", "3"], &f.url).await;
    let before = f.requests.load(Ordering::SeqCst);
    let e = mcp.err("list_objects", json!({"bucket": "busy"})).await;
    assert_eq!(e["code"], "SlowDown");
    assert_eq!(e["http_status"], 503);
    assert_eq!(e["retryable"], true);
    assert!(e["hint"].as_str().unwrap().contains("tried 3 times"), "{e}");
    // One HEAD for the bucket's region, then three ListObjectsV2 attempts.
    assert_eq!(f.requests.load(Ordering::SeqCst) - before, 4);
}

#[tokio::test]
async fn s3_access_denied_names_the_iam_action() {
    let f = fake(Behaviour::S3AccessDenied).await;
    let mcp = Mcp::start_against("aws-s3-mcp", &["--region", "us-east-1"], &f.url).await;
    let e = mcp.err("list_objects", json!({"bucket": "locked"})).await;
    assert_eq!(e["code"], "AccessDenied");
    assert_eq!(e["http_status"], 403);
    assert_eq!(e["retryable"], false);
    assert!(e["hint"].as_str().unwrap().contains("s3:ListBucket"), "{e}");
    assert!(e["message"].as_str().unwrap().contains("not authorized"));
    assert!(e["request_id"].is_string());
    // The user agent names the suite, the server and its version.
    let heads = f.heads.lock().unwrap();
    let ua = heads[0]
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("user-agent:"))
        .unwrap();
    assert!(ua.contains("app/aws-mcp#aws-s3-mcp#"), "{ua}");
}

#[tokio::test]
async fn dynamodb_throttling_is_retried_then_reported() {
    let f = fake(Behaviour::DynamoThrottled).await;
    let mcp = Mcp::start_against(
        "aws-dynamodb-mcp",
        &["--region", "us-east-1", "--max-attempts", "2"],
        &f.url,
    )
    .await;
    let before = f.requests.load(Ordering::SeqCst);
    let e = mcp.err("list_tables", json!({})).await;
    assert_eq!(e["code"], "ProvisionedThroughputExceededException");
    assert_eq!(e["retryable"], true);
    assert!(e["hint"].as_str().unwrap().contains("tried 2 times"), "{e}");
    assert_eq!(f.requests.load(Ordering::SeqCst) - before, 2);
}

#[tokio::test]
async fn a_silent_endpoint_times_out_and_is_named() {
    let f = fake(Behaviour::Silent).await;
    let mcp = Mcp::start_against(
        "aws-s3-mcp",
        &[
            "--region",
            "us-east-1",
            "--operation-timeout-secs",
            "1",
            "--max-attempts",
            "1",
        ],
        &f.url,
    )
    .await;
    let started = std::time::Instant::now();
    let e = mcp.err("list_buckets", json!({})).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the timeout must bound the call"
    );
    assert_eq!(e["kind"], "transport");
    assert_eq!(e["endpoint"], f.url.as_str());
    assert!(e["summary"].as_str().unwrap().contains("timeout"), "{e}");
    assert_eq!(e["retryable"], true);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_named() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mcp = Mcp::start_against(
        "aws-dynamodb-mcp",
        &["--region", "us-east-1", "--max-attempts", "1"],
        &url,
    )
    .await;
    let e = mcp.err("list_tables", json!({})).await;
    assert_eq!(e["kind"], "transport");
    assert_eq!(e["endpoint"], url.as_str());
    let summary = e["summary"].as_str().unwrap();
    assert!(summary.contains("unreachable") && summary.contains(&url), "{summary}");
    // The server keeps serving after a failure.
    assert_eq!(mcp.err("list_tables", json!({})).await["kind"], "transport");
}
