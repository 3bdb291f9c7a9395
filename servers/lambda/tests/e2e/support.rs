//! LocalStack functions come from the rig's `fixtures::lambda` (shared with the benchmark); a
//! fake Lambda control plane for the Invoke paths is here.

use aws_mcp_tests::fake::Fake;
pub(crate) use aws_mcp_tests::fixtures::lambda::{Spec, client as lambda, create_function, delete_functions};
use serde_json::Value;

/// A fake function configuration (GetFunctionConfiguration / ListFunctions entry).
pub(crate) fn config(name: &str, timeout: u32, state: &str) -> Value {
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
pub(crate) fn serve_configs(fake: &Fake, configs: &'static [(&'static str, u32, &'static str)]) {
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
