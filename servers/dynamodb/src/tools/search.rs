//! `query` and `scan`. One call may send several requests to DynamoDB: it stops when `page_size`
//! items are found, when `max_items_read` items were read (filters can discard most of them),
//! or at the end. The cursor holds where the last request started, the `Limit` it used and how
//! many of its items were already returned, so a page cut by the output budget resumes exactly:
//! every item comes once, whatever the budget or page size.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::{
    operation::{query::builders::QueryFluentBuilder, scan::builders::ScanFluentBuilder},
    types::{AttributeValue, ConsumedCapacity, ReturnConsumedCapacity},
};
use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Op, Output, Page, PageArgs, ToolError, ToolResult, aws::call, budget::json_len};

use crate::{
    DynamoServer,
    expr::{Expr, SortKeyCondition},
    item::{item_from_json, item_to_json},
    tools::{capacity, round_units},
};

pub(crate) const QUERY: Op = Op::new("dynamodb", "Query", "dynamodb:Query");
pub(crate) const SCAN: Op = Op::new("dynamodb", "Scan", "dynamodb:Scan");
const DEFAULT_PAGE: u32 = 100;
const DEFAULT_MAX_READ: u32 = 1_000;

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct QueryParams {
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Partition key value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<Value>,
    /// Sort key condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_key: Option<SortKeyCondition>,
    /// Raw KeyConditionExpression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_condition_expression: Option<String>,
    #[serde(default)]
    pub descending: bool,
    #[serde(flatten)]
    pub read: ReadOptions,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct ScanParams {
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// Parallel scan: 0-based segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 999999))]
    pub segment: Option<i32>,
    /// Parallel scan segment count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000000))]
    pub total_segments: Option<i32>,
    #[serde(flatten)]
    pub read: ReadOptions,
}

/// What query and scan share: filter, projection, expression maps, consistency and paging.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct ReadOptions {
    /// FilterExpression (applied after reading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<Vec<String>>,
    /// Raw ProjectionExpression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
    /// ExpressionAttributeValues, e.g. {":min": 5}.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression_attribute_values: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    pub consistent_read: bool,
    /// Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub page_size: Option<u32>,
    /// Items read per call (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100000))]
    pub max_items_read: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Where a request started and the `Limit` it was sent with.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Resume {
    /// ExclusiveStartKey as plain JSON; none for the first request of the listing.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    key: Option<Value>,
    #[serde(rename = "l", default)]
    limit: i32,
}

#[derive(Clone)]
enum Source {
    Query(QueryFluentBuilder),
    Scan(ScanFluentBuilder),
}

struct Response {
    items: Vec<HashMap<String, AttributeValue>>,
    last_key: Option<HashMap<String, AttributeValue>>,
    scanned: i32,
    capacity: Option<ConsumedCapacity>,
}

impl Source {
    async fn send(
        &self,
        server: &DynamoServer,
        start: Option<HashMap<String, AttributeValue>>,
        limit: i32,
    ) -> Result<Response, ToolError> {
        let target = &server.inner.clients.target();
        Ok(match self {
            Self::Query(b) => {
                let out = call(
                    QUERY,
                    target,
                    b.clone().set_exclusive_start_key(start).limit(limit).send(),
                )
                .await?;
                Response {
                    scanned: out.scanned_count(),
                    last_key: out.last_evaluated_key().cloned(),
                    capacity: out.consumed_capacity().cloned(),
                    items: out.items.unwrap_or_default(),
                }
            }
            Self::Scan(b) => {
                let out = call(
                    SCAN,
                    target,
                    b.clone().set_exclusive_start_key(start).limit(limit).send(),
                )
                .await?;
                Response {
                    scanned: out.scanned_count(),
                    last_key: out.last_evaluated_key().cloned(),
                    capacity: out.consumed_capacity().cloned(),
                    items: out.items.unwrap_or_default(),
                }
            }
        })
    }
}

/// Arguments a cursor is bound to: all but the page size and the read cap, which may change
/// between pages.
fn bound_args<P: Serialize>(p: &P) -> Value {
    let mut v = serde_json::to_value(p).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("max_items_read");
    }
    v
}

struct Listing<'a> {
    tool: &'static str,
    table: &'a str,
    index: Option<&'a str>,
    page_size: u32,
    max_read: u32,
    cursor: Option<&'a str>,
}

impl DynamoServer {
    /// Check `index` exists (so a typo is named before any request), re-reading a cached
    /// description once in case the index is new.
    async fn check_index(&self, table: &str, index: Option<&str>) -> Result<(), ToolError> {
        if let Some(index) = index {
            self.with_table(table, |t| {
                t.key_of(Some(index)).map(|_| ()).ok_or_else(|| {
                    ToolError::invalid(
                        "index",
                        format!("table `{table}` has no index `{index}`; {}", t.index_names()),
                    )
                })
            })
            .await?;
        }
        Ok(())
    }

