//! One `BenchCase` per server: where its AWS calls go, the fixture data, the measured tool with
//! the same raw SDK call, and its cached metadata tool.

use std::any::Any;

use aws_mcp_tests::{
    Mcp, McpBuilder, Service,
    emulators::NOWHERE,
    fake::{Fake, Reply, Request},
    fixtures::{
        self,
        accounts::{AccountsFile, accounts, two_regions},
    },
    unique,
};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use serde_json::{Value, json};

use crate::Fut;

/// What a case sets up before measuring.
pub(crate) struct Prepared {
    /// How to start the server (endpoints, flags).
    pub(crate) server: McpBuilder,
    /// Arguments of the measured tool call.
    pub(crate) args: Value,
    /// The same request with the raw SDK client (configured as the server configures its own).
    pub(crate) raw: Box<dyn Fn() -> Fut<()>>,
    /// The cached metadata tool and how to miss its cache (`None`: the server has none).
    pub(crate) meta: Option<(Meta, Uncached)>,
    /// What must live as long as the measurements (a fake endpoint, an accounts file).
    pub(crate) _keep: Vec<Box<dyn Any>>,
}

/// A metadata tool with a cache.
pub(crate) struct Meta {
    pub(crate) tool: &'static str,
    /// Whether a result (its `structuredContent`) came from the cache.
    pub(crate) cached: fn(&Value) -> bool,
}

/// How to get uncached answers from a metadata tool.
pub(crate) enum Uncached {
    /// Make a resource the server has not seen; the tool's arguments for it. Cached: the first again.
    Fresh(Box<dyn Fn() -> Fut<Value>>),
    /// The tool's arguments; uncached calls add `"refresh": true`, cached ones are these.
    Refresh(Value),
}

/// One column of the table.
pub(crate) struct BenchCase {
    /// Command-line filter (`bench s3`).
    pub(crate) key: &'static str,
    pub(crate) server: &'static str,
    /// Emulators the case needs (checked first, with the command that starts them).
    pub(crate) services: &'static [Service],
    /// The measured tool and a label for the table.
    pub(crate) tool: &'static str,
    pub(crate) label: &'static str,
    /// A call the server refuses before any AWS request: the MCP round trip alone.
    pub(crate) refused: fn() -> (&'static str, Value),
    pub(crate) prepare: fn() -> Fut<Prepared>,
}

pub(crate) fn all() -> Vec<BenchCase> {
    vec![
        BenchCase {
            key: "s3",
            server: "aws-s3-mcp",
            services: &[Service::S3],
            tool: "list_objects",
            label: "`list_objects`, 100 keys",
            refused: || ("list_objects", json!({"bucket": ""})),
            prepare: || Box::pin(prepare_s3()),
        },
        BenchCase {
            key: "dynamodb",
            server: "aws-dynamodb-mcp",
            services: &[Service::DynamoDb],
            tool: "query",
            label: "`query`, 100 items",
            refused: || ("query", json!({"table": ""})),
            prepare: || Box::pin(prepare_dynamodb()),
        },
        BenchCase {
            key: "lambda",
            server: "aws-lambda-mcp",
            services: &[Service::Lambda],
            tool: "list_functions",
            label: "`list_functions`, 50 functions",
            refused: || ("get_function", json!({"function": ""})),
            prepare: || Box::pin(prepare_lambda()),
        },
        BenchCase {
            key: "logs",
            server: "aws-logs-mcp",
            services: &[Service::Logs],
            tool: "filter_log_events",
            label: "`filter_log_events`, 100 events",
            refused: || ("filter_log_events", json!({"log_groups": []})),
            prepare: || Box::pin(prepare_logs()),
        },
        BenchCase {
            key: "bedrock-kb",
            server: "aws-bedrock-kb-mcp",
            // Both Bedrock services come from the fake endpoint (see `prepare_bedrock`).
            services: &[],
            tool: "retrieve",
            label: "`retrieve`, 5 chunks (fake endpoint answering in 5 ms)",
            refused: || ("retrieve", json!({"knowledge_base_id": "", "query": "q"})),
            prepare: || Box::pin(prepare_bedrock()),
        },
        BenchCase {
            key: "sts",
            server: "aws-sts-mcp",
            services: &[Service::Sts, Service::S3, Service::Lambda, Service::Logs],
            tool: "whoami",
            label: "`whoami` (GetCallerIdentity)",
            refused: || ("inventory", json!({"regions": ["not-a-region"]})),
            prepare: || Box::pin(prepare_sts()),
        },
    ]
}

/// The `SdkConfig` the servers build (`shared::aws::load` with default flags), pointed at
/// `endpoint`, so the raw call retries and times out like the tool's.
pub(crate) async fn server_sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    if std::env::var_os("BENCH_PLAIN_SDK").is_some() {
        return aws_mcp_tests::sdk_config_at(endpoint).await;
    }
    use clap::Parser;
    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        common: shared::CommonArgs,
    }
    let flags = Flags::parse_from(["bench", "--region", &aws_mcp_tests::region()]);
    let conf = shared::aws::load("bench", "0", &flags.common)
        .await
        .expect("AWS config from the emulator environment");
    conf.into_builder()
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
            aws_sdk_s3::config::Credentials::new("test", "test", None, None, "bench"),
        ))
        .build()
}

