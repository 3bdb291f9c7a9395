//! End-to-end tests of `aws-lambda-mcp`: the real binary over MCP, against LocalStack's Lambda
//! control plane (inspection), LocalStack S3 (tool definition files), the rig's fake endpoint for
//! the Invoke paths AWS cannot be made to take (throttling, inactive functions, huge payloads),
//! and a real function run by cargo-lambda's runtime emulator (`real_invoke`; LocalStack cannot
//! run functions without Docker).

mod accounts;
mod cli;
mod contract;
mod function_tools;
mod inspect;
mod invoke;
mod real_invoke;
mod support;
