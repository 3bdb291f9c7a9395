//! `aws-bedrock-kb-mcp`: Amazon Bedrock Knowledge Bases for AI assistants: cached discovery,
//! filtered retrieval with every result's metadata and location, and grounded generation behind
//! `--allow-generate`.
//!
//! - `filter`: metadata filters as plain JSON, checked and translated before sending.
//! - `catalog`: the knowledge bases this server may use, with data sources and tags (cached).
//! - `results`: retrieval results (text clipped per chunk, rows, images, locations, metadata) as JSON.
//! - `tools::bases`: `list_knowledge_bases`.
//! - `tools::retrieve`: `retrieve`, `retrieve_and_generate` (only with `--allow-generate`).
//! - `resources`: `bedrock-kb://knowledge-bases`, `bedrock-kb://{kb_id}`, completions of ids.

mod catalog;
mod filter;
mod resources;
mod results;
mod tools;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use shared::{Allowlist, Capability, ClientPool, CommonArgs, ConfigError, Core, Op, ToolSpec, TtlCache};

pub const NAME: &str = "aws-bedrock-kb-mcp";

/// Command line of `aws-bedrock-kb-mcp`.
#[derive(Debug, clap::Parser)]
#[command(
    name = NAME,
    version,
    about = "MCP server for Amazon Bedrock Knowledge Bases (generation only with --allow-generate)"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Only these knowledge bases, by id or name, as glob patterns (repeatable).
    #[arg(long = "kb", env = "MCP_BEDROCK_KBS", value_delimiter = ',')]
    pub kbs: Vec<String>,

    /// Only knowledge bases carrying this tag, as KEY=VALUE (repeatable: every one must match).
    #[arg(long = "kb-tag", env = "MCP_BEDROCK_KB_TAGS", value_delimiter = ',')]
    pub kb_tags: Vec<String>,
}

const INSTRUCTIONS: &str = "Amazon Bedrock Knowledge Bases. Start with list_knowledge_bases (ids, data sources), \
then retrieve chunks with retrieve. A filter is the service's JSON: one operator per object, \
{\"equals\": {\"key\": \"<metadata key>\", \"value\": v}}; operators equals, notEquals (string/number/boolean), \
greaterThan, greaterThanOrEquals, lessThan, lessThanOrEquals (number), in, notIn (list), startsWith, \
stringContains (string), listContains (string or number), and {\"andAll\": [f, f, ..]} / {\"orAll\": [..]} \
(at least 2 each, nestable). Result metadata shows the keys to filter on. Results are paged: pass next_cursor back \
unchanged with the same arguments. Long chunks are clipped to share the output budget (text_length is the full \
length); any `truncated` field says what was left out.";

pub(crate) const LIST_KNOWLEDGE_BASES: Op = Op::new("bedrock", "ListKnowledgeBases", "bedrock:ListKnowledgeBases");
pub(crate) const GET_KNOWLEDGE_BASE: Op = Op::new("bedrock", "GetKnowledgeBase", "bedrock:GetKnowledgeBase");
pub(crate) const LIST_DATA_SOURCES: Op = Op::new("bedrock", "ListDataSources", "bedrock:ListDataSources");
pub(crate) const LIST_TAGS: Op = Op::new("bedrock", "ListTagsForResource", "bedrock:ListTagsForResource");
pub(crate) const RETRIEVE: Op = Op::new("bedrock", "Retrieve", "bedrock:Retrieve");
pub(crate) const RETRIEVE_AND_GENERATE: Op = Op::new("bedrock", "RetrieveAndGenerate", "bedrock:RetrieveAndGenerate");
/// Called by the service on the caller's behalf (reranking, generation): only for the IAM policy.
const INVOKE_MODEL: Op = Op::new("bedrock", "InvokeModel", "bedrock:InvokeModel");
const RERANK: Op = Op::new("bedrock", "Rerank", "bedrock:Rerank");