    async fn read_pages(&self, source: Source, l: Listing<'_>, args: &Value) -> Result<Value, ToolError> {
        let at: Page<Resume> = self.core.page(
            args,
            &PageArgs {
                page_size: None,
                cursor: l.cursor.map(str::to_owned),
            },
        )?;
        let page_size = l.page_size as usize;
        let max_read = l.max_read as usize;
        let mut start: Option<Value> = at.token.as_ref().and_then(|r| r.key.clone());
        // (item, request index, position in that request's response)
        let mut items: Vec<(Value, usize, usize)> = Vec::new();
        let mut requests: Vec<Resume> = Vec::new();
        let (mut read, mut capacities, mut finished) = (0usize, Vec::new(), false);
        loop {
            let resuming = requests.is_empty() && at.skip > 0;
            let limit = match &at.token {
                Some(r) if resuming && r.limit > 0 => r.limit,
                _ => (page_size.saturating_sub(items.len()))
                    .min(max_read.saturating_sub(read))
                    .max(1) as i32,
            };
            let start_key = start
                .as_ref()
                .map(item_from_json)
                .transpose()
                .map_err(|e| ToolError::Cursor(format!("its start key does not convert back: {e}")))?;
            let out = source.send(self, start_key, limit).await?;
            let skip = if resuming { at.skip } else { 0 };
            let n = requests.len();
            items.extend(
                out.items
                    .iter()
                    .enumerate()
                    .skip(skip)
                    .map(|(i, it)| (item_to_json(it), n, i)),
            );
            requests.push(Resume {
                key: start.clone(),
                limit,
            });
            read += out.scanned.max(0) as usize;
            capacities.extend(out.capacity);
            match out.last_key {
                None => {
                    finished = true;
                    break;
                }
                Some(k) => start = Some(item_to_json(&k)),
            }
            if items.len() >= page_size || read >= max_read {
                break;
            }
        }
        let values: Vec<&Value> = items.iter().map(|(v, _, _)| v).collect();
        // Everything but the items: the fields below, and a cursor holding the longest start key
        // it may carry (base64 of JSON, so a third more).
        let longest_key = requests
            .iter()
            .filter_map(|r| r.key.as_ref())
            .chain(start.as_ref())
            .map(json_len)
            .max()
            .unwrap_or(0);
        let overhead = 640 + l.table.len() + l.index.map_or(0, str::len) + 2 * longest_key;
        let fit = self.core.budget.fit_items(&values, overhead);
        let (next, note) = if fit < items.len() {
            let (_, req, pos) = items[fit];
            let page = Page {
                token: Some(requests[req].clone()),
                skip: pos,
            };
            let note = self.core.budget.dropped_note(
                "/items",
                fit,
                items.len() - fit,
                format!(
                    "the output budget cut this page: call {} again with cursor = next_cursor to get the rest",
                    l.tool
                ),
            );
            (Some(self.core.cursor(args, &page)), Some(note))
        } else if finished {
            (None, None)
        } else {
            let page = Page {
                token: Some(Resume { key: start, limit: 0 }),
                skip: 0,
            };
            (Some(self.core.cursor(args, &page)), None)
        };
        let returned: Vec<Value> = items.into_iter().take(fit).map(|(v, _, _)| v).collect();
        let mut result = json!({
            "table": l.table,
            "index": l.index,
            "items": returned,
            "count": fit,
            "scanned_count": read,
            "consumed_capacity": round_units(capacity(&capacities)),
            "requests": requests.len(),
            "next_cursor": next,
        });
        if note.is_none() && !finished && fit < page_size && read >= max_read {
            result["note"] = json!(format!(
                "stopped after reading {read} items (max_items_read) with {fit} matching; \
                 continue with next_cursor, or raise max_items_read"
            ));
        }
        if let Some(note) = note {
            shared::budget::attach(&mut result, note);
        }
        Ok(result)
    }
}

/// Apply the projection arguments (names list or raw expression, not both).
fn projection(e: &mut Expr, list: Option<&[String]>, raw: Option<&str>) -> Result<Option<String>, ToolError> {
    match (list, raw) {
        (Some(_), Some(_)) => Err(ToolError::invalid(
            "projection",
            "give projection (attribute names) or projection_expression, not both",
        )),
        (Some(attrs), None) => Ok(Some(e.projection(attrs)?)),
        (None, raw) => Ok(raw.map(str::to_owned)),
    }
}

