//! Reading objects and bucket metadata: clipping with continuation ranges, binary objects,
//! head_object, get_bucket_info and its cache, presigned URLs, list_buckets.

use aws_mcp_tests::{
    Mcp,
    fixtures::s3::{PNG, bucket_with},
    s3,
};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;

use crate::BIN;

#[tokio::test]
async fn a_large_text_object_is_clipped_with_a_correct_continuation_range() {
    // Multi-byte characters, quotes and newlines: clipping must respect UTF-8 and JSON escaping.
    let line = "ünïcödé \"quoted\" text, line of a large log file\n";
    let body: String = (0..4_000).map(|i| format!("{i:05} {line}")).collect();
    assert!(body.len() > 200_000);
    let bucket = bucket_with(&[("big.log", body.as_bytes(), "text/plain; charset=utf-8")]).await;
    let mcp = Mcp::start(BIN, &["--max-output-tokens", "10000"]).await;

    let first = mcp.ok("get_object", json!({"bucket": bucket, "key": "big.log"})).await;
    assert_eq!(first["size"], body.len());
    let next = first["next_range_start"].as_u64().expect("clipped, so a continuation");
    let text = first["text"].as_str().unwrap();
    assert_eq!(next as usize, text.len(), "the range covers exactly the text returned");
    assert_eq!(first["range"]["start"], 0);
    assert_eq!(first["range"]["end"], next - 1);
    assert_eq!(first["truncated"]["clipped_strings"][0]["path"], "/text");
    assert!(
        first["truncated"]["how_to_get_the_rest"]
            .as_str()
            .unwrap()
            .contains(&format!("range_start={next}"))
    );
    assert!(
        serde_json::to_string(&first).unwrap().len() <= 40_000,
        "result stays within the budget"
    );

    // Following the ranges reassembles the object byte for byte.
    let mut whole = text.to_owned();
    let mut at = next;
    let mut calls = 1;
    while (at as usize) < body.len() {
        let part = mcp
            .ok(
                "get_object",
                json!({"bucket": bucket, "key": "big.log", "range_start": at}),
            )
            .await;
        assert_eq!(part["range"]["start"], at);
        whole.push_str(part["text"].as_str().unwrap());
        calls += 1;
        match part["next_range_start"].as_u64() {
            Some(n) => at = n,
            None => break,
        }
    }
    assert!(calls > 3);
    assert_eq!(whole, body);

    // A range starting inside a multi-byte character skips to the next character boundary.
    let inside = body.find('ü').unwrap() as u64 + 1;
    let part = mcp
        .ok(
            "get_object",
            json!({"bucket": bucket, "key": "big.log", "range_start": inside, "max_bytes": 10}),
        )
        .await;
    assert_eq!(part["range"]["start"], inside + 1);
    assert!(part["text"].as_str().unwrap().starts_with('n'));
}

#[tokio::test]
async fn binary_objects_are_never_inlined() {
    let png = PNG;
    let blob: Vec<u8> = (0..=255u8).cycle().take(5_000).collect();
    let bucket = bucket_with(&[
        ("img.png", &png, "image/png"),
        ("blob.bin", &blob, "binary/octet-stream"),
    ])
    .await;
    let mcp = Mcp::start(BIN, &[]).await;
    for (key, bytes) in [("img.png", png.to_vec()), ("blob.bin", blob)] {
        let out = mcp.ok("get_object", json!({"bucket": bucket, "key": key})).await;
        assert_eq!(out["binary"], true, "{key}");
        assert!(out.get("text").is_none(), "{key} must not be inlined");
        assert_eq!(out["size"], bytes.len());
        // The presigned URL really serves the object.
        let url = out["presigned_url"].as_str().unwrap();
        let (status, fetched) = aws_mcp_tests::http_get(url).await;
        assert!((200..300).contains(&status), "{status}");
        assert_eq!(fetched, bytes);
    }
}

#[tokio::test]
async fn head_object_bucket_info_and_presign() {
    let bucket = bucket_with(&[]).await;
    let s3 = s3().await;
    s3.put_object()
        .bucket(&bucket)
        .key("m.json")
        .content_type("application/json")
        .metadata("team", "data")
        .body(ByteStream::from_static(b"{\"a\":1}"))
        .send()
        .await
        .unwrap();
    s3.put_bucket_tagging()
        .bucket(&bucket)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("env")
                        .value("test")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let mcp = Mcp::start(BIN, &[]).await;
    let head = mcp.ok("head_object", json!({"bucket": bucket, "key": "m.json"})).await;
    assert_eq!(head["size"], 7);
    assert_eq!(head["content_type"], "application/json");
    assert_eq!(head["metadata"], json!({"team": "data"}));
    assert!(head["etag"].as_str().unwrap().len() > 10);

    let info = mcp.ok("get_bucket_info", json!({"bucket": bucket})).await;
    assert_eq!(info["region"], aws_mcp_tests::region());
    assert_eq!(info["versioning"]["status"], "Disabled (never enabled)");
    assert_eq!(info["tags"]["tags"], json!({"env": "test"}));
    assert!(info.get("from_cache").is_none());
    // Every part is present: a value, "not configured", or that part's own error.
    for part in ["encryption", "public_access_block", "policy_status"] {
        assert!(info[part].is_object(), "{part}: {info}");
    }
    let again = mcp.ok("get_bucket_info", json!({"bucket": bucket})).await;
    assert_eq!(again["from_cache"], true);

    let url = mcp
        .ok(
            "presign_url",
            json!({"bucket": bucket, "key": "m.json", "expires_in_secs": 60}),
        )
        .await;
    assert_eq!(url["expires_in_secs"], 60);
    let (status, body) = aws_mcp_tests::http_get(url["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body, b"{\"a\":1}");
}

#[tokio::test]
async fn list_buckets_reports_region_and_creation_date() {
    let bucket = bucket_with(&[]).await;
    let mcp = Mcp::start(BIN, &[]).await;
    let prefix = &bucket[..bucket.len() - 4];
    let page = mcp.ok("list_buckets", json!({"prefix": prefix})).await;
    let b = page["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == bucket.as_str())
        .expect("listed");
    assert_eq!(b["region"], aws_mcp_tests::region());
    assert!(b["created"].as_str().unwrap().ends_with('Z'));
}
