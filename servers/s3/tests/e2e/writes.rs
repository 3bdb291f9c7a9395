//! Write tools: hidden without `--allow-writes`, working with it.

use aws_mcp_tests::{Mcp, fixtures::s3::bucket_with, s3};
use serde_json::json;

use crate::BIN;

#[tokio::test]
async fn write_tools_are_absent_without_the_flag_and_work_with_it() {
    let bucket = bucket_with(&[]).await;
    let ro = Mcp::start(BIN, &[]).await;
    let names = ro.tool_names().await;
    for write in ["copy_object", "delete_object", "put_object"] {
        assert!(
            !names.iter().any(|n| n == write),
            "{write} listed without --allow-writes"
        );
    }
    ro.assert_not_enabled(
        "put_object",
        json!({"bucket": bucket, "key": "k", "text": "x"}),
        "--allow-writes",
    )
    .await;
    assert!(
        s3().await.head_object().bucket(&bucket).key("k").send().await.is_err(),
        "nothing was written"
    );

    let rw = Mcp::start(BIN, &["--allow-writes"]).await;
    let tools = rw.client.list_all_tools().await.unwrap();
    let delete = tools
        .iter()
        .find(|t| t.name == "delete_object")
        .expect("listed with --allow-writes");
    assert_eq!(delete.annotations.as_ref().unwrap().destructive_hint, Some(true));
    assert_eq!(delete.annotations.as_ref().unwrap().read_only_hint, Some(false));

    let put = rw
        .ok(
            "put_object",
            json!({"bucket": bucket, "key": "notes/a.txt", "text": "héllo", "metadata": {"owner": "e2e"}}),
        )
        .await;
    assert_eq!(put["size"], "héllo".len());
    let head = rw
        .ok("head_object", json!({"bucket": bucket, "key": "notes/a.txt"}))
        .await;
    assert_eq!(head["content_type"], "text/plain; charset=utf-8");
    assert_eq!(head["metadata"]["owner"], "e2e");
    let e = rw
        .err(
            "put_object",
            json!({"bucket": bucket, "key": "notes/a.txt", "text": "again", "if_not_exists": true}),
        )
        .await;
    assert_eq!(e["http_status"], 412, "{e}");

    rw.ok(
        "put_object",
        json!({"bucket": bucket, "key": "raw.bin", "base64": "AAEC/w=="}),
    )
    .await;
    assert_eq!(
        s3().await
            .get_object()
            .bucket(&bucket)
            .key("raw.bin")
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .to_vec(),
        [0, 1, 2, 255]
    );

    rw.ok(
        "copy_object",
        json!({"source_bucket": bucket, "source_key": "notes/a.txt", "bucket": bucket, "key": "copy of a.txt"}),
    )
    .await;
    assert_eq!(
        rw.ok("get_object", json!({"bucket": bucket, "key": "copy of a.txt"}))
            .await["text"],
        "héllo"
    );

    rw.ok("delete_object", json!({"bucket": bucket, "key": "notes/a.txt"}))
        .await;
    assert_eq!(
        rw.err("head_object", json!({"bucket": bucket, "key": "notes/a.txt"}))
            .await["code"],
        "NoSuchKey"
    );
    let e = rw
        .err(
            "put_object",
            json!({"bucket": bucket, "key": "k", "text": "a", "base64": "YQ=="}),
        )
        .await;
    assert_eq!(e["field"], "text");
}
