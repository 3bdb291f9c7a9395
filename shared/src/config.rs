//! Flags and environment variables common to every server (flatten [`CommonArgs`] into a
//! server's own `clap::Parser`). Every flag has an environment variable so that MCP client
//! configurations, which mostly set `env`, can use them too.

use std::net::SocketAddr;

/// `--bind`'s default. In AgentCore Runtime mode it means "not given": the runtime's 0.0.0.0:8000 is used.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Formats `--print-tool-schemas` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaFormat {
    /// An Amazon Bedrock AgentCore Gateway Lambda-target tool schema: `{"inlinePayload": [...]}`
    /// using only the keywords the Gateway accepts.
    Gateway,
}

/// How the server talks MCP. Lambda is not listed: it is chosen automatically when
/// `AWS_LAMBDA_RUNTIME_API` is set, because that is the only place it can work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Transport {
    /// JSON-RPC over stdin/stdout (what Claude Desktop and Amazon Q start).
    #[default]
    Stdio,
    /// Streamable HTTP on `--bind`, path `/mcp`.
    Http,
}

#[derive(Clone, Debug, clap::Args)]
pub struct CommonArgs {
    /// AWS profile from ~/.aws/config (default: AWS_PROFILE, then `default`).
    #[arg(long, global = true)]
    pub profile: Option<String>,

    /// AWS region (default: AWS_REGION, then the profile's region). There is no built-in fallback.
    #[arg(long, global = true)]
    pub region: Option<String>,

    /// Send every AWS call to this endpoint (default: AWS_ENDPOINT_URL; AWS_ENDPOINT_URL_<SERVICE> also works).
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,

    /// Transport to serve MCP on.
    #[arg(long, value_enum, default_value_t = Transport::Stdio, env = "MCP_TRANSPORT")]
    pub transport: Transport,

    /// Address for `--transport http`. Loopback by default; any other address needs MCP_AUTH_TOKEN.
    #[arg(long, default_value = DEFAULT_BIND, env = "MCP_BIND")]
    pub bind: SocketAddr,

    /// Serve as an Amazon Bedrock AgentCore Runtime MCP server (the ARM64 container's entry point):
    /// Streamable HTTP on 0.0.0.0:8000 (or --bind) at /mcp, stateless, accepting the runtime's
    /// `Mcp-Session-Id` and `X-Amzn-Bedrock-AgentCore-Runtime-Session-Id` headers. The runtime
    /// authenticates callers (SigV4 or JWT), so no MCP_AUTH_TOKEN is required; the Host header is
    /// checked only against --allowed-host when that is given.
    #[arg(long, env = "MCP_AGENTCORE_RUNTIME")]
    pub agentcore_runtime: bool,

    /// Host header values accepted over HTTP (repeatable). Default: localhost, 127.0.0.1, ::1.
    #[arg(long = "allowed-host", env = "MCP_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,

    /// Browser Origins accepted over HTTP (repeatable, e.g. https://app.example.com:443).
    /// Requests that carry any other Origin are refused.
    #[arg(long = "allowed-origin", env = "MCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Enable tools that change AWS resources. Without it they are not even listed.
    #[arg(long, env = "MCP_ALLOW_WRITES")]
    pub allow_writes: bool,

    /// Enable tools that invoke code (Lambda functions). Without it they are not even listed.
    #[arg(long, env = "MCP_ALLOW_INVOKE")]
    pub allow_invoke: bool,

    /// Enable tools that run a model and cost money (Bedrock generation).
    #[arg(long, env = "MCP_ALLOW_GENERATE")]
    pub allow_generate: bool,

    /// Expose only these tools (comma-separated names).
    #[arg(long, env = "MCP_TOOLS", value_delimiter = ',')]
    pub tools: Vec<String>,

    /// Hide these tools (comma-separated names).
    #[arg(long, env = "MCP_EXCLUDE_TOOLS", value_delimiter = ',')]
    pub exclude_tools: Vec<String>,

    /// Ask the user (MCP elicitation) before any destructive tool runs.
    #[arg(long, env = "MCP_CONFIRM_DESTRUCTIVE")]
    pub confirm_destructive: bool,

    /// Accounts file (TOML): aliases, roles and regions tools may use through `account`.
    #[arg(long, env = "MCP_ACCOUNTS_FILE")]
    pub accounts: Option<std::path::PathBuf>,