/// What discovery calls: bases, their data sources, and (with `--kb-tag`) their tags.
const DISCOVERY: [Op; 4] = [LIST_KNOWLEDGE_BASES, LIST_DATA_SOURCES, GET_KNOWLEDGE_BASE, LIST_TAGS];

/// Every tool: its capability and the AWS operations (IAM actions) it may call. Retrieval may
/// consult discovery to apply name and tag allowlists.
pub(crate) const TOOLS: &[ToolSpec] = &[
    ToolSpec::read("list_knowledge_bases", &DISCOVERY),
    ToolSpec::read(
        "retrieve",
        &[
            RETRIEVE,
            RERANK,
            INVOKE_MODEL,
            LIST_KNOWLEDGE_BASES,
            LIST_DATA_SOURCES,
            GET_KNOWLEDGE_BASE,
            LIST_TAGS,
        ],
    ),
    ToolSpec::needs(
        "retrieve_and_generate",
        Capability::Generate,
        &[
            RETRIEVE_AND_GENERATE,
            RETRIEVE,
            INVOKE_MODEL,
            RERANK,
            LIST_KNOWLEDGE_BASES,
            LIST_DATA_SOURCES,
            GET_KNOWLEDGE_BASE,
            LIST_TAGS,
        ],
    ),
];

#[derive(Clone)]
pub struct BedrockKbServer {
    core: Core,
    inner: Arc<Inner>,
}

struct Inner {
    router: ToolRouter<BedrockKbServer>,
    agent: ClientPool<aws_sdk_bedrockagent::Client>,
    runtime: ClientPool<aws_sdk_bedrockagentruntime::Client>,
    kbs: Allowlist,
    /// `--kb-tag` pairs a base must all carry.
    tags: Vec<(String, String)>,
    /// The discovered bases per account and region.
    catalog: TtlCache<String, Arc<catalog::Catalog>>,
}

impl BedrockKbServer {
    fn all_tools() -> ToolRouter<Self> {
        Self::base_tools() + Self::retrieve_tools()
    }

    /// Whether the allowlist can be decided from the id alone (no discovery needed).
    fn restricted_by_name_or_tag(&self) -> bool {
        self.inner.kbs.is_restricted() || !self.inner.tags.is_empty()
    }
}

/// `KEY=VALUE` pairs of `--kb-tag`.
fn parse_tags(raw: &[String]) -> Result<Vec<(String, String)>, ConfigError> {
    raw.iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| match t.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.trim().to_owned())),
            _ => Err(ConfigError::Flag {
                flag: "--kb-tag",
                message: format!("`{t}` is not KEY=VALUE"),
            }),
        })
        .collect()
}

/// Hints that name this server's tools, asked before the generic ones.
fn hints(code: &str, op: Op, region: &str) -> Option<String> {
    let runtime = matches!(op.operation, "Retrieve" | "RetrieveAndGenerate");
    match code {
        "ResourceNotFoundException" if runtime || op.operation == "GetKnowledgeBase" => Some(format!(
            "no such knowledge base, model or session in {region}: list_knowledge_bases shows the knowledge base ids there; pass region for another"
        )),
        "ValidationException" if runtime => Some(format!(
            "check the filter keys and values, the data source ids and the model: a model must be enabled in Bedrock's \
             model access and offered in {region} (reranking too), else pick another model or region"
        )),
        "AccessDeniedException" if op.operation == "RetrieveAndGenerate" => Some(format!(
            "the caller needs {} and bedrock:InvokeModel on the model, and the model must be enabled in Bedrock's model \
             access for {region}",
            op.iam_action
        )),
        "AccessDeniedException" if op.operation == "Retrieve" => Some(format!(
            "the caller needs {} on this knowledge base (and bedrock:Rerank plus bedrock:InvokeModel when reranking; \
             the reranking model must be enabled in {region})",
            op.iam_action
        )),
        "DependencyFailedException" | "BadGatewayException" => Some(
            "a resource the knowledge base depends on (vector store, model, KMS key) failed: read the message, check \
             that resource, then retry"
                .into(),
        ),
        _ => None,
    }
}

