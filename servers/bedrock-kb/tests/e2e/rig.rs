//! What this server's tests stand on (kept in this test binary: the rig crate has no Bedrock SDK).
//!
//! - The control plane is moto's server. Two gaps sit between it and the real SDK: moto answers
//!   `createdAt`/`updatedAt` as epoch numbers where the service sends ISO 8601 strings (the SDK
//!   refuses them), it routes `/knowledgebases/` only with a trailing slash (the SDK sends
//!   none), and `ListDataSources` answers 404. So the server talks to a [`Fake`] that
//!   passes every other bedrock-agent call through to moto unchanged except for those timestamps,
//!   and serves `ListDataSources` itself from [`Rig::data_sources`].
//! - bedrock-agent-runtime has no emulator: the same fake answers `Retrieve` and
//!   `RetrieveAndGenerate` in the service's REST-JSON wire format from a fixed [`corpus`], applying
//!   the request's metadata filter itself (so a wrong translation in the server fails a test),
//!   `numberOfResults`, `nextToken`, reranking, and enabled models.

use std::{
    collections::{HashMap, HashSet},
    io::{Read, Write},
    sync::{Arc, Mutex},
    time::Duration,
};

use aws_mcp_tests::{
    Mcp, McpBuilder, Service,
    fake::{Fake, Reply, Request},
    unique,
};
use aws_sdk_bedrockagent::types::{
    KnowledgeBaseConfiguration, KnowledgeBaseStorageType, KnowledgeBaseType, OpenSearchServerlessConfiguration,
    OpenSearchServerlessFieldMapping, StorageConfiguration, VectorKnowledgeBaseConfiguration,
};
use serde_json::{Value, json};

/// The reranking model the fake has enabled (anything else is "not enabled").
pub(crate) const RERANK_MODEL: &str = "amazon.rerank-v1:0";
/// The generating model the fake has enabled.
pub(crate) const GEN_MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

/// A fake endpoint for both Bedrock Agent services, backed by moto for the control plane.
pub struct Rig {
    pub fake: Fake,
    /// Knowledge base id → its data sources (`ListDataSources` answers from here).
    pub data_sources: Arc<Mutex<HashMap<String, Vec<Value>>>>,
    /// Knowledge base ids the runtime knows (others are ResourceNotFoundException).
    pub known: Arc<Mutex<HashSet<String>>>,
    /// The corpus `Retrieve` searches.
    pub corpus: Arc<Mutex<Vec<Value>>>,
    /// Sessions `RetrieveAndGenerate` has opened, with their turn count.
    pub sessions: Arc<Mutex<HashMap<String, u32>>>,
}

impl Rig {
    pub async fn start() -> Self {
        aws_mcp_tests::require(&[Service::BedrockAgent]);
        let rig = Rig {
            fake: Fake::start().await,
            data_sources: Arc::default(),
            known: Arc::default(),
            corpus: Arc::new(Mutex::new(corpus())),
            sessions: Arc::default(),
        };
        for (op, route) in [
            ("CreateKnowledgeBase", "PUT /knowledgebases/"),
            ("ListKnowledgeBases", "POST /knowledgebases/"),
            ("GetKnowledgeBase", "GET /knowledgebases/{kbId}"),
            ("DeleteKnowledgeBase", "DELETE /knowledgebases/{kbId}"),
            ("TagResource", "POST /tags/{arn}"),
            ("ListTagsForResource", "GET /tags/{arn}"),
        ] {
            rig.fake.on_json(op, route, to_moto);
        }
        let ds = rig.data_sources.clone();
        rig.fake.on_json(
            "ListDataSources",
            "POST /knowledgebases/{kbId}/datasources/",
            move |r: &Request| {
                let kb = r.param("kbId").unwrap_or_default().to_owned();
                let list = ds.lock().unwrap().get(&kb).cloned().unwrap_or_default();
                Reply::json(json!({ "dataSourceSummaries": list }))
            },
        );
        let (known, corpus) = (rig.known.clone(), rig.corpus.clone());
        rig.fake.on_json(
            "Retrieve",
            "POST /knowledgebases/{kbId}/retrieve",
            move |r: &Request| {
                let corpus = corpus.lock().unwrap().clone();
                retrieve(r, &known.lock().unwrap(), &corpus)
            },
        );
        let (known, corpus, sessions) = (rig.known.clone(), rig.corpus.clone(), rig.sessions.clone());
        rig.fake.on_json(
            "RetrieveAndGenerate",
            "POST /retrieveAndGenerate",
            move |r: &Request| {
                let corpus = corpus.lock().unwrap().clone();
                generate(r, &known.lock().unwrap(), &corpus, &mut sessions.lock().unwrap())
            },
        );
        rig
    }

