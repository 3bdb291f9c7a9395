//! `get_item` and `batch_get_items`.

use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnConsumedCapacity};
use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Op, Output, ToolError, ToolResult, aws::call, budget::json_len};

use crate::{
    DynamoServer,
    expr::{self, Expr},
    item::item_to_json,
    schema::KeySchema,
    tools::{capacity, round_units},
};

pub(crate) const GET_ITEM: Op = Op::new("dynamodb", "GetItem", "dynamodb:GetItem");
pub(crate) const BATCH_GET_ITEM: Op = Op::new("dynamodb", "BatchGetItem", "dynamodb:BatchGetItem");
/// DynamoDB's limit on keys in one BatchGetItem.
const MAX_BATCH_KEYS: usize = 100;
/// Retries of the keys DynamoDB leaves unprocessed (throttling, 16 MB responses).
const BATCH_RETRY: Retry = Retry {
    attempts: 6,
    base: Duration::from_millis(50),
    max_total: Duration::from_secs(5),
};

/// How a batch call is repeated for what it left unprocessed: at most `attempts` calls, waiting
/// `base` × 2^n (with jitter) between them, and never past `max_total` in all.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retry {
    pub attempts: u32,
    pub base: Duration,
    pub max_total: Duration,
}

/// Call `send` with `pending` and then with what each call leaves pending, until nothing is left
/// or the retry budget is spent. Returns every response, what is still pending, and the number
/// of calls made.
pub(crate) async fn until_processed<P, R, F, Fut>(
    retry: Retry,
    mut pending: P,
    is_done: impl Fn(&P) -> bool,
    mut send: F,
) -> Result<(Vec<R>, P, u32), ToolError>
where
    F: FnMut(P) -> Fut,
    Fut: std::future::Future<Output = Result<(R, P), ToolError>>,
{
    let started = Instant::now();
    let mut responses = Vec::new();
    let mut attempts = 0;
    while !is_done(&pending) {
        attempts += 1;
        let (response, left) = send(pending).await?;
        responses.push(response);
        pending = left;
        let backoff = retry
            .base
            .saturating_mul(2u32.saturating_pow(attempts.min(10)))
            .mul_f64(0.5 + rand::random::<f64>() / 2.0);
        if is_done(&pending) || attempts >= retry.attempts || started.elapsed() + backoff > retry.max_total {
            break;
        }
        tokio::time::sleep(backoff).await;
    }
    Ok((responses, pending, attempts))
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct GetItemParams {
    pub table: String,
    /// Primary key, e.g. {"pk": "a", "sk": 5}.
    pub key: Value,
    #[serde(default)]
    pub consistent_read: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<Vec<String>>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct BatchTableRequest {
    /// Primary keys.
    pub keys: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<Vec<String>>,
    #[serde(default)]
    pub consistent_read: bool,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct BatchGetItemsParams {
    /// Table -> {keys: [...]}, 100 keys at most.
    pub requests: BTreeMap<String, BatchTableRequest>,
}

/// A key or item reduced to its key attributes, as comparable JSON text.
fn key_text(item: &HashMap<String, AttributeValue>, key: &KeySchema) -> String {
    let only: HashMap<String, AttributeValue> = key
        .iter()
        .filter_map(|(k, _)| item.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    item_to_json(&only).to_string()
}

fn key_json(item: &HashMap<String, AttributeValue>, key: &KeySchema) -> Value {
    let only: HashMap<String, AttributeValue> = key
        .iter()
        .filter_map(|(k, _)| item.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    item_to_json(&only)
}

#[tool_router(router = read_tools, vis = "pub(crate)")]
impl DynamoServer {
    /// Read one item by primary key.
    #[tool(annotations(
        title = "Get an item",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn get_item(&self, Parameters(p): Parameters<GetItemParams>) -> ToolResult {
        self.check_table(&p.table)?;
        let key = self.with_table(&p.table, |t| expr::key(&p.key, &t.key, "key")).await?;
        let mut e = Expr::default();
        let projection = p.projection.as_deref().map(|a| e.projection(a)).transpose()?;
        let out = call(
            GET_ITEM,
            &self.inner.clients.target(),
            self.inner
                .clients
                .client()
                .get_item()
                .table_name(&p.table)
                .set_key(Some(key))
                .consistent_read(p.consistent_read)
                .set_projection_expression(projection)
                .set_expression_attribute_names(e.names_opt())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await?;
        Ok(Output(json!({
            "table": p.table,
            "found": out.item().is_some(),
            "item": out.item().map(item_to_json),
            "consumed_capacity": round_units(capacity(out.consumed_capacity())),
        })))
    }

    /// Read up to 100 items by key across tables.
    #[tool(annotations(
        title = "Get items in a batch",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn batch_get_items(&self, Parameters(p): Parameters<BatchGetItemsParams>) -> ToolResult {
        let total: usize = p.requests.values().map(|r| r.keys.len()).sum();
        if p.requests.is_empty() || total == 0 {
            return Err(ToolError::invalid(
                "requests",
                "give at least one table with keys, e.g. {\"orders\": {\"keys\": [{\"pk\": \"a\", \"sk\": 1}]}}",
            ));
        }
        if total > MAX_BATCH_KEYS {
            return Err(ToolError::invalid(
                "requests",
                format!("{total} keys given; one call reads at most {MAX_BATCH_KEYS}: split them over several calls"),
            ));
        }
        for (table, r) in &p.requests {
            self.check_table(table)?;
            if r.keys.is_empty() {
                return Err(ToolError::invalid(
                    "requests",
                    format!("`{table}` has no keys; give keys or leave the table out"),
                ));
            }
        }
        // Key schemas of every table, fetched concurrently (cached after the first time).
        let schemas = futures::future::try_join_all(p.requests.iter().map(|(table, r)| async move {
            let key = self
                .with_table(table, |t| {
                    for (i, k) in r.keys.iter().enumerate() {
                        expr::key(k, &t.key, &format!("requests.{table}.keys[{i}]"))?;
                    }
                    Ok(t.key.clone())
                })
                .await?;
            Ok::<_, ToolError>((table.clone(), key))
        }))
        .await?;
        let schemas: HashMap<String, KeySchema> = schemas.into_iter().collect();
        // Responses are keyed by what DynamoDB returns; a table name it normalises differently
        // gets no schema rather than a panic.
        let no_schema = KeySchema::new();
        let schema_of = |t: &str| schemas.get(t).unwrap_or(&no_schema);

        let mut request: HashMap<String, KeysAndAttributes> = HashMap::new();
        let mut wanted: Vec<(String, String, Value)> = Vec::new();
        for (table, r) in &p.requests {
            let schema = schema_of(table);
            let mut keys = Vec::with_capacity(r.keys.len());
            let mut seen = std::collections::HashSet::new();
            for (i, k) in r.keys.iter().enumerate() {
                let key = expr::key(k, schema, &format!("requests.{table}.keys[{i}]"))?;
                let text = key_text(&key, schema);
                if !seen.insert(text.clone()) {
                    return Err(ToolError::invalid(
                        format!("requests.{table}.keys[{i}]"),
                        format!("duplicate key {text}: DynamoDB refuses a batch that asks for a key twice"),
                    ));
                }
                wanted.push((table.clone(), text, key_json(&key, schema)));
                keys.push(key);
            }
            let mut e = Expr::default();
            let projection = match &r.projection {
                Some(attrs) => {
                    let mut all: Vec<String> = schema.iter().map(|(k, _)| k.clone()).collect();
                    all.extend(attrs.iter().cloned());
                    Some(e.projection(&all)?)
                }
                None => None,
            };
            let ka = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(r.consistent_read)
                .set_projection_expression(projection)
                .set_expression_attribute_names(e.names_opt())
                .build()
                .map_err(|e| ToolError::Other(format!("could not build the request: {e}")))?;
            request.insert(table.clone(), ka);
        }

        let client = &self.inner.clients.client();
        let target = &self.inner.clients.target();
        let (responses, pending, attempts) = until_processed(
            BATCH_RETRY,
            request,
            |p: &HashMap<String, KeysAndAttributes>| p.is_empty(),
            |pending| async move {
                let out = call(
                    BATCH_GET_ITEM,
                    target,
                    client
                        .batch_get_item()
                        .set_request_items(Some(pending))
                        .return_consumed_capacity(ReturnConsumedCapacity::Total)
                        .send(),
                )
                .await?;
                let left: HashMap<String, KeysAndAttributes> = out
                    .unprocessed_keys()
                    .into_iter()
                    .flatten()
                    .filter(|(_, ka)| !ka.keys().is_empty())
                    .map(|(t, ka)| (t.clone(), ka.clone()))
                    .collect();
                Ok((out, left))
            },
        )
        .await?;
        let mut found: HashMap<String, Vec<HashMap<String, AttributeValue>>> = HashMap::new();
        let mut units = Vec::new();
        for out in &responses {
            for (table, items) in out.responses().into_iter().flatten() {
                found.entry(table.clone()).or_default().extend(items.iter().cloned());
            }
            units.extend(out.consumed_capacity().iter().cloned());
        }

        let unprocessed: BTreeMap<String, Vec<Value>> = pending
            .iter()
            .map(|(t, ka)| {
                let schema = schema_of(t);
                (t.clone(), ka.keys().iter().map(|k| key_json(k, schema)).collect())
            })
            .collect();
        let unprocessed_text: std::collections::HashSet<(String, String)> = pending
            .iter()
            .flat_map(|(t, ka)| ka.keys().iter().map(|k| (t.clone(), key_text(k, schema_of(t)))))
            .collect();
        let returned: std::collections::HashSet<(String, String)> = found
            .iter()
            .flat_map(|(t, items)| items.iter().map(|i| (t.clone(), key_text(i, schema_of(t)))))
            .collect();
        let mut not_found: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (table, text, key) in &wanted {
            let k = (table.clone(), text.clone());
            if !returned.contains(&k) && !unprocessed_text.contains(&k) {
                not_found.entry(table.clone()).or_default().push(key.clone());
            }
        }

        // The output budget: whole items in table order; keys of items left out are listed.
        let mut flat: Vec<(String, Value, Value)> = Vec::new();
        for table in p.requests.keys() {
            for item in found.get(table).into_iter().flatten() {
                flat.push((table.clone(), item_to_json(item), key_json(item, schema_of(table))));
            }
        }
        let count = flat.len();
        // Room for the rest of the result, including the keys of any items left out.
        let overhead = json_len(&unprocessed)
            + json_len(&not_found)
            + flat.iter().map(|(_, _, k)| json_len(k) + 1).sum::<usize>()
            + 640;
        let values: Vec<&Value> = flat.iter().map(|(_, v, _)| v).collect();
        let fit = self.core.budget.fit_items(&values, overhead);
        let mut items: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut withheld: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (i, (table, item, key)) in flat.into_iter().enumerate() {
            if i < fit {
                items.entry(table).or_default().push(item);
            } else {
                withheld.entry(table).or_default().push(key);
            }
        }
        let mut result = json!({
            "items": items,
            "requested": total,
            "found": count,
            "not_found": not_found,
            "unprocessed": unprocessed,
            "attempts": attempts,
            "consumed_capacity": round_units(capacity(&units)),
        });
        if !unprocessed.is_empty() {
            result["unprocessed_note"] = json!(format!(
                "DynamoDB left these keys unprocessed after {attempts} attempts (throttling or response size); \
                 call batch_get_items again with them"
            ));
        }
        if !withheld.is_empty() {
            let n = withheld.values().map(Vec::len).sum();
            result["withheld"] = json!(withheld);
            shared::budget::attach(
                &mut result,
                self.core.budget.dropped_note(
                    "/items",
                    fit,
                    n,
                    "the output budget left out the items whose keys are under `withheld`: call batch_get_items again with those keys",
                ),
            );
        }
        Ok(Output(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Retry = Retry {
        attempts: 4,
        base: Duration::from_millis(1),
        max_total: Duration::from_secs(2),
    };

    #[tokio::test]
    async fn unprocessed_keys_are_retried_until_done() {
        // Each call processes one key and leaves the rest.
        let (responses, left, attempts) =
            until_processed(FAST, vec![1, 2, 3], Vec::is_empty, |mut p: Vec<u32>| async move {
                let done = p.remove(0);
                Ok((done, p))
            })
            .await
            .unwrap();
        assert_eq!((responses, left, attempts), (vec![1, 2, 3], vec![], 3));
    }

    #[tokio::test]
    async fn retries_stop_after_the_attempts_and_report_what_is_left() {
        let (responses, left, attempts) =
            until_processed(FAST, vec![7], Vec::is_empty, |p: Vec<u32>| async move { Ok(((), p)) })
                .await
                .unwrap();
        assert_eq!((responses.len(), left, attempts), (4, vec![7], 4));
        // A time bound shorter than the first backoff stops after one call.
        let quick = Retry {
            attempts: 10,
            base: Duration::from_millis(200),
            max_total: Duration::from_millis(50),
        };
        let (_, left, attempts) =
            until_processed(quick, vec![7], Vec::is_empty, |p: Vec<u32>| async move { Ok(((), p)) })
                .await
                .unwrap();
        assert_eq!((left, attempts), (vec![7], 1));
    }

    #[tokio::test]
    async fn errors_end_the_retries() {
        let err = until_processed(FAST, vec![1], Vec::is_empty, |_p: Vec<u32>| async move {
            Err::<((), Vec<u32>), _>(ToolError::Other("throttled".into()))
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("throttled"));
    }
}