impl shared::Server for BedrockKbServer {
    type Cli = Cli;
    const NAME: &'static str = NAME;
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn common(cli: &Cli) -> &CommonArgs {
        &cli.common
    }

    fn hints(code: &str, op: Op, region: &str) -> Option<String> {
        hints(code, op, region)
    }

    fn new(mut core: Core, cli: &Cli) -> Result<Self, ConfigError> {
        // Metadata and chunks have no meaningful nulls; absent says the same in fewer tokens.
        core.drop_nulls = true;
        // Chunks and answers quote documents: secrets in them are masked unless --no-redact.
        core.redact_results = true;
        let kbs = Allowlist::from_flag("knowledge base", "--kb", &cli.kbs)?;
        let tags = parse_tags(&cli.kb_tags)?;
        let router = core.gate(Self::all_tools(), TOOLS)?;
        let agent = ClientPool::new(
            &core,
            "BEDROCK_AGENT",
            "bedrock-agent",
            shared::regional_client!(aws_sdk_bedrockagent),
        );
        let runtime = ClientPool::new(
            &core,
            "BEDROCK_AGENT_RUNTIME",
            "bedrock-agent-runtime",
            shared::regional_client!(aws_sdk_bedrockagentruntime),
        );
        let catalog = core.cache(100);
        Ok(Self {
            core,
            inner: Arc::new(Inner {
                router,
                agent,
                runtime,
                kbs,
                tags,
                catalog,
            }),
        })
    }
}

impl shared::core::Tools for BedrockKbServer {
    fn tools(&self) -> (&Core, &ToolRouter<Self>) {
        (&self.core, &self.inner.router)
    }
}

shared::server_handler!(BedrockKbServer, INSTRUCTIONS);

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    async fn server(args: &[&str]) -> BedrockKbServer {
        let cli = Cli::try_parse_from([&[NAME, "--region", "us-east-1"], args].concat()).unwrap();
        let core = Core::load(NAME, "0", &cli.common).await.unwrap();
        <BedrockKbServer as shared::Server>::new(core, &cli).unwrap()
    }

    #[test]
    fn specs_match_tools() {
        shared::gate::check_specs(&BedrockKbServer::all_tools(), TOOLS).unwrap();
    }

    #[tokio::test]
    async fn generate_is_listed_only_with_its_flag() {
        let names = |s: &BedrockKbServer| {
            let mut n: Vec<String> = s.inner.router.list_all().iter().map(|t| t.name.to_string()).collect();
            n.sort();
            n
        };
        assert_eq!(names(&server(&[]).await), ["list_knowledge_bases", "retrieve"]);
        assert_eq!(
            names(&server(&["--allow-generate"]).await),
            ["list_knowledge_bases", "retrieve", "retrieve_and_generate"]
        );
    }

    #[tokio::test]
    async fn tools_list_is_lean() {
        let s = server(&["--allow-generate"]).await;
        let tools = s.inner.router.list_all();
        let sizes: Vec<(String, usize)> = tools
            .iter()
            .map(|t| {
                let v =
                    serde_json::json!({"name": t.name, "description": t.description, "inputSchema": *t.input_schema});
                (t.name.to_string(), v.to_string().len())
            })
            .collect();
        let total: usize = sizes.iter().map(|(_, n)| n).sum();
        assert!(total <= 8_192, "{sizes:?}");
        assert!(total / tools.len() <= 700, "{sizes:?}");
    }

    #[test]
    fn tag_flags_are_key_value() {
        assert_eq!(
            parse_tags(&["a=b".into(), " c = d ".into()]).unwrap(),
            [("a".into(), "b".into()), ("c".into(), "d".into())]
        );
        assert!(parse_tags(&["nope".into()]).is_err());
        assert!(parse_tags(&["=v".into()]).is_err());
    }
}