/// The server against its emulators (the rig's default).
fn default_server(bin: &str) -> McpBuilder {
    Mcp::builder(bin)
}

async fn prepare_s3() -> Prepared {
    let conf = aws_sdk_s3::config::Builder::from(&server_sdk_config(&Service::S3.endpoint()).await)
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(conf);
    let bucket = fixtures::s3::bucket_named("bench", &[]).await;
    fixtures::s3::fill(&bucket, "obj/", 100).await;
    let (c, b) = (s3.clone(), bucket.clone());
    Prepared {
        server: default_server("aws-s3-mcp"),
        args: json!({"bucket": bucket, "page_size": 100}),
        raw: Box::new(move || {
            let (c, b) = (c.clone(), b.clone());
            Box::pin(async move {
                c.list_objects_v2().bucket(b).max_keys(100).send().await.unwrap();
            })
        }),
        meta: Some((
            Meta {
                tool: "get_bucket_info",
                cached: |v| v["from_cache"] == true,
            },
            Uncached::Fresh(Box::new(|| {
                Box::pin(async {
                    let b = fixtures::s3::bucket_named("bench-meta", &[]).await;
                    json!({"bucket": b})
                })
            })),
        )),
        _keep: Vec::new(),
    }
}

async fn prepare_dynamodb() -> Prepared {
    let db = aws_sdk_dynamodb::Client::new(&server_sdk_config(&Service::DynamoDb.endpoint()).await);
    let table = unique("bench");
    fixtures::dynamodb::create_keyed(&db, &table).await;
    let items = (0..100)
        .map(|i| {
            std::collections::HashMap::from([
                ("pk".to_owned(), fixtures::dynamodb::s("p")),
                ("sk".to_owned(), fixtures::dynamodb::n(i)),
                ("v".to_owned(), fixtures::dynamodb::s(&format!("value {i}"))),
            ])
        })
        .collect();
    fixtures::dynamodb::seed(&db, &table, items).await;
    let (c, t) = (db.clone(), table.clone());
    let fresh_db = db.clone();
    Prepared {
        server: default_server("aws-dynamodb-mcp"),
        args: json!({"table": table, "partition_key": "p", "page_size": 100}),
        raw: Box::new(move || {
            let (c, t) = (c.clone(), t.clone());
            Box::pin(async move {
                c.query()
                    .table_name(t)
                    .key_condition_expression("#pk = :pk")
                    .expression_attribute_names("#pk", "pk")
                    .expression_attribute_values(":pk", AttributeValue::S("p".into()))
                    .limit(100)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .unwrap();
            })
        }),
        meta: Some((
            Meta {
                tool: "describe_table",
                cached: |v| v["from_cache"] == true,
            },
            Uncached::Fresh(Box::new(move || {
                let db = fresh_db.clone();
                Box::pin(async move {
                    let t = unique("bench-meta");
                    fixtures::dynamodb::create_keyed(&db, &t).await;
                    json!({"table": t})
                })
            })),
        )),
        _keep: Vec::new(),
    }
}

/// ListFunctions' page as the server reads it (50), and the tool's page size to match.
const LAMBDA_PAGE: i32 = 50;

