//! `aws-lambda-mcp`: AWS Lambda for AI assistants. Read-only inspection by default; invocation
//! only with `--allow-invoke`; chosen functions as typed tools with `--function-tools`.
//!
//! - [`names`]: function names and ARNs as tools take them; MCP-safe tool names.
//! - [`scan`]: the ListFunctions walk every listing uses (name/runtime/allowlist filters, exact
//!   resume positions inside AWS pages).
//! - [`invoke`]: one invocation path for `invoke_function` and functions-as-tools: payload limits,
//!   state check, per-call timeout, log tail, function errors.
//! - [`function_tools`]: functions as MCP tools (AgentCore Gateway tool definitions, client
//!   context, refresh with `list_changed`).
//! - `tools::functions`: `list_functions`, `get_function`.
//! - `tools::versions`: `list_versions`, `list_aliases`.
//! - `tools::access`: `get_function_policy`, `list_event_source_mappings`.
//! - `tools::invoke`: `invoke_function` (only with `--allow-invoke`).
//! - `resources`: `lambda://{function}/configuration`, the function list, completions.

pub(crate) mod function_tools;
pub(crate) mod invoke;
pub(crate) mod names;
mod resources;
pub(crate) mod scan;
mod tools;

use std::{path::PathBuf, sync::Arc};

use rmcp::{
    handler::server::router::tool::ToolRouter,
    model::{JsonObject, Tool},
};
use serde_json::{Value, json};
use shared::{Allowlist, ClientPool, CommonArgs, ConfigError, Core, Op, Redactor, ToolError, TtlCache};

pub const NAME: &str = "aws-lambda-mcp";

/// Command line of `aws-lambda-mcp`.
#[derive(Debug, clap::Parser)]
#[command(name = NAME, version, about = "MCP server for AWS Lambda (read-only unless --allow-invoke)")]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Only these functions, as glob patterns (repeatable): `--function 'orders-*'`.
    #[arg(long = "function", env = "MCP_LAMBDA_FUNCTIONS", value_delimiter = ',')]
    pub functions: Vec<String>,

    /// Show environment variable values in get_function (masked by redaction); names only without it.
    #[arg(long, env = "MCP_LAMBDA_SHOW_ENV_VALUES")]
    pub show_env_values: bool,

    /// Expose each allowed function as MCP tools (needs --allow-invoke).
    #[arg(long, env = "MCP_LAMBDA_FUNCTION_TOOLS")]
    pub function_tools: bool,

    /// With --function-tools: only functions tagged `mcp:expose=true`.
    #[arg(long, env = "MCP_LAMBDA_EXPOSE_TAG_ONLY")]
    pub expose_tag_only: bool,

    /// With --function-tools: a JSON file mapping function names to AgentCore Gateway tool
    /// definitions (`{"fn": {"inlinePayload": [...]}}` or `{"fn": [...]}`).
    #[arg(long, env = "MCP_LAMBDA_TOOL_SCHEMAS")]
    pub tool_schemas: Option<PathBuf>,

    /// With --function-tools: how often the function list is re-read from AWS, in seconds.
    #[arg(long, default_value_t = 60, env = "MCP_LAMBDA_TOOLS_REFRESH_SECS",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub tools_refresh_secs: u64,
}

const INSTRUCTIONS: &str = "AWS Lambda. list_functions finds functions (name and runtime filters); get_function shows \
one function's configuration, state, tags and environment variable names; list_versions, list_aliases, \
list_event_source_mappings and get_function_policy show versions, aliases, triggers and who may invoke it. \
`function` takes a name or an ARN; `qualifier` a version or alias. Tools named `<function>___<tool>` run that \
Lambda function with their arguments as its event. Results are paged: pass next_cursor back \
unchanged with the same arguments. Any `truncated` field says what was left out and how to get it.";

pub(crate) const LIST_FUNCTIONS: Op = Op::new("lambda", "ListFunctions", "lambda:ListFunctions");
pub(crate) const GET_FUNCTION: Op = Op::new("lambda", "GetFunction", "lambda:GetFunction");
pub(crate) const GET_FUNCTION_CONFIGURATION: Op =
    Op::new("lambda", "GetFunctionConfiguration", "lambda:GetFunctionConfiguration");
pub(crate) const GET_FUNCTION_URL_CONFIG: Op = Op::new("lambda", "GetFunctionUrlConfig", "lambda:GetFunctionUrlConfig");
pub(crate) const LIST_TAGS: Op = Op::new("lambda", "ListTags", "lambda:ListTags");
pub(crate) const LIST_VERSIONS: Op = Op::new("lambda", "ListVersionsByFunction", "lambda:ListVersionsByFunction");
pub(crate) const LIST_ALIASES: Op = Op::new("lambda", "ListAliases", "lambda:ListAliases");
pub(crate) const LIST_EVENT_SOURCE_MAPPINGS: Op =
    Op::new("lambda", "ListEventSourceMappings", "lambda:ListEventSourceMappings");