    /// The server, with both services at this rig.
    pub fn server(&self, bin: &str) -> McpBuilder {
        Mcp::builder(bin)
            .endpoint(Service::BedrockAgent, &self.fake.url())
            .endpoint(Service::BedrockAgentRuntime, &self.fake.url())
    }

    /// A bedrock-agent SDK client for set-up, through the pass-through.
    pub async fn agent(&self) -> aws_sdk_bedrockagent::Client {
        aws_sdk_bedrockagent::Client::new(&aws_mcp_tests::sdk_config_at(&self.fake.url()).await)
    }

    /// A knowledge base in moto named `name`, with `tags` and data sources `ds` (id, name); the
    /// runtime knows it. Returns its id.
    pub async fn kb(&self, name: &str, tags: &[(&str, &str)], ds: &[(&str, &str)]) -> String {
        let id = create_kb(&self.agent().await, name, tags).await;
        self.known.lock().unwrap().insert(id.clone());
        let list = ds
            .iter()
            .map(|(dsid, n)| {
                json!({"knowledgeBaseId": id, "dataSourceId": dsid, "name": n, "status": "AVAILABLE",
                       "description": format!("{n} documents"), "updatedAt": "2026-11-01T10:00:00Z"})
            })
            .collect();
        self.data_sources.lock().unwrap().insert(id.clone(), list);
        id
    }

    /// The JSON bodies of the runtime requests received (`Retrieve` or `RetrieveAndGenerate`).
    pub fn bodies(&self, op: &str) -> Vec<Value> {
        self.fake.requests_for(op).iter().map(|r| r.json().clone()).collect()
    }
}

