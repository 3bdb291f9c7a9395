//! Lambda fixtures made with the real SDK in LocalStack (kept here: the test rig crate does not
//! depend on aws-sdk-lambda), and a fake Lambda data plane for the Invoke paths.

use std::collections::BTreeSet;

use aws_mcp_tests::{Service, fake::Fake, sdk_config};
use futures::StreamExt;
use serde_json::Value;

/// A Lambda client for LocalStack.
pub async fn lambda() -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&sdk_config(Service::Lambda).await)
}

/// What a test function looks like.
#[derive(Clone, Debug)]
pub struct Spec {
    pub runtime: &'static str,
    pub description: &'static str,
    pub env: Vec<(&'static str, &'static str)>,
    pub tags: Vec<(&'static str, String)>,
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            runtime: "python3.12",
            description: "",
            env: Vec::new(),
            tags: Vec::new(),
        }
    }
}

/// Create `name` in LocalStack from a tiny zip. It never becomes Active there (no Docker), which
/// is fine for everything but invocation.
pub async fn create_function(name: &str, spec: Spec) {
    let client = lambda().await;
    let env = aws_sdk_lambda::types::Environment::builder()
        .set_variables(Some(
            spec.env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ))
        .build();
    let mut req = client
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::from(spec.runtime))
        .role("arn:aws:iam::000000000000:role/lambda-role")
        .handler("index.handler")
        .description(spec.description)
        .timeout(5)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_smithy_types::Blob::new(zip(
                    "index.py",
                    b"def handler(event, context):\n    return event\n",
                )))
                .build(),
        );
    if !spec.env.is_empty() {
        req = req.environment(env);
    }
    for (k, v) in &spec.tags {
        req = req.tags(*k, v);
    }
    req.send()
        .await
        .unwrap_or_else(|e| panic!("create function {name}: {e:?}"));
}

/// Create `n` functions `{prefix}-{i:03}` concurrently; their names.
pub async fn create_many(prefix: &str, n: usize) -> BTreeSet<String> {
    let names: BTreeSet<String> = (0..n).map(|i| format!("{prefix}-{i:03}")).collect();
    futures::stream::iter(names.iter().cloned())
        .map(|name| async move { create_function(&name, Spec::default()).await })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    names
}

/// Delete functions a test made (best effort: LocalStack is shared by every run).
pub async fn delete_functions(names: &[&str]) {
    let client = lambda().await;
    for name in names {
        client.delete_function().function_name(*name).send().await.ok();
    }
}

/// A zip archive holding one stored (uncompressed) file.
pub fn zip(file: &str, body: &[u8]) -> Vec<u8> {
    let crc = crc32(body);
    let (name, size) = (file.as_bytes(), body.len() as u32);
    let mut local = Vec::new();
    local.extend(0x0403_4b50u32.to_le_bytes());
    local.extend([20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
    local.extend(crc.to_le_bytes());
    local.extend(size.to_le_bytes());
    local.extend(size.to_le_bytes());
    local.extend((name.len() as u16).to_le_bytes());
    local.extend(0u16.to_le_bytes());
    local.extend(name);
    local.extend(body);
    let mut central = Vec::new();
    central.extend(0x0201_4b50u32.to_le_bytes());
    central.extend([20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
    central.extend(crc.to_le_bytes());
    central.extend(size.to_le_bytes());
    central.extend(size.to_le_bytes());
    central.extend((name.len() as u16).to_le_bytes());
    central.extend([0u8; 12]);
    central.extend(0u32.to_le_bytes());
    central.extend(name);
    let mut out = local;
    let offset = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0, 0, 0, 0, 1, 0, 1, 0]);
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A fake function configuration (GetFunctionConfiguration / ListFunctions entry).
pub fn config(name: &str, timeout: u32, state: &str) -> Value {
    serde_json::json!({
        "FunctionName": name,
        "FunctionArn": format!("arn:aws:lambda:us-east-1:000000000000:function:{name}"),
        "Runtime": "python3.12",
        "Timeout": timeout,
        "MemorySize": 128,
        "State": state,
        "StateReason": if state == "Failed" { "the image could not be pulled" } else { "" },
    })
}

/// Serve GetFunctionConfiguration from `configs` (name → (timeout, state)) on `fake`.
pub fn serve_configs(fake: &Fake, configs: &'static [(&'static str, u32, &'static str)]) {
    fake.on_json(
        "GetFunctionConfiguration",
        "GET /2015-03-31/functions/{name}/configuration",
        move |r: &aws_mcp_tests::fake::Request| {
            let name = r.param("name").unwrap_or_default();
            let name = name
                .rsplit(':')
                .find(|p| !p.is_empty() && *p != "$LATEST")
                .unwrap_or(name);
            match configs.iter().find(|(n, _, _)| *n == name) {
                Some((n, t, s)) => aws_mcp_tests::fake::Reply::json(config(n, *t, s)),
                None => aws_mcp_tests::fake::Reply::error(404, "ResourceNotFoundException", "Function not found"),
            }
        },
    );
}

#[test]
fn crc32_matches_the_reference() {
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
}
