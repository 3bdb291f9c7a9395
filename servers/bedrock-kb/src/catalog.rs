//! The knowledge bases this server may use, discovered once per account and region and cached for
//! the server's TTL: each base's summary and data sources, filtered by `--kb` (ids or names) and
//! `--kb-tag`. Tags are only read when `--kb-tag` asks for them (they need GetKnowledgeBase for the
//! ARN, then ListTagsForResource), and per-base calls run with bounded concurrency rather than one
//! after another.

use std::{collections::BTreeMap, sync::Arc};

use futures::{StreamExt, stream};
use serde::Serialize;
use shared::{ToolError, aws::call, context};

use crate::{BedrockKbServer, GET_KNOWLEDGE_BASE, LIST_DATA_SOURCES, LIST_KNOWLEDGE_BASES, LIST_TAGS};

/// Per-base calls in flight at once.
const CONCURRENCY: usize = 8;
/// ListKnowledgeBases pages read at most (1,000 bases each).
const MAX_BASE_PAGES: usize = 20;
/// ListDataSources pages read per base at most (1,000 data sources each).
const MAX_SOURCE_PAGES: usize = 5;

#[derive(Clone, Debug, Serialize)]
pub(crate) struct DataSource {
    pub id: String,
    pub name: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub updated_at: String,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Base {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub status: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_sources: Option<Vec<DataSource>>,
    /// Why the data sources could not be read (the base is still listed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_sources_error: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    /// Allowed bases, by id.
    pub bases: Vec<Base>,
    /// Ids (and names) AWS listed that the allowlist or the tag filter excludes.
    pub excluded: Vec<(String, String)>,
    pub fetched_at_ms: i64,
    /// The listing stopped at its page cap.
    pub capped: bool,
}

impl Catalog {
    pub(crate) fn get(&self, id: &str) -> Option<&Base> {
        self.bases.iter().find(|b| b.id == id)
    }
}

/// A knowledge base id as the service accepts it (checked before it goes into a URL path).
pub(crate) fn check_id(field: &str, id: &str) -> Result<(), ToolError> {
    let ok =
        !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ToolError::invalid(
            field,
            format!(
                "`{id}` is not a knowledge base id (letters and digits, like ABCDEF1234); list_knowledge_bases shows them"
            ),
        ))
    }
}

impl BedrockKbServer {
    /// The catalog for the current account and region: cached unless `refresh`, fetched otherwise.
    /// The flag says whether it came from the cache. A catalog missing some base's data sources is
    /// returned but not cached, so the next call tries again.
    pub(crate) async fn catalog(&self, refresh: bool) -> Result<(Arc<Catalog>, bool), ToolError> {
        let key = context::scoped("catalog");
        if !refresh && let Some(c) = self.inner.catalog.get(&key).await {
            return Ok((c, true));
        }
        let catalog = Arc::new(self.discover().await?);
        if catalog.bases.iter().all(|b| b.data_sources_error.is_none()) {
            self.inner.catalog.insert(key, catalog.clone()).await;
        }
        Ok((catalog, false))
    }

