//! End-to-end tests of `aws-lambda-mcp`: the real binary over MCP, against LocalStack's Lambda
//! control plane (inspection), LocalStack S3 (tool definition files) and the rig's fake endpoint
//! for the Invoke paths (LocalStack cannot run functions without Docker).

mod cli;
mod contract;
mod function_tools;
mod inspect;
mod invoke;
mod support;
