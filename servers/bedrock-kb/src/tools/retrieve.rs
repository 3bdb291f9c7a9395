//! `retrieve` (chunks with score, location and metadata, paged through the service's nextToken)
//! and `retrieve_and_generate` (a grounded answer with citations; behind `--allow-generate`).

use aws_sdk_bedrockagentruntime::types::{
    KnowledgeBaseQuery, KnowledgeBaseRetrievalConfiguration, KnowledgeBaseRetrieveAndGenerateConfiguration,
    KnowledgeBaseVectorSearchConfiguration, RetrieveAndGenerateConfiguration, RetrieveAndGenerateInput,
    RetrieveAndGenerateType, SearchType as SdkSearchType, VectorSearchBedrockRerankingConfiguration,
    VectorSearchBedrockRerankingModelConfiguration, VectorSearchRerankingConfiguration,
    VectorSearchRerankingConfigurationType,
};
use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{
    Output, Page, PageArgs, ToolError, ToolResult,
    aws::call,
    budget::{self, Clipped, Truncation},
};

use crate::{BedrockKbServer, RETRIEVE, RETRIEVE_AND_GENERATE, filter, results};

/// Results per call when not asked (the service's own default).
const DEFAULT_RESULTS: u32 = 5;
/// Room kept per result for its line in a `truncated` note.
const CLIP_NOTE_ROOM: usize = 120;
const HOW_TO_UNCLIP: &str = "a clipped chunk is cut to share the budget with the others: ask for fewer results \
(number_of_results 1 gives one chunk all the room), or restart the server with a larger --max-output-tokens";

#[derive(Clone, Copy, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum SearchType {
    Hybrid,
    Semantic,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct RetrieveParams {
    pub knowledge_base_id: String,
    pub query: String,
    /// Results per page (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub number_of_results: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "search_type_schema")]
    pub search_type: Option<SearchType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "filter_schema")]
    pub filter: Option<Value>,
    /// Only these data sources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_source_ids: Vec<String>,
    /// Reranking model id or ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerank_model: Option<String>,
    /// Kept after reranking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub rerank_count: Option<u32>,
    /// From next_cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct GenerateParams {
    pub knowledge_base_id: String,
    pub query: String,
    /// Model id, ARN or inference profile.
    pub model: String,
    /// From an earlier answer, to follow up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Chunks used (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub number_of_results: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "filter_schema")]
    pub filter: Option<Value>,
    /// As in retrieve.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_source_ids: Vec<String>,
}

/// A filter is an object (one operator); its inside is checked by [`filter::parse`], which names
/// the bad part, so the schema stays one line.
fn filter_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "object", "description": "Metadata filter (see instructions)"})
}

/// Inline, not a `$ref` into `$defs`: fewer bytes in every tools/list.
fn search_type_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "string", "enum": ["HYBRID", "SEMANTIC"]})
}

/// What both tools send as retrieval settings.
struct Retrieval<'a> {
    number_of_results: Option<u32>,
    search_type: Option<SearchType>,
    filter: Option<&'a Value>,
    data_source_ids: &'a [String],
    rerank_model: Option<&'a str>,
    rerank_count: Option<u32>,
}

/// `arn:<partition>:bedrock:<region>::foundation-model/<id>` for a reranking model given by id
/// (the service takes only ARNs there); an ARN is kept as given.
pub(crate) fn rerank_arn(model: &str, region: &str) -> String {
    if model.starts_with("arn:") {
        return model.to_owned();
    }
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    format!("arn:{partition}:bedrock:{region}::foundation-model/{model}")
}

fn check_model(field: &str, model: &str) -> Result<(), ToolError> {
    if model.trim().is_empty() || model.len() > 2048 || model.chars().any(char::is_whitespace) {
        return Err(ToolError::invalid(
            field,
            "must be a model id (like amazon.rerank-v1:0) or ARN, without spaces",
        ));
    }
    Ok(())
}

fn check_query(query: &str) -> Result<(), ToolError> {
    if query.trim().is_empty() {
        return Err(ToolError::invalid("query", "must not be empty"));
    }
    Ok(())
}

