//! The end-to-end test rig: start the real server binaries, speak MCP to them, and prepare data
//! with the real AWS SDK against the emulators (LocalStack, moto's server) or a fake endpoint.
//! Endpoints come only from the standard `AWS_ENDPOINT_URL*` variables, so the same tests run
//! against the docker-compose emulators.
//!
//! | module | what it gives a test |
//! |---|---|
//! | [`emulators`] | which emulator serves which [`Service`], its `AWS_ENDPOINT_URL_<SERVICE>`, [`require`] (fail at once, naming `localstack/start.sh`), the registry of servers → services |
//! | [`mcp`] | [`Mcp`]: start a server over stdio ([`Mcp::start`], [`Mcp::builder`] for endpoints, env, logs), `call`/`ok`/`err`, [`Mcp::pages`] (follow cursors), [`Mcp::call_raw`] (raw JSON-RPC lines), [`RawSession`] |
//! | [`fake`] | [`fake::Fake`]: a local AWS endpoint speaking awsJson, REST-JSON, REST-XML and query, with canned faults and a request log |
//! | [`contract`] | [`contract_tests!`]: the checks every server must pass, generated from its live `tools/list` |
//! | [`schema_sample`] | arguments generated from a tool's `inputSchema` (contract and hostile input share it) |
//! | [`hostile`] | hostile input generated from `tools/list` for every tool and argument, run against one server process with a normal call after each case, and the outcome table (issue 13) |
//! | [`cli`] | [`cli_tests!`]: command-line checks without AWS |
//! | [`fixtures`] | buckets, objects and tables made with the SDK, shared by tests, demo and bench |
//! | [`proc`] | [`Proc`] (a child process read line by line), [`HttpServer`], [`server_bin`], [`unique`], [`free_port`] |
//! | [`lambda`] | [`LambdaEmulator`]: cargo-lambda's runtime emulator |
//! | [`scan`] | the secret scan every server started through [`Mcp`], [`RawSession`] or [`spawn_server`] passes: credentials, session tokens and [`fixtures::planted`] secrets in any output line fail the test |
//!
//! SDK clients: [`sdk_config`] (a service's emulator) and [`sdk_config_at`] (any URL, e.g. a fake),
//! then `aws_sdk_x::Client::new(&conf)`; [`s3`] and [`dynamodb`] are ready-made.
//!
//! A new server's end-to-end tests: a row in [`emulators::SERVERS`], a fixture module, and
//! `servers/<x>/tests/e2e/main.rs` with `contract.rs` (`contract_tests!`), `cli.rs` (`cli_tests!`)
//! and topic modules (see `servers/s3/tests/e2e/`).

pub mod cli;
pub mod contract;
pub mod emulators;
pub mod fake;
pub mod fixtures;
pub mod hostile;
pub mod lambda;
pub mod mcp;
pub mod proc;
pub mod scan;
pub mod schema_sample;

pub use emulators::{Emulator, Service, region, require};
pub use lambda::{LambdaEmulator, cargo_lambda_path, emulator_venv_bin};
pub use mcp::{Mcp, McpBuilder, RawSession, assert_each_once, text};
pub use proc::{HttpServer, Proc, free_port, server_bin, spawn_server, unique};

/// An `SdkConfig` for `service`'s emulator: its endpoint, the test region, the emulators' dummy
/// credentials. `aws_sdk_lambda::Client::new(&sdk_config(Service::Lambda).await)`.
pub async fn sdk_config(service: Service) -> aws_config::SdkConfig {
    require(&[service]);
    sdk_config_at(&service.endpoint()).await
}

/// An `SdkConfig` for any endpoint (a [`fake::Fake`], say), region and credentials as above.
/// Nothing is read from the developer's AWS files.
pub async fn sdk_config_at(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "e2e"))
        .load()
        .await
}

/// An S3 client for LocalStack (path-style addressing).
pub async fn s3() -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&sdk_config(Service::S3).await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A DynamoDB client for moto.
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config(Service::DynamoDb).await)
}

/// A plain HTTP GET (a presigned URL, say): the status and the body.
pub async fn http_get(url: &str) -> (u16, Vec<u8>) {
    let r = reqwest::get(url).await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status().as_u16();
    (status, r.bytes().await.expect("body").to_vec())
}