#[tool_router(router = search_tools, vis = "pub(crate)")]
impl DynamoServer {
    /// Query a table or index by partition key and optional sort key condition.
    #[tool(annotations(
        title = "Query items by key",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn query(&self, Parameters(p): Parameters<QueryParams>) -> ToolResult {
        self.check_table(&p.table)?;
        let mut e = Expr::new(
            p.read.expression_attribute_names.as_ref(),
            p.read.expression_attribute_values.as_ref(),
        )?;
        let condition = match (&p.key_condition_expression, &p.partition_key, &p.sort_key) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(ToolError::invalid(
                    "key_condition_expression",
                    "give either partition_key (with an optional sort_key) or key_condition_expression, not both",
                ));
            }
            (Some(raw), None, None) => raw.clone(),
            (None, Some(pk), sort) => {
                let index = p.index.as_deref();
                let table = &p.table;
                let (names, values) = (e.names.clone(), e.values.clone());
                self.with_table(&p.table, |t| {
                    let key = t.key_of(index).ok_or_else(|| {
                        ToolError::invalid(
                            "index",
                            format!(
                                "table `{table}` has no index `{}`; {}",
                                index.unwrap_or(""),
                                t.index_names()
                            ),
                        )
                    })?;
                    // Start from the caller's maps each attempt, so a retry adds nothing twice.
                    let mut attempt = Expr {
                        names: names.clone(),
                        values: values.clone(),
                    };
                    let c = attempt.key_condition(key, pk, sort.as_ref())?;
                    Ok((c, attempt))
                })
                .await
                .map(|(c, attempt)| {
                    e = attempt;
                    c
                })?
            }
            (None, None, Some(_)) => {
                return Err(ToolError::invalid(
                    "partition_key",
                    "sort_key needs partition_key: a query always names one partition",
                ));
            }
            (None, None, None) => {
                return Err(ToolError::invalid(
                    "partition_key",
                    "is required: give partition_key (and optionally sort_key), or a raw key_condition_expression; \
                     to read without a key use scan",
                ));
            }
        };
        if p.key_condition_expression.is_some() {
            self.check_index(&p.table, p.index.as_deref()).await?;
        }
        let projection = projection(
            &mut e,
            p.read.projection.as_deref(),
            p.read.projection_expression.as_deref(),
        )?;
        let builder = self
            .inner
            .clients
            .client()
            .query()
            .table_name(&p.table)
            .set_index_name(p.index.clone())
            .key_condition_expression(condition)
            .set_filter_expression(p.read.filter_expression.clone())
            .set_projection_expression(projection)
            .set_expression_attribute_names(e.names_opt())
            .set_expression_attribute_values(e.values_opt())
            .scan_index_forward(!p.descending)
            .consistent_read(p.read.consistent_read)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let listing = Listing {
            tool: "query",
            table: &p.table,
            index: p.index.as_deref(),
            page_size: p.read.page_size.unwrap_or(DEFAULT_PAGE),
            max_read: p.read.max_items_read.unwrap_or(DEFAULT_MAX_READ),
            cursor: p.read.cursor.as_deref(),
        };
        let out = self
            .read_pages(Source::Query(builder), listing, &bound_args(&p))
            .await?;
        Ok(Output(out))
    }

    /// Scan a table or index (reads everything: prefer query).
    #[tool(annotations(
        title = "Scan a table",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn scan(&self, Parameters(p): Parameters<ScanParams>) -> ToolResult {
        self.check_table(&p.table)?;
        match (p.segment, p.total_segments) {
            (Some(s), Some(t)) if s >= t => {
                return Err(ToolError::invalid(
                    "segment",
                    format!(
                        "must be below total_segments ({t}): segments are numbered 0 to {}",
                        t - 1
                    ),
                ));
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(ToolError::invalid(
                    "segment",
                    "a parallel scan needs both segment and total_segments",
                ));
            }
            _ => {}
        }
        self.check_index(&p.table, p.index.as_deref()).await?;
        let mut e = Expr::new(
            p.read.expression_attribute_names.as_ref(),
            p.read.expression_attribute_values.as_ref(),
        )?;
        let projection = projection(
            &mut e,
            p.read.projection.as_deref(),
            p.read.projection_expression.as_deref(),
        )?;
        let builder = self
            .inner
            .clients
            .client()
            .scan()
            .table_name(&p.table)
            .set_index_name(p.index.clone())
            .set_filter_expression(p.read.filter_expression.clone())
            .set_projection_expression(projection)
            .set_expression_attribute_names(e.names_opt())
            .set_expression_attribute_values(e.values_opt())
            .set_segment(p.segment)
            .set_total_segments(p.total_segments)
            .consistent_read(p.read.consistent_read)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let listing = Listing {
            tool: "scan",
            table: &p.table,
            index: p.index.as_deref(),
            page_size: p.read.page_size.unwrap_or(DEFAULT_PAGE),
            max_read: p.read.max_items_read.unwrap_or(DEFAULT_MAX_READ),
            cursor: p.read.cursor.as_deref(),
        };
        let mut out = self.read_pages(Source::Scan(builder), listing, &bound_args(&p)).await?;
        if let (Some(s), Some(t)) = (p.segment, p.total_segments) {
            out["segment"] = json!(s);
            out["total_segments"] = json!(t);
        }
        Ok(Output(out))
    }
}