    /// Regions tools may use through `region` (comma-separated; default: any).
    #[arg(long, env = "MCP_REGIONS", value_delimiter = ',')]
    pub regions: Vec<String>,

    /// Return log and payload text unmasked (secrets are masked by default).
    #[arg(long, env = "MCP_NO_REDACT")]
    pub no_redact: bool,

    /// Also write one DynamoDB item per tool call to this table (name or ARN; string partition key
    /// `call_id`): caller, time, server, tool, account, outcome, AWS request ids, never argument
    /// values. Written in the background with the server's own credentials.
    #[arg(long, env = "MCP_AUDIT_TABLE", value_name = "TABLE")]
    pub audit_table: Option<String>,

    /// Refuse a tool call (kind `audit_unavailable`) when its audit record cannot be written to
    /// --audit-table first: no call runs unaudited.
    #[arg(long, env = "MCP_AUDIT_REQUIRED")]
    pub audit_required: bool,

    /// Print the least-privilege IAM policy for these flags as JSON and exit.
    #[arg(long)]
    pub print_iam_policy: bool,

    /// Print the listed tools' schemas in FORMAT and exit (`gateway`: an AgentCore Gateway
    /// Lambda-target tool schema file).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub print_tool_schemas: Option<SchemaFormat>,

    /// Output budget per tool result, in tokens (about 4 bytes of JSON each).
    #[arg(long, default_value_t = 20_000, env = "MCP_MAX_OUTPUT_TOKENS",
          value_parser = clap::value_parser!(u32).range(500..=1_000_000))]
    pub max_output_tokens: u32,

    /// How long cached metadata (bucket regions, table descriptions, ...) stays fresh, in seconds.
    #[arg(long, default_value_t = 300, env = "MCP_CACHE_TTL_SECS")]
    pub cache_ttl_secs: u64,

    /// Attempts per AWS call, including the first (standard retry mode with backoff).
    #[arg(long, default_value_t = 3, env = "AWS_MAX_ATTEMPTS",
          value_parser = clap::value_parser!(u32).range(1..=10))]
    pub max_attempts: u32,

    /// TCP connect timeout for AWS calls, in milliseconds.
    #[arg(long, default_value_t = 3_000, env = "MCP_CONNECT_TIMEOUT_MS")]
    pub connect_timeout_ms: u64,

    /// Time limit for one AWS call including retries, in seconds.
    #[arg(long, default_value_t = 60, env = "MCP_OPERATION_TIMEOUT_SECS")]
    pub operation_timeout_secs: u64,
}

impl CommonArgs {
    /// The transport actually served (AgentCore Runtime mode is Streamable HTTP).
    pub fn effective_transport(&self) -> Transport {
        if self.agentcore_runtime {
            Transport::Http
        } else {
            self.transport
        }
    }

    /// Output budget in bytes.
    pub fn budget_bytes(&self) -> usize {
        self.max_output_tokens as usize * crate::budget::BYTES_PER_TOKEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        common: CommonArgs,
    }

    #[test]
    fn defaults_are_safe() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert!(!cli.common.allow_writes);
        assert_eq!(cli.common.transport, Transport::Stdio);
        assert!(cli.common.bind.ip().is_loopback());
        assert_eq!(cli.common.region, None, "no hard-coded region");
    }

    #[test]
    fn agentcore_runtime_mode_serves_http() {
        let cli = Cli::try_parse_from(["x", "--agentcore-runtime", "--print-tool-schemas", "gateway"]).unwrap();
        assert_eq!(cli.common.effective_transport(), Transport::Http);
        assert_eq!(cli.common.bind.to_string(), DEFAULT_BIND);
        assert_eq!(cli.common.print_tool_schemas, Some(SchemaFormat::Gateway));
        assert!(Cli::try_parse_from(["x", "--print-tool-schemas", "openapi"]).is_err());
    }

    #[test]
    fn audit_table_flags() {
        let cli = Cli::try_parse_from(["x", "--audit-table", "mcp-audit", "--audit-required"]).unwrap();
        assert_eq!(cli.common.audit_table.as_deref(), Some("mcp-audit"));
        assert!(cli.common.audit_required);
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(cli.common.audit_table, None);
        assert!(!cli.common.audit_required);
    }

    #[test]
    fn rejects_out_of_range_budget() {
        assert!(Cli::try_parse_from(["x", "--max-output-tokens", "10"]).is_err());
    }
}