    /// A knowledge base a tool may use: a well-formed id inside the allowlist. Discovery is only
    /// consulted when names or tags decide (an id pattern alone is checked locally).
    pub(crate) async fn check_kb(&self, field: &str, id: &str) -> Result<(), ToolError> {
        check_id(field, id)?;
        if !self.restricted_by_name_or_tag() || (self.inner.tags.is_empty() && self.inner.kbs.allows(id)) {
            return Ok(());
        }
        // Names and tags come from discovery; when it cannot be read, an id that matches no
        // pattern is refused rather than let through unverified.
        let (mut catalog, mut cached) = match self.catalog(false).await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!("allowlist check of {id} without discovery: {e}");
                return Err(self.not_allowed(id));
            }
        };
        loop {
            if catalog.get(id).is_some() {
                return Ok(());
            }
            if catalog.excluded.iter().any(|(i, _)| i == id) {
                return Err(self.not_allowed(id));
            }
            if !cached {
                break;
            }
            // A base created since the catalog was cached: look again once.
            (catalog, cached) = self.catalog(true).await?;
        }
        Err(ToolError::invalid(
            field,
            format!(
                "no knowledge base `{id}` in {}; list_knowledge_bases shows the ids",
                self.inner.agent.region()
            ),
        ))
    }

    /// Data source ids that the knowledge base does not have are named before the call (the
    /// service would just return nothing). Checked only when discovery already knows the base's
    /// data sources or can read them; otherwise the ids go to the service as given.
    pub(crate) async fn check_data_sources(&self, kb: &str, ids: &[String]) -> Result<(), ToolError> {
        if ids.is_empty() {
            return Ok(());
        }
        let Ok((catalog, _)) = self.catalog(false).await else {
            return Ok(());
        };
        let Some(known) = catalog.get(kb).and_then(|b| b.data_sources.as_ref()) else {
            return Ok(());
        };
        for (i, id) in ids.iter().enumerate() {
            if !known.iter().any(|d| d.id == *id) {
                let valid: Vec<String> = known.iter().map(|d| format!("{} ({})", d.id, d.name)).collect();
                return Err(ToolError::invalid(
                    format!("data_source_ids[{i}]"),
                    format!(
                        "knowledge base {kb} has no data source `{id}`; its data sources are: {}",
                        if valid.is_empty() {
                            "none".to_owned()
                        } else {
                            valid.join(", ")
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    fn not_allowed(&self, id: &str) -> ToolError {
        let mut rules: Vec<String> = Vec::new();
        if self.inner.kbs.is_restricted() {
            rules.push("--kb patterns".into());
        }
        rules.extend(self.inner.tags.iter().map(|(k, v)| format!("tag {k}={v}")));
        ToolError::NotAllowed {
            kind: "knowledge base",
            name: id.to_owned(),
            patterns: rules.join(", "),
            flag: if self.inner.tags.is_empty() {
                "--kb"
            } else {
                "--kb or --kb-tag"
            },
        }
    }

    async fn discover(&self) -> Result<Catalog, ToolError> {
        let (client, target) = self.inner.agent.get().await?;
        let mut summaries = Vec::new();
        let mut token: Option<String> = None;
        let mut capped = true;
        for _ in 0..MAX_BASE_PAGES {
            let out = call(
                LIST_KNOWLEDGE_BASES,
                &target,
                client
                    .list_knowledge_bases()
                    .max_results(1000)
                    .set_next_token(token.take())
                    .send(),
            )
            .await?;
            summaries.extend(out.knowledge_base_summaries().iter().cloned());
            match out.next_token().filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t.to_owned()),
                None => {
                    capped = false;
                    break;
                }
            }
        }
        let (mut allowed, mut excluded) = (Vec::new(), Vec::new());
        for s in summaries {
            let (id, name) = (s.knowledge_base_id().to_owned(), s.name().to_owned());
            if self.inner.kbs.allows(&id) || self.inner.kbs.allows(&name) {
                allowed.push(s);
            } else {
                excluded.push((id, name));
            }
        }
        // Tags decide next: a base whose tags cannot be read is an error, not a guess.
        let mut tags: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        if !self.inner.tags.is_empty() {
            // Futures collected first: a closure inside the stream would make the tool's future
            // not provably Send (rustc's higher-ranked closure limitation).
            let calls: Vec<_> = allowed
                .iter()
                .map(|s| {
                    let (client, target) = (client.clone(), target.clone());
                    let id = s.knowledge_base_id().to_owned();
                    async move {
                        let kb = call(
                            GET_KNOWLEDGE_BASE,
                            &target,
                            client.get_knowledge_base().knowledge_base_id(&id).send(),
                        )
                        .await?;
                        let arn = kb
                            .knowledge_base()
                            .map(|k| k.knowledge_base_arn().to_owned())
                            .unwrap_or_default();
                        let out = call(
                            LIST_TAGS,
                            &target,
                            client.list_tags_for_resource().resource_arn(arn).send(),
                        )
                        .await?;
                        let t: BTreeMap<String, String> =
                            out.tags().map(|t| t.clone().into_iter().collect()).unwrap_or_default();
                        Ok::<_, ToolError>((id, t))
                    }
                })
                .collect();
            let read = stream::iter(calls)
                .buffer_unordered(CONCURRENCY)
                .collect::<Vec<_>>()
                .await;
            for r in read {
                let (id, t) = r?;
                tags.insert(id, t);
            }
            let wanted = &self.inner.tags;
            allowed.retain(|s| {
                let keep = tags
                    .get(s.knowledge_base_id())
                    .is_some_and(|t| wanted.iter().all(|(k, v)| t.get(k) == Some(v)));
                if !keep {
                    excluded.push((s.knowledge_base_id().to_owned(), s.name().to_owned()));
                }
                keep
            });
        }
        let calls: Vec<_> = allowed
            .into_iter()
            .map(|s| {
                let (client, target) = (client.clone(), target.clone());
                let tags = tags.remove(s.knowledge_base_id());
                async move {
                    let id = s.knowledge_base_id().to_owned();
                    let (data_sources, data_sources_error) = match data_sources(&client, &target, &id).await {
                        Ok(d) => (Some(d), None),
                        Err(e) => (None, Some(e.to_string())),
                    };
                    Base {
                        name: s.name().to_owned(),
                        description: s.description().map(str::to_owned),
                        status: s.status().as_str().to_owned(),
                        updated_at: shared::time::rfc3339(s.updated_at()),
                        tags,
                        data_sources,
                        data_sources_error,
                        id,
                    }
                }
            })
            .collect();
        let mut bases: Vec<Base> = stream::iter(calls).buffer_unordered(CONCURRENCY).collect().await;
        bases.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Catalog {
            bases,
            excluded,
            fetched_at_ms: shared::time::now_ms(),
            capped,
        })
    }
}

/// Every data source of a base (bounded pages).
pub(crate) async fn data_sources(
    client: &aws_sdk_bedrockagent::Client,
    target: &shared::Target,
    kb_id: &str,
) -> Result<Vec<DataSource>, ToolError> {
    let mut out = Vec::new();
    let mut token = None;
    for _ in 0..MAX_SOURCE_PAGES {
        let page = call(
            LIST_DATA_SOURCES,
            target,
            client
                .list_data_sources()
                .knowledge_base_id(kb_id)
                .max_results(1000)
                .set_next_token(token.take())
                .send(),
        )
        .await?;
        out.extend(page.data_source_summaries().iter().map(|d| DataSource {
            id: d.data_source_id().to_owned(),
            name: d.name().to_owned(),
            status: d.status().as_str().to_owned(),
            description: d.description().map(str::to_owned),
            updated_at: shared::time::rfc3339(d.updated_at()),
        }));
        match page.next_token().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    Ok(out)
}