/// Create a knowledge base with the SDK (through a pass-through rig); its id.
pub(crate) async fn create_kb(agent: &aws_sdk_bedrockagent::Client, name: &str, tags: &[(&str, &str)]) -> String {
    let config = KnowledgeBaseConfiguration::builder()
        .r#type(KnowledgeBaseType::Vector)
        .vector_knowledge_base_configuration(
            VectorKnowledgeBaseConfiguration::builder()
                .embedding_model_arn("arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let storage = StorageConfiguration::builder()
        .r#type(KnowledgeBaseStorageType::OpensearchServerless)
        .opensearch_serverless_configuration(
            OpenSearchServerlessConfiguration::builder()
                .collection_arn("arn:aws:aoss:us-east-1:123456789012:collection/e2e")
                .vector_index_name("idx")
                .field_mapping(
                    OpenSearchServerlessFieldMapping::builder()
                        .vector_field("v")
                        .text_field("t")
                        .metadata_field("m")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let mut req = agent
        .create_knowledge_base()
        .name(name)
        .description(format!("{name} for tests"))
        .role_arn("arn:aws:iam::123456789012:role/e2e-kb")
        .knowledge_base_configuration(config)
        .storage_configuration(storage);
    for (k, v) in tags {
        req = req.tags(*k, *v);
    }
    let out = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("create knowledge base {name}: {e:?}"));
    let kb = out.knowledge_base().expect("created knowledge base");
    let id = kb.knowledge_base_id().to_owned();
    if !tags.is_empty() {
        // moto may not keep tags given at creation: tag explicitly as well.
        let mut t = agent.tag_resource().resource_arn(kb.knowledge_base_arn());
        for (k, v) in tags {
            t = t.tags(*k, *v);
        }
        t.send().await.unwrap_or_else(|e| panic!("tag {name}: {e:?}"));
    }
    id
}

/// A knowledge base with a fresh name starting with `prefix`, created through a short-lived rig
/// (contract set-up, called many times with one prefix; the contract's teardown deletes it).
pub(crate) async fn one_kb(prefix: &str) -> String {
    let rig = Rig::start().await;
    let name = unique(prefix);
    create_kb(&rig.agent().await, &name, &[]).await;
    name
}

/// A unique knowledge base name prefix.
pub(crate) fn prefix(what: &str) -> String {
    unique(what).replace('-', "_")
}

// ---- moto pass-through -------------------------------------------------------------------

/// Forward a bedrock-agent request to moto (blocking std I/O on the fake's task: moto is a
/// separate process, so this cannot deadlock) and fix its timestamps on the way back.
fn to_moto(r: &Request) -> Reply {
    match forward(r) {
        Ok((status, headers, body)) => {
            let body = match serde_json::from_slice::<Value>(&body) {
                Ok(mut v) => {
                    iso_timestamps(&mut v);
                    v.to_string().into_bytes()
                }
                Err(_) => body,
            };
            let ct = headers
                .iter()
                .find(|(k, _)| k == "content-type")
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| "application/json".into());
            let mut reply = Reply::raw(status, Some(&ct), body);
            for (k, v) in headers.iter().filter(|(k, _)| k == "x-amzn-errortype") {
                reply = reply.header(k, v);
            }
            reply
        }
        Err(e) => Reply::error(502, "BadGatewayException", &format!("moto pass-through: {e}")),
    }
}

/// An HTTP answer: status, headers (lower-case names), body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

fn forward(r: &Request) -> std::io::Result<Answer> {
    let query = if r.query.is_empty() {
        String::new()
    } else {
        let pairs: Vec<String> = r.query.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
        format!("?{}", pairs.join("&"))
    };
    // moto routes `/knowledgebases/` only with its trailing slash; the SDK sends none.
    let path = if r.path == "/knowledgebases" {
        "/knowledgebases/"
    } else {
        r.path.as_str()
    };
    moto(&r.method, &format!("{path}{query}"), &r.headers, &r.body)
}

/// One request to moto's server over a plain socket.
fn moto(method: &str, path_and_query: &str, headers: &[(String, String)], body: &[u8]) -> std::io::Result<Answer> {
    let base = Service::BedrockAgent.endpoint();
    let authority = base.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mut s = std::net::TcpStream::connect(&authority)?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    // HTTP/1.0 and Connection: close: the answer is the whole stream, never chunked.
    let mut head = format!("{method} {path_and_query} HTTP/1.0\r\nHost: {authority}\r\n");
    for (k, v) in headers {
        if !matches!(
            k.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers, body))
}

/// Delete knowledge bases from moto (blocking: runs in `Drop`, also when a test fails). moto
/// picks the backend from the signing scope, so a dummy bedrock scope is enough.
pub(crate) fn delete_kbs(ids: impl IntoIterator<Item = String>) {
    let auth = (
        "authorization".to_owned(),
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=0"
            .to_owned(),
    );
    for id in ids {
        let _ = moto(
            "DELETE",
            &format!("/knowledgebases/{id}"),
            std::slice::from_ref(&auth),
            b"",
        );
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        let ids: Vec<String> = self
            .known
            .lock()
            .map(|k| k.iter().cloned().collect())
            .unwrap_or_default();
        delete_kbs(ids);
    }
}

/// Contract teardown: delete the knowledge base named `name` (made by [`one_kb`]).
pub(crate) async fn drop_kb_named(name: &str) {
    let rig = Rig::start().await;
    let agent = rig.agent().await;
    let mut token = None;
    let mut ids = Vec::new();
    loop {
        let Ok(out) = agent
            .list_knowledge_bases()
            .max_results(1000)
            .set_next_token(token)
            .send()
            .await
        else {
            break;
        };
        ids.extend(
            out.knowledge_base_summaries()
                .iter()
                .filter(|k| k.name() == name)
                .map(|k| k.knowledge_base_id().to_owned()),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    delete_kbs(ids);
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// moto's epoch-number timestamps → the ISO 8601 strings the service sends.
fn iso_timestamps(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k.ends_with("At")
                    && let Some(secs) = x.as_f64()
                {
                    let t = aws_smithy_types::DateTime::from_secs_f64(secs)
                        .fmt(aws_smithy_types::date_time::Format::DateTime)
                        .unwrap_or_default();
                    *x = json!(t);
                } else {
                    iso_timestamps(x);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(iso_timestamps),
        _ => {}
    }
}

// ---- the runtime: corpus, filter, paging ---------------------------------------------------

/// A text chunk of the corpus.
fn text(id: &str, score: f64, body: &str, location: Value, meta: Value) -> Value {
    let metadata = with_id(meta, id);
    json!({
        "content": {"type": "TEXT", "text": body},
        "location": location,
        "score": score,
        "metadata": metadata,
        "documentId": format!("doc-{id}"),
    })
}

fn with_id(mut meta: Value, id: &str) -> Value {
    meta["x-amz-bedrock-kb-chunk-id"] = json!(id);
    meta
}

fn s3(key: &str) -> Value {
    json!({"type": "S3", "s3Location": {"uri": format!("s3://kb-docs/{key}")}})
}

fn meta(team: &str, year: u32, tags: &[&str], ds: &str, public: bool, title: &str) -> Value {
    json!({
        "team": team, "year": year, "tags": tags, "public": public, "title": title,
        "x-amz-bedrock-kb-data-source-id": ds,
        "x-amz-bedrock-kb-source-uri": format!("s3://kb-docs/{}.md", title.to_ascii_lowercase().replace(' ', "-")),
    })
}

/// Twelve chunks in score order: text from five source types, an image and a table row, plus a
/// long chunk (team `archive`) for clipping.
pub(crate) fn corpus() -> Vec<Value> {
    vec![
        text(
            "c01",
            0.97,
            "Search ranking uses BM25 plus vectors.",
            s3("search/ranking.md"),
            meta("search", 2024, &["howto", "api"], "DS1", true, "Search ranking"),
        ),
        text(
            "c02",
            0.93,
            "Invoices are issued on the first of the month.",
            json!({"type": "WEB", "webLocation": {"url": "https://docs.example.com/billing/invoices"}}),
            meta("billing", 2023, &["faq"], "DS2", true, "Billing invoices"),
        ),
        text(
            "c03",
            0.91,
            "Indexing pipeline: crawl, chunk, embed.",
            json!({"type": "CONFLUENCE", "confluenceLocation": {"url": "https://wiki.example.com/SEARCH/indexing"}}),
            meta("search", 2022, &["howto"], "DS1", false, "Search indexing"),
        ),
        json!({
            "content": {"type": "IMAGE", "text": "", "byteContent": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="},
            "location": s3("infra/diagram.png"),
            "score": 0.89,
            "metadata": with_id(meta("infra", 2024, &["diagram"], "DS1", true, "Infra diagram"), "img1"),
            "documentId": "doc-img1",
        }),
        text(
            "c04",
            0.87,
            "Refunds take five business days.",
            json!({"type": "SALESFORCE", "salesforceLocation": {"url": "https://example.my.salesforce.com/kA0"}}),
            meta("billing", 2021, &["faq", "refunds"], "DS2", true, "Refund policy"),
        ),
        json!({
            "content": {"type": "ROW", "text": "", "row": [
                {"columnName": "region", "columnValue": "eu-west-1", "type": "STRING"},
                {"columnName": "nodes", "columnValue": "12", "type": "LONG"}
            ]},
            "location": {"type": "SQL", "sqlLocation": {"query": "SELECT region, nodes FROM clusters"}},
            "score": 0.85,
            "metadata": with_id(meta("infra", 2023, &["inventory"], "DS3", false, "Cluster inventory"), "row1"),
        }),
        text(
            "c05",
            0.83,
            "On-call rotations change every Monday.",
            json!({"type": "SHAREPOINT", "sharePointLocation": {"url": "https://example.sharepoint.com/oncall"}}),
            meta("infra", 2020, &["process"], "DS3", false, "On-call"),
        ),
        text(
            "c06",
            0.81,
            "The search API accepts up to 100 results.",
            json!({"type": "CUSTOM", "customDocumentLocation": {"id": "custom-doc-6"}}),
            meta("search", 2019, &["api"], "DS1", true, "Search API limits"),
        ),
        text(
            "c07",
            0.79,
            "Tax rates follow the billing address.",
            s3("billing/tax.md"),
            meta("billing", 2024, &["faq", "tax"], "DS2", false, "Tax rules"),
        ),
        text(
            "c08",
            0.77,
            "Backups run nightly at 02:00 UTC.",
            s3("infra/backups.md"),
            meta("infra", 2022, &["process", "backup"], "DS3", true, "Backup schedule"),
        ),
        text(
            "c09",
            0.75,
            "Synonyms are configured per index.",
            s3("search/synonyms.md"),
            meta("search", 2023, &["howto"], "DS1", true, "Search synonyms"),
        ),
        text(
            "c10",
            0.40,
            &"Archived design notes. ".repeat(3_000),
            s3("archive/design.md"),
            meta("archive", 2010, &["old"], "DS4", false, "Archive design"),
        ),
    ]
}

fn err(status: u16, code: &str, msg: impl Into<String>) -> Reply {
    Reply::error(status, code, &msg.into())
}

/// The matching chunks for a retrieval configuration, in score order (or reranked), or a
/// ValidationException in the service's words.
fn search(config: &Value, query: &str, corpus: &[Value]) -> Result<Vec<Value>, Reply> {
    if query.trim().is_empty() {
        return Err(err(400, "ValidationException", "retrievalQuery.text must not be empty"));
    }
    let vector = &config["vectorSearchConfiguration"];
    let mut hits = Vec::new();
    for doc in corpus {
        let keep = match vector.get("filter") {
            Some(f) => matches(f, &doc["metadata"]).map_err(|m| err(400, "ValidationException", m))?,
            None => true,
        };
        if keep {
            hits.push(doc.clone());
        }
    }
    if let Some(t) = vector.get("overrideSearchType").and_then(Value::as_str)
        && !matches!(t, "HYBRID" | "SEMANTIC")
    {
        return Err(err(
            400,
            "ValidationException",
            format!("overrideSearchType {t} is invalid"),
        ));
    }
    if let Some(rr) = vector.get("rerankingConfiguration") {
        let b = &rr["bedrockRerankingConfiguration"];
        let arn = b["modelConfiguration"]["modelArn"].as_str().unwrap_or_default();
        if rr["type"] != "BEDROCK_RERANKING_MODEL" || !arn.starts_with("arn:aws:bedrock:") {
            return Err(err(400, "ValidationException", "rerankingConfiguration is malformed"));
        }
        if !arn.ends_with(&format!("::foundation-model/{RERANK_MODEL}")) {
            return Err(err(
                400,
                "ValidationException",
                format!("The reranking model {arn} is not enabled for this account or not available in this region."),
            ));
        }
        // The fake's reranker prefers the lower-scored chunks, so a test can see it ran.
        hits.reverse();
        if let Some(n) = b["numberOfRerankedResults"].as_u64() {
            hits.truncate(n as usize);
        }
    }
    Ok(hits)
}

fn retrieve(r: &Request, known: &HashSet<String>, corpus: &[Value]) -> Reply {
    let kb = r.param("kbId").unwrap_or_default();
    if !known.contains(kb) {
        return err(
            404,
            "ResourceNotFoundException",
            format!("KnowledgeBase with id {kb} does not exist"),
        );
    }
    let body = r.json();
    let n = body["retrievalConfiguration"]["vectorSearchConfiguration"]["numberOfResults"]
        .as_u64()
        .unwrap_or(5) as usize;
    if !(1..=100).contains(&n) {
        return err(400, "ValidationException", "numberOfResults must be between 1 and 100");
    }
    let hits = match search(
        &body["retrievalConfiguration"],
        body["retrievalQuery"]["text"].as_str().unwrap_or(""),
        corpus,
    ) {
        Ok(h) => h,
        Err(reply) => return reply,
    };
    let start = match body.get("nextToken").and_then(Value::as_str) {
        None => 0,
        Some(t) => match t.strip_prefix("tok-").and_then(|o| o.parse::<usize>().ok()) {
            Some(o) => o,
            None => return err(400, "ValidationException", "nextToken is invalid"),
        },
    };
    let page: Vec<Value> = hits.iter().skip(start).take(n).cloned().collect();
    let mut out = json!({ "retrievalResults": page });
    if start + n < hits.len() {
        out["nextToken"] = json!(format!("tok-{}", start + n));
    }
    Reply::json(out)
}

fn generate(r: &Request, known: &HashSet<String>, corpus: &[Value], sessions: &mut HashMap<String, u32>) -> Reply {
    let body = r.json();
    let config = &body["retrieveAndGenerateConfiguration"];
    if config["type"] != "KNOWLEDGE_BASE" {
        return err(400, "ValidationException", "type must be KNOWLEDGE_BASE");
    }
    let kbc = &config["knowledgeBaseConfiguration"];
    let kb = kbc["knowledgeBaseId"].as_str().unwrap_or_default();
    if !known.contains(kb) {
        return err(
            404,
            "ResourceNotFoundException",
            format!("KnowledgeBase with id {kb} does not exist"),
        );
    }
    let model = kbc["modelArn"].as_str().unwrap_or_default();
    if !model.ends_with(GEN_MODEL) {
        return err(
            400,
            "ValidationException",
            format!("The model {model} is not enabled for this account or not available in this region."),
        );
    }
    let question = body["input"]["text"].as_str().unwrap_or_default();
    let retrieval = &kbc["retrievalConfiguration"];
    let n = retrieval["vectorSearchConfiguration"]["numberOfResults"]
        .as_u64()
        .unwrap_or(5) as usize;
    let hits = match search(retrieval, question, corpus) {
        Ok(h) => h
            .into_iter()
            .filter(|h| h["content"]["type"] == "TEXT")
            .take(n)
            .collect::<Vec<_>>(),
        Err(reply) => return reply,
    };
    let session = match body.get("sessionId").and_then(Value::as_str) {
        Some(s) => match sessions.get_mut(s) {
            Some(turns) => {
                *turns += 1;
                s.to_owned()
            }
            None => return err(404, "ResourceNotFoundException", format!("Session {s} not found")),
        },
        None => {
            let s = format!("sess-{}", sessions.len() + 1);
            sessions.insert(s.clone(), 1);
            s
        }
    };
    let turn = sessions[&session];
    let mut answer = format!("Turn {turn}. ");
    let mut citations = Vec::new();
    for h in hits.iter().take(2) {
        let sentence = h["content"]["text"].as_str().unwrap_or_default();
        let start = answer.len();
        answer.push_str(sentence);
        answer.push(' ');
        citations.push(json!({
            "generatedResponsePart": {"textResponsePart": {"text": sentence, "span": {"start": start, "end": start + sentence.len() - 1}}},
            "retrievedReferences": [{"content": h["content"], "location": h["location"], "metadata": h["metadata"]}],
        }));
    }
    Reply::json(json!({
        "sessionId": session,
        "output": {"text": answer.trim_end()},
        "citations": citations,
    }))
}

/// The service's filter semantics over one chunk's metadata; an unknown operator or a malformed
/// operand is an error, as the service's ValidationException would be.
pub(crate) fn matches(f: &Value, meta: &Value) -> Result<bool, String> {
    let obj = f.as_object().ok_or("a filter must be an object")?;
    if obj.len() != 1 {
        return Err(format!("a filter must have exactly one operator, has {}", obj.len()));
    }
    let (op, body) = obj.iter().next().ok_or("empty filter")?;
    if op == "andAll" || op == "orAll" {
        let items = body.as_array().ok_or("andAll/orAll takes a list")?;
        if items.len() < 2 {
            return Err(format!("{op} needs at least 2 filters"));
        }
        let results = items.iter().map(|i| matches(i, meta)).collect::<Result<Vec<_>, _>>()?;
        return Ok(if op == "andAll" {
            results.iter().all(|b| *b)
        } else {
            results.iter().any(|b| *b)
        });
    }
    let key = body["key"].as_str().ok_or("key must be a string")?;
    let value = body.get("value").ok_or("value is missing")?;
    let got = meta.get(key);
    let num = |v: &Value| v.as_f64();
    let cmp = |want: fn(f64, f64) -> bool| -> Result<bool, String> {
        let w = num(value).ok_or(format!("{op} takes a number"))?;
        Ok(got.and_then(num).is_some_and(|g| want(g, w)))
    };
    let same = |a: &Value, b: &Value| match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    };
    Ok(match op.as_str() {
        "equals" => got.is_some_and(|g| same(g, value)),
        "notEquals" => !got.is_some_and(|g| same(g, value)),
        "greaterThan" => cmp(|g, w| g > w)?,
        "greaterThanOrEquals" => cmp(|g, w| g >= w)?,
        "lessThan" => cmp(|g, w| g < w)?,
        "lessThanOrEquals" => cmp(|g, w| g <= w)?,
        "in" | "notIn" => {
            let list = value.as_array().ok_or(format!("{op} takes a list"))?;
            let found = got.is_some_and(|g| list.iter().any(|v| same(g, v)));
            if op == "in" { found } else { !found }
        }
        "startsWith" => {
            let p = value.as_str().ok_or("startsWith takes a string")?;
            got.and_then(Value::as_str).is_some_and(|g| g.starts_with(p))
        }
        "listContains" => got
            .and_then(Value::as_array)
            .is_some_and(|items| items.iter().any(|i| same(i, value))),
        "stringContains" => {
            let p = value.as_str().ok_or("stringContains takes a string")?;
            match got {
                Some(Value::String(g)) => g.contains(p),
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).any(|g| g.contains(p)),
                _ => false,
            }
        }
        other => return Err(format!("unknown filter operator {other}")),
    })
}

/// The chunk ids (metadata `x-amz-bedrock-kb-chunk-id`) of results, in order.
pub(crate) fn ids(results: &[Value]) -> Vec<String> {
    results
        .iter()
        .map(|r| {
            r["metadata"]["x-amz-bedrock-kb-chunk-id"]
                .as_str()
                .unwrap_or("?")
                .to_owned()
        })
        .collect()
}

/// The corpus ids a filter selects, in score order, by the fake's own semantics.
pub(crate) fn expected(filter: &Value) -> Vec<String> {
    ids(&corpus()
        .into_iter()
        .filter(|d| matches(filter, &d["metadata"]).unwrap())
        .collect::<Vec<_>>())
}