async fn prepare_lambda() -> Prepared {
    let lambda = aws_sdk_lambda::Client::new(&server_sdk_config(&Service::Lambda.endpoint()).await);
    // At least one full page, so the tool and the raw call both read exactly one ListFunctions page
    // (LocalStack's account is shared by every run: only the missing functions are made).
    let have = lambda
        .list_functions()
        .max_items(LAMBDA_PAGE)
        .send()
        .await
        .expect("ListFunctions")
        .functions()
        .len();
    let missing = (LAMBDA_PAGE as usize).saturating_sub(have);
    if missing > 0 {
        fixtures::lambda::create_many(&unique("bench-fn"), missing).await;
    }
    let c = lambda.clone();
    Prepared {
        server: default_server("aws-lambda-mcp"),
        args: json!({"page_size": LAMBDA_PAGE}),
        raw: Box::new(move || {
            let c = c.clone();
            Box::pin(async move {
                c.list_functions().max_items(LAMBDA_PAGE).send().await.unwrap();
            })
        }),
        meta: Some((
            Meta {
                tool: "get_function",
                cached: |v| v["cached"] == true,
            },
            Uncached::Fresh(Box::new(|| {
                Box::pin(async {
                    let f = unique("bench-meta");
                    fixtures::lambda::create_function(&f, fixtures::lambda::Spec::default()).await;
                    json!({"function": f})
                })
            })),
        )),
        _keep: Vec::new(),
    }
}

async fn prepare_logs() -> Prepared {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&server_sdk_config(&Service::Logs.endpoint()).await);
    let group = fixtures::logs::group_with_events("bench-logs", 100).await;
    let (c, g) = (logs.clone(), group.clone());
    Prepared {
        server: default_server("aws-logs-mcp"),
        // The tool's default window is the last hour, as the raw call's below.
        args: json!({"log_groups": [group], "page_size": 100}),
        raw: Box::new(move || {
            let (c, g) = (c.clone(), g.clone());
            Box::pin(async move {
                let now = shared::time::now_ms();
                c.filter_log_events()
                    .log_group_name(g)
                    .start_time(now - 3_600_000)
                    .end_time(now)
                    .limit(100)
                    .send()
                    .await
                    .unwrap();
            })
        }),
        // Logs has no metadata tool with a cache.
        meta: None,
        _keep: Vec::new(),
    }
}

/// Knowledge bases the fake control plane lists, each with two data sources.
const KBS: usize = 5;

/// How long the fake Bedrock endpoint takes to answer: about what LocalStack and moto take for
/// the other columns' calls (real Bedrock takes far longer), so the ratios compare alike. The
/// table's "tool − raw" row is the server's cost alone, whatever the endpoint's time.
const BEDROCK_ANSWER: std::time::Duration = std::time::Duration::from_millis(5);

/// The fake Bedrock endpoint: the control plane (ListKnowledgeBases, ListDataSources) and the
/// runtime's Retrieve, in the services' REST-JSON wire format, each answered after
/// [`BEDROCK_ANSWER`]. No emulator has the runtime, and moto's control plane needs fixing up per
/// answer (see servers/bedrock-kb/tests/e2e/rig.rs), so the fake serves both.
async fn bedrock_fake() -> Fake {
    let fake = Fake::start().await;
    let kb_id = |i: usize| format!("BENCHKB{i:03}");
    let summaries: Vec<Value> = (0..KBS)
        .map(|i| {
            json!({"knowledgeBaseId": kb_id(i), "name": format!("bench-kb-{i}"), "description": "benchmark corpus",
                   "status": "ACTIVE", "updatedAt": "2026-11-01T10:00:00Z"})
        })
        .collect();
    fake.on_json(
        "ListKnowledgeBases",
        "POST /knowledgebases/",
        Reply::delay(
            BEDROCK_ANSWER,
            Reply::json(json!({ "knowledgeBaseSummaries": summaries })),
        ),
    );
    fake.on_json(
        "ListDataSources",
        "POST /knowledgebases/{kbId}/datasources/",
        |r: &Request| {
            let kb = r.param("kbId").unwrap_or_default().to_owned();
            let list: Vec<Value> = ["docs", "wiki"]
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    json!({"knowledgeBaseId": kb, "dataSourceId": format!("DS{i}"), "name": n, "status": "AVAILABLE",
                           "updatedAt": "2026-11-01T10:00:00Z"})
                })
                .collect();
            Reply::delay(BEDROCK_ANSWER, Reply::json(json!({ "dataSourceSummaries": list })))
        },
    );
    let results: Vec<Value> = (0..5)
        .map(|i| {
            json!({
                "content": {"type": "TEXT", "text": format!("Chunk {i}: search ranking combines BM25 with vector similarity; \
                            results are re-scored by recency and source weight. ").repeat(4)},
                "location": {"type": "S3", "s3Location": {"uri": format!("s3://bench-corpus/docs/page-{i}.md")}},
                "score": 0.9 - i as f64 * 0.05,
                "metadata": {"x-amz-bedrock-kb-source-uri": format!("s3://bench-corpus/docs/page-{i}.md"),
                             "x-amz-bedrock-kb-chunk-id": format!("chunk-{i}"),
                             "x-amz-bedrock-kb-data-source-id": "DS0", "team": "search", "year": 2024},
            })
        })
        .collect();
    fake.on_json(
        "Retrieve",
        "POST /knowledgebases/{kbId}/retrieve",
        Reply::delay(BEDROCK_ANSWER, Reply::json(json!({ "retrievalResults": results }))),
    );
    fake
}

