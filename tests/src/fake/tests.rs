use super::*;
use aws_smithy_types::retry::RetryConfig;
use serde_json::json;

async fn conf(fake: &Fake, attempts: u32) -> aws_config::SdkConfig {
    crate::sdk_config_at(&fake.url())
        .await
        .into_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .timeout_config(
            aws_smithy_types::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(2))
                .build(),
        )
        .build()
}

#[test]
fn routes_and_decoding() {
    let Match::Rest { segments, query, .. } = parse_route("GET /{bucket}/{key+}?list-type=2") else {
        panic!()
    };
    assert_eq!(query, [("list-type".to_owned(), Some("2".to_owned()))]);
    let p = match_path(&segments, "/b/a/b%20c").unwrap();
    assert_eq!(p["bucket"], "b");
    assert_eq!(p["key"], "a/b c");
    assert!(match_path(&segments, "/b").is_none());
    assert_eq!(decode("a%2Fb+c%", true), "a/b c%");
    assert_eq!(
        pairs("Action=AssumeRole&Policy=%7B%22a%22%7D"),
        [
            ("Action".to_owned(), "AssumeRole".to_owned()),
            ("Policy".to_owned(), "{\"a\"}".to_owned())
        ]
    );
}

#[tokio::test]
async fn aws_json_errors_throttling_and_the_request_log() {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    use aws_sdk_dynamodb::operation::RequestId;
    let fake = Fake::start().await;
    fake.on_target(
        "DynamoDB_20120810.ListTables",
        throttle(2, Reply::json(json!({"TableNames": ["a", "b"]}))),
    );
    fake.on_target(
        "GetItem",
        Reply::error(400, "ResourceNotFoundException", "Requested resource not found"),
    );
    let db = aws_sdk_dynamodb::Client::new(&conf(&fake, 3).await);
    let out = db.list_tables().send().await.expect("third attempt succeeds");
    assert_eq!(out.table_names(), ["a", "b"]);
    assert_eq!(fake.requests_for("ListTables").len(), 3);
    assert_eq!(fake.requests()[0].protocol, Protocol::AwsJson10);

    let err = db
        .get_item()
        .table_name("t")
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(err.message(), Some("Requested resource not found"));
    let id = err.request_id().expect("request id parsed");
    assert!(id.starts_with("FAKE-"), "{id}");
    let get = &fake.requests_for("GetItem")[0];
    assert_eq!(get.json()["TableName"], "t");

    // An operation without a handler is named in the error.
    let err = db.describe_table().table_name("t").send().await.unwrap_err();
    assert_eq!(err.code(), Some("UnknownOperationException"));
    assert!(err.message().unwrap().contains("DescribeTable"), "{err:?}");
}

#[tokio::test]
async fn rest_xml_errors_and_path_parameters() {
    use aws_sdk_s3::error::ProvideErrorMetadata;
    use aws_sdk_s3::operation::RequestId;
    let fake = Fake::start().await;
    fake.on_xml("ListObjectsV2", "GET /{bucket}?list-type=2", |r: &Request| {
        match r.param("bucket") {
            Some("there") => Reply::xml(
                "<ListBucketResult><Name>there</Name><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated>\
                 <Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>",
            ),
            _ => Reply::error(404, "NoSuchBucket", "The specified bucket does not exist"),
        }
    });
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf(&fake, 1).await)
            .force_path_style(true)
            .build(),
    );
    let ok = s3.list_objects_v2().bucket("there").send().await.unwrap();
    assert_eq!(ok.contents()[0].key(), Some("k"));
    let err = s3.list_objects_v2().bucket("gone").send().await.unwrap_err();
    assert_eq!(err.code(), Some("NoSuchBucket"));
    assert!(err.request_id().unwrap().starts_with("FAKE-"));
    assert_eq!(fake.requests_for("ListObjectsV2").len(), 2);
    // Throttling in REST-XML is S3's 503 SlowDown.
    fake.on_xml("ListObjectsV2", "GET /{bucket}?list-type=2", Reply::throttled());
    let err = s3.list_objects_v2().bucket("there").send().await.unwrap_err();
    assert_eq!(err.code(), Some("SlowDown"));
}