pub(crate) const GET_POLICY: Op = Op::new("lambda", "GetPolicy", "lambda:GetPolicy");
pub(crate) const INVOKE: Op = Op::new("lambda", "Invoke", "lambda:InvokeFunction");
pub(crate) const S3_GET_OBJECT: Op = Op::new("s3", "GetObject", "s3:GetObject");

/// Every tool: name, capability, AWS operations it may call.
pub(crate) const TOOLS: &[shared::ToolSpec] = &[
    shared::ToolSpec::read("list_functions", &[LIST_FUNCTIONS]),
    shared::ToolSpec::read("get_function", &[GET_FUNCTION, GET_FUNCTION_URL_CONFIG, LIST_TAGS]),
    shared::ToolSpec::read("list_versions", &[LIST_VERSIONS]),
    shared::ToolSpec::read("list_aliases", &[LIST_ALIASES]),
    shared::ToolSpec::read("list_event_source_mappings", &[LIST_EVENT_SOURCE_MAPPINGS]),
    shared::ToolSpec::read("get_function_policy", &[GET_POLICY, GET_FUNCTION]),
    shared::ToolSpec::needs(
        "invoke_function",
        shared::Capability::Invoke,
        &[INVOKE, GET_FUNCTION_CONFIGURATION],
    ),
];

#[derive(Clone)]
pub struct LambdaServer {
    core: Core,
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    router: ToolRouter<LambdaServer>,
    pub(crate) clients: ClientPool<aws_sdk_lambda::Client>,
    pub(crate) allow: Allowlist,
    pub(crate) redactor: Redactor,
    pub(crate) show_env_values: bool,
    /// get_function results, keyed by scoped `function:qualifier`.
    pub(crate) functions: TtlCache<String, Value>,
    /// Timeout and state per function, for invocations (only Active functions are cached).
    pub(crate) configs: TtlCache<String, invoke::FunctionConfig>,
    /// Present with `--function-tools`.
    pub(crate) catalog: Option<Arc<function_tools::Catalog>>,
}

fn lambda_client(sdk: &aws_types::SdkConfig, region: &str) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::from(sdk)
            .region(aws_sdk_lambda::config::Region::new(region.to_owned()))
            .build(),
    )
}

impl LambdaServer {
    fn all_tools() -> ToolRouter<Self> {
        Self::function_tools() + Self::version_tools() + Self::access_tools() + Self::invoke_tools()
    }

    /// The name in `function` (a name, partial or full ARN), checked against the allowlist.
    pub(crate) fn function_arg(&self, field: &str, function: &str) -> Result<names::FunctionRef, ToolError> {
        let f = names::parse(field, function)?;
        self.inner.allow.check(&f.name)?;
        Ok(f)
    }

    pub(crate) fn qualifier_arg(qualifier: Option<&str>) -> Result<Option<String>, ToolError> {
        match qualifier.map(str::trim) {
            None | Some("") => Ok(None),
            Some(q)
                if q.len() <= 128
                    && q.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '$' | '-' | '_')) =>
            {
                Ok(Some(q.to_owned()))
            }
            Some(_) => Err(ToolError::invalid(
                "qualifier",
                "a version number, $LATEST or an alias name (letters, digits, - and _); list_versions and list_aliases show them",
            )),
        }
    }
}

/// Hints for AWS error codes that name this server's tools.
fn hints(code: &str, op: Op, region: &str) -> Option<String> {
    let h = match (code, op.operation) {
        ("ResourceNotFoundException", "Invoke" | "GetFunctionConfiguration") => format!(
            "no such function, version or alias in {region}: list_functions shows the functions, list_versions and list_aliases the qualifiers"
        ),
        ("ResourceNotFoundException", _) => {
            format!("not found in {region}: list_functions shows the functions (check the name, qualifier and region)")
        }
        ("TooManyRequestsException", _) => "Lambda throttled the call (concurrency or request-rate limit; the message says which). \
            Invocations are not retried by this server, so a function never runs twice: wait, then call again"
            .into(),
        ("ResourceConflictException", _) => {
            "the function is not ready (state Pending or Failed, or an update in progress): get_function shows its state and reason".into()
        }
        ("ResourceNotReadyException", _) => "the function was inactive and is being re-activated: retry in a minute".into(),
        ("RequestTooLargeException", _) => {
            "the payload is over Lambda's limit (6 MB synchronous, 1 MB for invocation_type Event)".into()
        }
        ("InvalidRequestContentException", _) => "the function's runtime could not read the payload as JSON".into(),
        _ => return None,
    };
    Some(h)
}

impl shared::Server for LambdaServer {
    type Cli = Cli;
    const NAME: &'static str = NAME;
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn common(cli: &Cli) -> &CommonArgs {
        &cli.common
    }