async fn prepare_bedrock() -> Prepared {
    let fake = bedrock_fake().await;
    let url = fake.url();
    // On the client's own config: an `AWS_ENDPOINT_URL` in the environment beats the shared one.
    let conf = aws_sdk_bedrockagentruntime::config::Builder::from(&server_sdk_config(&url).await)
        .endpoint_url(&url)
        .build();
    let runtime = aws_sdk_bedrockagentruntime::Client::from_conf(conf);
    let kb = "BENCHKB000";
    let query = "how are search results ranked";
    let c = runtime.clone();
    Prepared {
        server: Mcp::builder("aws-bedrock-kb-mcp")
            .endpoint(Service::BedrockAgent, &url)
            .endpoint(Service::BedrockAgentRuntime, &url),
        args: json!({"knowledge_base_id": kb, "query": query, "number_of_results": 5}),
        raw: Box::new(move || {
            use aws_sdk_bedrockagentruntime::types::{
                KnowledgeBaseQuery, KnowledgeBaseRetrievalConfiguration, KnowledgeBaseVectorSearchConfiguration,
            };
            let c = c.clone();
            Box::pin(async move {
                c.retrieve()
                    .knowledge_base_id(kb)
                    .retrieval_query(KnowledgeBaseQuery::builder().text(query).build())
                    .retrieval_configuration(
                        KnowledgeBaseRetrievalConfiguration::builder()
                            .vector_search_configuration(
                                KnowledgeBaseVectorSearchConfiguration::builder()
                                    .number_of_results(5)
                                    .build(),
                            )
                            .build(),
                    )
                    .send()
                    .await
                    .unwrap();
            })
        }),
        meta: Some((
            Meta {
                tool: "list_knowledge_bases",
                cached: |v| v["cached"] == true,
            },
            Uncached::Refresh(json!({})),
        )),
        _keep: vec![Box::new(fake)],
    }
}

/// The STS server with an accounts file of three LocalStack accounts in two regions; `whoami`
/// (the server's own identity) against the raw GetCallerIdentity, and the inventory of those
/// accounts (S3, Lambda, Logs) cached against `refresh`.
async fn prepare_sts() -> Prepared {
    let sts = aws_sdk_sts::Client::new(&server_sdk_config(&Service::Sts.endpoint()).await);
    let accts = accounts(&["bench-a", "bench-b", "bench-c"]);
    let regions = two_regions();
    let file = AccountsFile::for_accounts(&accts, &[&regions[0], &regions[1]]);
    let server = sts_server(&file);
    let c = sts.clone();
    Prepared {
        server,
        args: json!({}),
        raw: Box::new(move || {
            let c = c.clone();
            Box::pin(async move {
                c.get_caller_identity().send().await.unwrap();
            })
        }),
        meta: Some((
            Meta {
                tool: "inventory",
                cached: |v| {
                    let items = &v["counts"]["items"];
                    items["ok"].as_u64().is_some_and(|ok| ok > 0) && items["from_cache"] == items["ok"]
                },
            },
            Uncached::Refresh(json!({"types": ["s3", "lambda", "logs"]})),
        )),
        _keep: vec![Box::new(file)],
    }
}

/// `aws-sts-mcp` with `file`, STS and the listed services at LocalStack; Bedrock nowhere (the
/// bench lists S3, Lambda and Logs only).
pub(crate) fn sts_server(file: &AccountsFile) -> McpBuilder {
    Mcp::builder("aws-sts-mcp")
        .args(&["--accounts", &file.arg()])
        .emulators(&[Service::Sts, Service::S3, Service::Lambda, Service::Logs])
        .endpoint(Service::BedrockAgent, NOWHERE)
}