impl Retrieval<'_> {
    /// The service's retrieval configuration, every part checked first.
    fn build(&self, region: &str) -> Result<KnowledgeBaseRetrievalConfiguration, ToolError> {
        let filter = filter::combine(self.filter, self.data_source_ids)?;
        let rerank = match (self.rerank_model, self.rerank_count) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(ToolError::invalid("rerank_count", "only applies with rerank_model"));
            }
            (Some(model), count) => {
                check_model("rerank_model", model)?;
                let model = VectorSearchBedrockRerankingModelConfiguration::builder()
                    .model_arn(rerank_arn(model, region))
                    .build()
                    .map_err(|e| ToolError::invalid("rerank_model", e.to_string()))?;
                let bedrock = VectorSearchBedrockRerankingConfiguration::builder()
                    .model_configuration(model)
                    .set_number_of_reranked_results(count.map(|c| c as i32))
                    .build();
                Some(
                    VectorSearchRerankingConfiguration::builder()
                        .r#type(VectorSearchRerankingConfigurationType::BedrockRerankingModel)
                        .bedrock_reranking_configuration(bedrock)
                        .build()
                        .map_err(|e| ToolError::invalid("rerank_model", e.to_string()))?,
                )
            }
        };
        let search = KnowledgeBaseVectorSearchConfiguration::builder()
            .number_of_results(self.number_of_results.unwrap_or(DEFAULT_RESULTS).clamp(1, 100) as i32)
            .set_override_search_type(self.search_type.map(|s| match s {
                SearchType::Hybrid => SdkSearchType::Hybrid,
                SearchType::Semantic => SdkSearchType::Semantic,
            }))
            .set_filter(filter)
            .set_reranking_configuration(rerank)
            .build();
        Ok(KnowledgeBaseRetrievalConfiguration::builder()
            .vector_search_configuration(search)
            .build())
    }
}

fn note(budget: &shared::Budget, clips: Vec<Clipped>) -> Truncation {
    Truncation {
        budget_tokens: budget.tokens(),
        dropped_items: Vec::new(),
        clipped_strings: clips,
        how_to_get_the_rest: HOW_TO_UNCLIP.into(),
    }
}

#[tool_router(router = retrieve_tools, vis = "pub(crate)")]
impl BedrockKbServer {
    /// Search a knowledge base: ranked chunks with text, score, location and metadata.
    #[tool(annotations(
        title = "Retrieve from a knowledge base",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn retrieve(&self, Parameters(p): Parameters<RetrieveParams>) -> ToolResult {
        self.check_kb("knowledge_base_id", &p.knowledge_base_id).await?;
        check_query(&p.query)?;
        let region = self.inner.runtime.region();
        let config = Retrieval {
            number_of_results: p.number_of_results,
            search_type: p.search_type,
            filter: p.filter.as_ref(),
            data_source_ids: &p.data_source_ids,
            rerank_model: p.rerank_model.as_deref(),
            rerank_count: p.rerank_count,
        }
        .build(&region)?;
        self.check_data_sources(&p.knowledge_base_id, &p.data_source_ids)
            .await?;
        let paging = PageArgs {
            page_size: None,
            cursor: p.cursor.clone(),
        };
        let at: Page<String> = self.core.page(&p, &paging)?;
        let (client, target) = self.inner.runtime.get().await?;
        let out = call(
            RETRIEVE,
            &target,
            client
                .retrieve()
                .knowledge_base_id(&p.knowledge_base_id)
                .retrieval_query(KnowledgeBaseQuery::builder().text(&p.query).build())
                .retrieval_configuration(config)
                .set_next_token(at.token.clone())
                .send(),
        )
        .await?;
        let next = out.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
        // Chunks already sent on a page the budget cut are skipped before fitting, so the texts
        // share the room among what this page returns.
        let chunks: Vec<results::Chunk> = out
            .retrieval_results()
            .iter()
            .skip(at.skip)
            .map(|r| {
                let mut c = results::chunk(r.content(), r.location(), r.metadata());
                if let Some(s) = r.score() {
                    c.value.insert("score".into(), json!(s));
                }
                if let Some(id) = r.document_id() {
                    c.value.insert("document_id".into(), json!(id));
                }
                c
            })
            .collect();
        let mut envelope = json!({ "knowledge_base_id": p.knowledge_base_id });
        if let Some(g) = out.guardrail_action() {
            envelope["guardrail_action"] = json!(g.as_str());
        }
        let token_len = at
            .token
            .as_ref()
            .map_or(0, budget::json_len)
            .max(next.as_ref().map_or(0, budget::json_len));
        let overhead = budget::json_len(&envelope) + 800 + 2 * token_len + CLIP_NOTE_ROOM * chunks.len();
        let room = self.core.budget.room(overhead);
        let (values, clips) = results::fit(chunks, room, |i| format!("/results/{i}/text"));
        if !clips.is_empty() {
            budget::attach(&mut envelope, note(&self.core.budget, clips));
        }
        // `paged` skips `at.skip` items itself: hand it the page with placeholders for those.
        let mut items = vec![Value::Null; at.skip.min(out.retrieval_results().len())];
        items.extend(values);
        self.core.paged(&p, &at, next, items, "results", envelope)
    }