#[tokio::test]
async fn rest_json_errors_headers_and_bodies() {
    use aws_sdk_lambda::error::ProvideErrorMetadata;
    let fake = Fake::start().await;
    fake.on_json(
        "Invoke",
        "POST /2015-03-31/functions/{name}/invocations",
        |r: &Request| match r.param("name") {
            Some("echo") => Reply::json(r.json().clone()).header("x-amz-executed-version", "$LATEST"),
            _ => Reply::error(404, "ResourceNotFoundException", "Function not found"),
        },
    );
    let lambda = aws_sdk_lambda::Client::new(&conf(&fake, 1).await);
    let out = lambda
        .invoke()
        .function_name("echo")
        .client_context("eyJjdXN0b20iOnt9fQ==")
        .payload(aws_smithy_types::Blob::new(br#"{"a":1}"#.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.payload().unwrap().as_ref(), br#"{"a":1}"#);
    assert_eq!(out.executed_version(), Some("$LATEST"));
    let sent = &fake.requests_for("Invoke")[0];
    assert_eq!(sent.header("X-Amz-Client-Context"), Some("eyJjdXN0b20iOnt9fQ=="));
    let err = lambda.invoke().function_name("nope").send().await.unwrap_err();
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(err.message(), Some("Function not found"));
}

#[tokio::test]
async fn query_protocol_results_errors_and_form_fields() {
    use aws_sdk_sts::error::ProvideErrorMetadata;
    use aws_sdk_sts::operation::RequestId;
    let fake = Fake::start().await;
    fake.on_action(
        "AssumeRole",
        Reply::query_result(
            "AssumeRole",
            "<Credentials><AccessKeyId>ASIAFAKE</AccessKeyId><SecretAccessKey>s</SecretAccessKey>\
             <SessionToken>t</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>\
             <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>",
        ),
    );
    fake.on_action(
        "GetCallerIdentity",
        Reply::error(403, "AccessDenied", "not authorized to perform: sts:GetCallerIdentity"),
    );
    let sts = aws_sdk_sts::Client::new(&conf(&fake, 1).await);
    let out = sts
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/r")
        .role_session_name("s")
        .policy(r#"{"Version":"2012-10-17"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(out.credentials().unwrap().access_key_id(), "ASIAFAKE");
    let sent = &fake.requests_for("AssumeRole")[0];
    assert_eq!(sent.form_field("Policy"), Some(r#"{"Version":"2012-10-17"}"#));
    assert_eq!(sent.protocol, Protocol::Query);
    let err = sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    assert!(err.request_id().unwrap().starts_with("FAKE-"));
}

#[tokio::test]
async fn resets_truncation_malformed_bodies_and_delays_fail_the_call() {
    use aws_sdk_dynamodb::error::SdkError;
    let fake = Fake::start().await;
    let db = aws_sdk_dynamodb::Client::new(&conf(&fake, 1).await);
    fake.on_target("ListTables", Reply::reset());
    let err = db.list_tables().send().await.unwrap_err();
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");
    fake.on_target("ListTables", Reply::truncated(r#"{"TableNames": ["#));
    let err = db.list_tables().send().await.unwrap_err();
    assert!(!matches!(err, SdkError::ServiceError(_)), "{err:?}");
    fake.on_target("ListTables", Reply::malformed());
    let err = db.list_tables().send().await.unwrap_err();
    assert!(
        matches!(err, SdkError::ResponseError(_) | SdkError::ServiceError(_)),
        "{err:?}"
    );
    fake.on_target(
        "ListTables",
        Reply::delay(Duration::from_secs(10), Reply::json(json!({}))),
    );
    let err = db.list_tables().send().await.unwrap_err();
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    fake.on_target("ListTables", Reply::server_error(500));
    let err = db.list_tables().send().await.unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert_eq!(fake.requests_for("ListTables").len(), 5);
}