    fn new(mut core: Core, cli: &Cli) -> Result<Self, ConfigError> {
        shared::error::set_server_hints(hints);
        // Nothing in Lambda's output is meaningfully null.
        core.drop_nulls = true;
        let allow = Allowlist::from_flag("function", "--function", &cli.functions)?;
        if cli.function_tools && !cli.common.allow_invoke {
            return Err(ConfigError::Flag {
                flag: "--function-tools",
                message: "functions as tools run code: add --allow-invoke as well".into(),
            });
        }
        if !cli.function_tools && (cli.expose_tag_only || cli.tool_schemas.is_some()) {
            return Err(ConfigError::Flag {
                flag: "--function-tools",
                message: "--expose-tag-only and --tool-schemas only apply with --function-tools".into(),
            });
        }
        let router = core.gate(Self::all_tools(), TOOLS)?;
        let clients = ClientPool::new(&core, "LAMBDA", "lambda", lambda_client);
        let redactor = Redactor::new(core.redact);
        let catalog = if cli.function_tools {
            let schemas = match &cli.tool_schemas {
                Some(path) => function_tools::load_schema_file(path).map_err(|message| ConfigError::Flag {
                    flag: "--tool-schemas",
                    message,
                })?,
                None => Default::default(),
            };
            core.list_ttl_ms = cli.tools_refresh_secs.saturating_mul(1000);
            let reserved = router.list_all().iter().map(|t| t.name.to_string()).collect();
            Some(Arc::new(function_tools::Catalog::new(
                &core,
                clients.clone(),
                function_tools::Settings {
                    allow: allow.clone(),
                    expose_tag_only: cli.expose_tag_only,
                    schemas,
                    reserved,
                    refresh: std::time::Duration::from_secs(cli.tools_refresh_secs),
                },
            )))
        } else {
            None
        };
        let server = Self {
            inner: Arc::new(Inner {
                router,
                clients,
                allow,
                redactor,
                show_env_values: cli.show_env_values,
                functions: core.cache(1_000),
                configs: core.cache(1_000),
                catalog,
            }),
            core,
        };
        if let Some(catalog) = &server.inner.catalog
            && !cli.common.print_iam_policy
        {
            catalog.start(server.core.clone());
        }
        Ok(server)
    }

    fn extra_iam_statements(&self) -> Vec<Value> {
        match &self.inner.catalog {
            Some(_) => vec![
                json!({"Sid": "FunctionTools", "Effect": "Allow",
                       "Action": [LIST_FUNCTIONS.iam_action, LIST_TAGS.iam_action, INVOKE.iam_action], "Resource": "*"}),
                json!({"Sid": "FunctionToolSchemas", "Effect": "Allow", "Action": S3_GET_OBJECT.iam_action, "Resource": "*"}),
            ],
            None => Vec::new(),
        }
    }
}

impl shared::core::Tools for LambdaServer {
    fn tools(&self) -> (&Core, &ToolRouter<Self>) {
        (&self.core, &self.inner.router)
    }

    fn extra_tools(&self) -> Vec<Tool> {
        self.inner.catalog.as_ref().map(|c| c.tools()).unwrap_or_default()
    }

    async fn call_extra(&self, name: &str, args: JsonObject) -> Option<shared::ToolResult> {
        let catalog = self.inner.catalog.as_ref()?;
        let route = catalog.route(name)?;
        Some(self.call_function_tool(&route, args).await)
    }
}

shared::server_handler!(LambdaServer, INSTRUCTIONS, dynamic_tools);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_a_spec_and_consistent_annotations() {
        shared::gate::check_specs(&LambdaServer::all_tools(), TOOLS).unwrap();
    }

    #[test]
    fn tools_list_is_lean() {
        let tools = LambdaServer::all_tools().list_all();
        let mut total = 0;
        for t in &tools {
            let mut schema = (*t.input_schema).clone();
            shared::schema::lean(&mut schema);
            if let Some(p) = schema.get_mut("properties").and_then(Value::as_object_mut) {
                p.insert(
                    "region".into(),
                    json!({"type": "string", "description": "AWS region (default: the server's)"}),
                );
            }
            let size = json!({"name": t.name, "description": t.description, "inputSchema": schema})
                .to_string()
                .len();
            assert!(size < 1_000, "{} is {size} bytes", t.name);
            total += size;
        }
        assert!(total / tools.len() <= 700, "average {}", total / tools.len());
        assert!(total <= 8_192, "total {total}");
    }

    #[test]
    fn qualifiers_are_checked() {
        assert_eq!(
            LambdaServer::qualifier_arg(Some("live")).unwrap().as_deref(),
            Some("live")
        );
        assert_eq!(
            LambdaServer::qualifier_arg(Some("$LATEST")).unwrap().as_deref(),
            Some("$LATEST")
        );
        assert_eq!(LambdaServer::qualifier_arg(Some(" ")).unwrap(), None);
        assert!(LambdaServer::qualifier_arg(Some("a/b")).is_err());
    }
}