    /// Answer from a knowledge base with a model, with citations.
    #[tool(annotations(
        title = "Answer from a knowledge base",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    async fn retrieve_and_generate(&self, Parameters(p): Parameters<GenerateParams>) -> ToolResult {
        self.check_kb("knowledge_base_id", &p.knowledge_base_id).await?;
        check_query(&p.query)?;
        check_model("model", &p.model)?;
        if let Some(s) = &p.session_id
            && (s.trim().is_empty() || s.chars().any(char::is_whitespace))
        {
            return Err(ToolError::invalid(
                "session_id",
                "must be the session_id of an earlier answer, unchanged",
            ));
        }
        let region = self.inner.runtime.region();
        let retrieval = Retrieval {
            number_of_results: p.number_of_results,
            search_type: None,
            filter: p.filter.as_ref(),
            data_source_ids: &p.data_source_ids,
            rerank_model: None,
            rerank_count: None,
        }
        .build(&region)?;
        self.check_data_sources(&p.knowledge_base_id, &p.data_source_ids)
            .await?;
        let kb = KnowledgeBaseRetrieveAndGenerateConfiguration::builder()
            .knowledge_base_id(&p.knowledge_base_id)
            .model_arn(&p.model)
            .retrieval_configuration(retrieval)
            .build()
            .map_err(|e| ToolError::invalid("model", e.to_string()))?;
        let config = RetrieveAndGenerateConfiguration::builder()
            .r#type(RetrieveAndGenerateType::KnowledgeBase)
            .knowledge_base_configuration(kb)
            .build()
            .map_err(|e| ToolError::Other(e.to_string()))?;
        let input = RetrieveAndGenerateInput::builder()
            .text(&p.query)
            .build()
            .map_err(|e| ToolError::invalid("query", e.to_string()))?;
        let (client, target) = self.inner.runtime.get().await?;
        let out = call(
            RETRIEVE_AND_GENERATE,
            &target,
            client
                .retrieve_and_generate()
                .input(input)
                .retrieve_and_generate_configuration(config)
                .set_session_id(p.session_id.clone())
                .send(),
        )
        .await?;
        let answer = out.output().map(|o| o.text()).unwrap_or_default();
        // Every reference of every citation shares the budget left after the answer.
        let mut chunks = Vec::new();
        let mut shape = Vec::new();
        for c in out.citations() {
            let part = c.generated_response_part().and_then(|g| g.text_response_part());
            let refs = c.retrieved_references();
            shape.push((
                part.and_then(|t| t.text()).map(str::to_owned),
                part.and_then(|t| t.span()).map(|s| json!([s.start(), s.end()])),
                refs.len(),
            ));
            chunks.extend(
                refs.iter()
                    .map(|r| results::chunk(r.content(), r.location(), r.metadata())),
            );
        }
        let mut flat_paths = Vec::new();
        for (ci, (_, _, n)) in shape.iter().enumerate() {
            flat_paths.extend((0..*n).map(|ri| format!("/citations/{ci}/references/{ri}/text")));
        }
        let overhead = budget::json_len(answer)
            + 600
            + shape
                .iter()
                .map(|(t, _, _)| t.as_deref().map_or(0, budget::json_len) + 60)
                .sum::<usize>()
            + CLIP_NOTE_ROOM * chunks.len();
        let room = self.core.budget.room(overhead);
        let (mut values, clips) = results::fit(chunks, room, |i| flat_paths.get(i).cloned().unwrap_or_default());
        let mut citations = Vec::new();
        for (text, span, n) in shape {
            let refs: Vec<Value> = values.drain(..n.min(values.len())).collect();
            citations.push(json!({ "text": text, "span": span, "references": refs }));
        }
        let mut result = json!({
            "answer": answer,
            "session_id": out.session_id(),
            "citations": citations,
        });
        if let Some(g) = out.guardrail_action() {
            result["guardrail_action"] = json!(g.as_str());
        }
        if !clips.is_empty() {
            budget::attach(&mut result, note(&self.core.budget, clips));
        }
        Ok(Output(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rerank_models_become_arns_in_the_call_region() {
        assert_eq!(
            rerank_arn("amazon.rerank-v1:0", "eu-central-1"),
            "arn:aws:bedrock:eu-central-1::foundation-model/amazon.rerank-v1:0"
        );
        assert_eq!(
            rerank_arn("m", "cn-north-1"),
            "arn:aws-cn:bedrock:cn-north-1::foundation-model/m"
        );
        let arn = "arn:aws:bedrock:us-west-2::foundation-model/cohere.rerank-v3-5:0";
        assert_eq!(rerank_arn(arn, "eu-west-1"), arn);
    }

    #[test]
    fn rerank_count_needs_a_model() {
        let r = Retrieval {
            number_of_results: None,
            search_type: None,
            filter: None,
            data_source_ids: &[],
            rerank_model: None,
            rerank_count: Some(3),
        };
        assert!(
            matches!(r.build("us-east-1"), Err(ToolError::InvalidArgument { field, .. }) if field == "rerank_count")
        );
    }
}
