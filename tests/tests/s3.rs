//! `aws-s3-mcp` end to end: the real binary over stdio, LocalStack behind it.

use std::collections::{BTreeSet, HashSet};

use aws_mcp_tests::{Mcp, s3, unique};
use aws_sdk_s3::primitives::ByteStream;
use futures::StreamExt;
use rmcp::model::{PaginatedRequestParams, ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

const BIN: &str = "aws-s3-mcp";

async fn bucket_with(objects: &[(&str, &[u8], &str)]) -> String {
    let name = unique("e2e");
    let s3 = s3().await;
    s3.create_bucket().bucket(&name).send().await.expect("create bucket");
    for (key, body, ct) in objects {
        s3.put_object()
            .bucket(&name)
            .key(*key)
            .content_type(*ct)
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .unwrap();
    }
    name
}

/// Put `n` small objects `{prefix}{i:05}` concurrently.
async fn fill(bucket: &str, prefix: &str, n: usize) -> BTreeSet<String> {
    let s3 = s3().await;
    let keys: BTreeSet<String> = (0..n).map(|i| format!("{prefix}{i:05}")).collect();
    futures::stream::iter(keys.iter().cloned())
        .map(|k| {
            let s3 = s3.clone();
            async move {
                s3.put_object()
                    .bucket(bucket)
                    .key(k)
                    .body(ByteStream::from_static(b"x"))
                    .send()
                    .await
                    .unwrap()
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    keys
}

/// Follow list_objects cursors to the end; every key returned, in order of arrival.
async fn list_all(mcp: &Mcp, args: Value) -> (Vec<String>, usize) {
    let (mut keys, mut calls, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let mut a = args.clone();
        if let Some(c) = &cursor {
            a["cursor"] = json!(c);
        }
        let page = mcp.ok("list_objects", a).await;
        calls += 1;
        keys.extend(
            page["objects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["key"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (keys, calls),
        }
        assert!(calls < 1000, "runaway paging");
    }
}

#[tokio::test]
async fn paging_through_more_than_1000_objects_returns_every_key_exactly_once() {
    let bucket = bucket_with(&[]).await;
    let expected = fill(&bucket, "k/", 1_050).await;

    // A budget large enough for a full page of 1,000 (the default ~20k tokens holds about 800).
    let mcp = Mcp::start(BIN, &["--max-output-tokens", "40000"]).await;
    let (keys, calls) = list_all(&mcp, json!({"bucket": bucket, "page_size": 1000})).await;
    assert_eq!(calls, 2, "1,050 keys at 1,000 a page");
    assert_eq!(keys.len(), 1_050, "no key twice");
    assert_eq!(keys.iter().cloned().collect::<BTreeSet<_>>(), expected);

    // A tight output budget cuts AWS pages into several calls; still every key exactly once.
    let tight = Mcp::start(BIN, &["--max-output-tokens", "2000"]).await;
    let (keys, calls) = list_all(&tight, json!({"bucket": bucket, "page_size": 1000})).await;
    assert!(calls > 2, "the budget should have forced more calls, got {calls}");
    assert_eq!(keys.len(), 1_050);
    assert_eq!(keys.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn a_budget_cut_page_says_so_and_how_to_continue() {
    let bucket = bucket_with(&[]).await;
    fill(&bucket, "deep/path/to/a/longish/key/name/", 300).await;
    let mcp = Mcp::start(BIN, &["--max-output-tokens", "2000"]).await;
    let page = mcp
        .ok("list_objects", json!({"bucket": bucket, "page_size": 300}))
        .await;
    let n = page["objects"].as_array().unwrap().len();
    assert!(n > 0 && n < 300);
    let note = &page["truncated"];
    assert_eq!(note["dropped_items"][0]["kept"], n);
    assert_eq!(note["dropped_items"][0]["dropped"], 300 - n);
    assert!(note["how_to_get_the_rest"].as_str().unwrap().contains("cursor"));
    assert!(page["next_cursor"].is_string());
}

#[tokio::test]
async fn a_delimiter_groups_keys_into_folders() {
    let bucket = bucket_with(&[
        ("a/1.txt", b"1", "text/plain"),
        ("a/2.txt", b"2", "text/plain"),
        ("b/c/3.txt", b"3", "text/plain"),
        ("top.txt", b"t", "text/plain"),
    ])
    .await;
    let mcp = Mcp::start(BIN, &[]).await;
    let page = mcp
        .ok("list_objects", json!({"bucket": bucket, "delimiter": "/"}))
        .await;
    assert_eq!(page["folders"], json!(["a/", "b/"]));
    let objects = page["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["key"], "top.txt");
    assert_eq!(objects[0]["size"], 5 - 4);
    assert_eq!(objects[0]["storage_class"], "STANDARD");
    assert!(objects[0]["last_modified"].as_str().unwrap().ends_with('Z'));

    let inner = mcp
        .ok(
            "list_objects",
            json!({"bucket": bucket, "delimiter": "/", "prefix": "b/"}),
        )
        .await;
    assert_eq!(inner["folders"], json!(["b/c/"]));
    assert_eq!(inner["objects"], json!([]));
}

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
    let png = [
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
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
        let fetched = reqwest::get(url).await.unwrap();
        assert!(fetched.status().is_success(), "{}", fetched.status());
        assert_eq!(fetched.bytes().await.unwrap().to_vec(), bytes);
    }
}

#[tokio::test]
async fn missing_bucket_and_missing_key_are_tool_errors_with_their_aws_codes() {
    let bucket = bucket_with(&[("k", b"v", "text/plain")]).await;
    let mcp = Mcp::start(BIN, &[]).await;
    let e = mcp
        .err("get_object", json!({"bucket": unique("missing"), "key": "k"}))
        .await;
    assert_eq!(e["code"], "NoSuchBucket");
    assert_eq!(e["http_status"], 404);
    assert!(e["request_id"].is_string());
    assert!(e["hint"].as_str().unwrap().contains("list_buckets"));
    let e = mcp.err("list_objects", json!({"bucket": unique("missing")})).await;
    assert_eq!(e["code"], "NoSuchBucket");
    let e = mcp
        .err("get_object", json!({"bucket": bucket, "key": "nope.txt"}))
        .await;
    assert_eq!(e["code"], "NoSuchKey");
    assert_eq!(e["kind"], "aws");
    let e = mcp
        .err("head_object", json!({"bucket": bucket, "key": "nope.txt"}))
        .await;
    assert_eq!(e["code"], "NoSuchKey");
    // The server keeps serving after errors.
    assert_eq!(
        mcp.ok("get_object", json!({"bucket": bucket, "key": "k"})).await["text"],
        "v"
    );
}

#[tokio::test]
async fn bad_arguments_name_the_field() {
    let mcp = Mcp::start(BIN, &[]).await;
    let e = mcp.err("list_objects", json!({})).await;
    assert_eq!(
        (e["kind"].as_str(), e["field"].as_str()),
        (Some("invalid_argument"), Some("bucket"))
    );
    let e = mcp.err("list_objects", json!({"bucket": "b", "page_size": 5000})).await;
    assert_eq!(e["field"], "page_size");
    assert!(e["summary"].as_str().unwrap().contains("between 1 and 1000"));
    let e = mcp.err("list_objects", json!({"bucket": "b", "prefx": "a"})).await;
    assert_eq!(e["field"], "prefx");
    assert!(e["summary"].as_str().unwrap().contains("prefix"));
    let e = mcp
        .err(
            "presign_url",
            json!({"bucket": "b", "key": "k", "expires_in_secs": 999999}),
        )
        .await;
    assert_eq!(e["field"], "expires_in_secs");
    let e = mcp
        .err("find_objects", json!({"bucket": "b", "pattern": "[unclosed"}))
        .await;
    assert_eq!(e["field"], "pattern");
}

#[tokio::test]
async fn the_allowlist_refuses_other_buckets_everywhere() {
    let allowed = bucket_with(&[("k", b"v", "text/plain")]).await;
    let other = bucket_with(&[("k", b"v", "text/plain")]).await;
    let mcp = Mcp::start(BIN, &["--bucket", &allowed]).await;
    for (tool, args) in [
        ("get_object", json!({"bucket": other, "key": "k"})),
        ("list_objects", json!({"bucket": other})),
        ("head_object", json!({"bucket": other, "key": "k"})),
        ("get_bucket_info", json!({"bucket": other})),
        ("presign_url", json!({"bucket": other, "key": "k"})),
        ("find_objects", json!({"bucket": other, "pattern": "*"})),
    ] {
        let e = mcp.err(tool, args).await;
        assert_eq!(e["kind"], "not_allowed", "{tool}");
        assert_eq!(e["name"], other.as_str());
    }
    assert_eq!(
        mcp.ok("get_object", json!({"bucket": allowed, "key": "k"})).await["text"],
        "v"
    );
    // Listings only show allowed buckets.
    let names: Vec<String> = all_buckets(&mcp).await;
    assert!(names.contains(&allowed) && !names.contains(&other));
    // Resources too.
    let err = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!("s3://{other}/k")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("allowlist"), "{err}");
}

async fn all_buckets(mcp: &Mcp) -> Vec<String> {
    let (mut names, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let mut args = json!({"page_size": 1000});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = mcp.ok("list_buckets", args).await;
        names.extend(
            page["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["name"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return names,
        }
    }
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
    assert_eq!(b["region"], aws_mcp_tests::endpoints().region);
    assert!(b["created"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn write_tools_are_absent_without_the_flag_and_work_with_it() {
    let bucket = bucket_with(&[]).await;
    let ro = Mcp::start(BIN, &[]).await;
    let names = ro.tool_names().await;
    assert_eq!(
        names,
        [
            "find_objects",
            "get_bucket_info",
            "get_object",
            "head_object",
            "list_buckets",
            "list_objects",
            "presign_url"
        ]
    );
    let args = json!({"bucket": bucket, "key": "k", "text": "x"})
        .as_object()
        .cloned()
        .unwrap();
    let refused = ro
        .client
        .call_tool(rmcp::model::CallToolRequestParams::new("put_object").with_arguments(args))
        .await;
    assert!(refused.is_err(), "an unlisted tool cannot be called either");
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

#[tokio::test]
async fn a_forged_or_replayed_cursor_is_refused() {
    let bucket = bucket_with(&[]).await;
    fill(&bucket, "p/", 30).await;
    let mcp = Mcp::start(BIN, &[]).await;
    let page = mcp.ok("list_objects", json!({"bucket": bucket, "page_size": 10})).await;
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();

    // Edited: flip a character of the payload.
    let mut forged = cursor.clone().into_bytes();
    forged[2] = if forged[2] == b'A' { b'B' } else { b'A' };
    let e = mcp
        .err(
            "list_objects",
            json!({"bucket": bucket, "page_size": 10, "cursor": String::from_utf8(forged).unwrap()}),
        )
        .await;
    assert_eq!(e["kind"], "invalid_cursor");
    assert!(e["summary"].as_str().unwrap().contains("modified"));
    // Replayed with different arguments.
    let e = mcp
        .err(
            "list_objects",
            json!({"bucket": bucket, "prefix": "q/", "cursor": cursor}),
        )
        .await;
    assert_eq!(e["kind"], "invalid_cursor");
    assert!(e["summary"].as_str().unwrap().contains("different arguments"));
    // Given to another tool.
    let e = mcp
        .err(
            "find_objects",
            json!({"bucket": bucket, "pattern": "*", "cursor": cursor}),
        )
        .await;
    assert_eq!(e["kind"], "invalid_cursor");
    // The genuine cursor still works, and page size may change.
    let next = mcp
        .ok(
            "list_objects",
            json!({"bucket": bucket, "page_size": 20, "cursor": cursor}),
        )
        .await;
    assert_eq!(next["objects"].as_array().unwrap().len(), 20);
    assert_eq!(next["objects"][0]["key"], "p/00010");
}

#[tokio::test]
async fn find_objects_globs_caps_the_scan_and_resumes() {
    let bucket = bucket_with(&[
        ("data/2024/a.csv", b"1", "text/csv"),
        ("data/2024/b.json", b"1", "application/json"),
        ("data/2025/c.csv", b"1", "text/csv"),
        ("other/d.csv", b"1", "text/csv"),
    ])
    .await;
    fill(&bucket, "data/2024/z-", 50).await;
    let mcp = Mcp::start(BIN, &[]).await;
    let keys = |v: &Value| {
        v["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["key"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    let all = mcp
        .ok("find_objects", json!({"bucket": bucket, "pattern": "*.csv"}))
        .await;
    assert_eq!(keys(&all), ["data/2024/a.csv", "data/2025/c.csv", "other/d.csv"]);
    assert_eq!(all["scan_complete"], true);
    assert!(all["next_cursor"].is_null());

    let scoped = mcp
        .ok("find_objects", json!({"bucket": bucket, "pattern": "data/*/*.csv"}))
        .await;
    assert_eq!(keys(&scoped), ["data/2024/a.csv", "data/2025/c.csv"]);
    assert!(scoped["keys_scanned"].as_u64().unwrap() < 56, "narrowed to data/");

    // A small scan cap: several calls, the scan resumes where it stopped, nothing repeated.
    let (mut found, mut cursor, mut calls) = (Vec::new(), None::<String>, 0);
    loop {
        let mut args = json!({"bucket": bucket, "pattern": "*.csv", "max_keys_scanned": 10});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let r = mcp.ok("find_objects", args).await;
        calls += 1;
        assert!(r["keys_scanned"].as_u64().unwrap() <= 10);
        found.extend(keys(&r));
        if r["scan_complete"] == true {
            break;
        }
        cursor = Some(
            r["next_cursor"]
                .as_str()
                .expect("unfinished scans give a cursor")
                .to_owned(),
        );
    }
    assert!(calls >= 6, "54 keys at 10 per call, got {calls}");
    assert_eq!(found, ["data/2024/a.csv", "data/2025/c.csv", "other/d.csv"]);
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
    assert_eq!(info["region"], aws_mcp_tests::endpoints().region);
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
    let body = reqwest::get(url["url"].as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "{\"a\":1}");
}

#[tokio::test]
async fn resources_templates_and_completions() {
    let bucket = bucket_with(&[
        ("docs/readme.md", b"# hi", "text/markdown"),
        ("docs/guide.md", b"g", "text/markdown"),
    ])
    .await;
    let mcp = Mcp::start(BIN, &["--bucket", &bucket]).await;

    let templates = mcp.client.list_all_resource_templates().await.unwrap();
    assert_eq!(templates[0].uri_template, "s3://{bucket}/{key}");

    let listed = mcp
        .client
        .list_resources(Some(PaginatedRequestParams::default()))
        .await
        .unwrap();
    let uris: HashSet<String> = listed.resources.iter().map(|r| r.uri.clone()).collect();
    assert_eq!(
        uris,
        HashSet::from([format!("s3://{bucket}/")]),
        "only the allowed bucket"
    );

    let read = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!("s3://{bucket}/docs/readme.md")))
        .await
        .unwrap();
    match &read.contents[0] {
        ResourceContents::TextResourceContents { text, mime_type, .. } => {
            assert_eq!(text, "# hi");
            assert_eq!(mime_type.as_deref(), Some("text/markdown"));
        }
        other => panic!("expected text, got {other:?}"),
    }
    let listing = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!("s3://{bucket}/")))
        .await
        .unwrap();
    match &listing.contents[0] {
        ResourceContents::TextResourceContents { text, .. } => {
            assert_eq!(
                serde_json::from_str::<Value>(text).unwrap()["folders"],
                json!(["docs/"])
            );
        }
        other => panic!("expected text, got {other:?}"),
    }
    let err = mcp
        .client
        .read_resource(ReadResourceRequestParams::new(format!("s3://{bucket}/missing")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NoSuchKey"), "{err}");

    let prefix = &bucket[..6];
    let names = mcp
        .client
        .complete_resource_simple("s3://{bucket}/{key}", "bucket", prefix)
        .await
        .unwrap();
    assert_eq!(names, vec![bucket], "allowlist-filtered completions");
}

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
