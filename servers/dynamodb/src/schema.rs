//! Table descriptions: fetched once (DescribeTable plus DescribeTimeToLive), cached for the
//! server's TTL, and shared by `describe_table`, the schema resource and every tool that needs
//! the key schema to type a plain-JSON key. Writes through this server forget the entry of the
//! table they change, so item counts and sizes are re-read.

use std::sync::Arc;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, KeySchemaElement, KeyType, Projection, ProvisionedThroughputDescription, TableDescription,
};
use serde_json::{Value, json};
use shared::{Op, ToolError, aws::call};

use crate::{DynamoServer, item::ScalarType};

pub(crate) const DESCRIBE_TABLE: Op = Op::new("dynamodb", "DescribeTable", "dynamodb:DescribeTable");
pub(crate) const DESCRIBE_TTL: Op = Op::new("dynamodb", "DescribeTimeToLive", "dynamodb:DescribeTimeToLive");

/// Key attributes in key order: the partition key, then the sort key if there is one.
pub(crate) type KeySchema = Vec<(String, ScalarType)>;

#[derive(Debug, Clone)]
pub(crate) struct Index {
    pub name: String,
    pub key: KeySchema,
}

/// What the tools need to know about a table, and its description as shown to the model.
#[derive(Debug)]
pub(crate) struct Table {
    pub key: KeySchema,
    pub indexes: Vec<Index>,
    pub description: Value,
}

impl Table {
    /// The key schema of the table, or of one of its indexes.
    pub(crate) fn key_of(&self, index: Option<&str>) -> Option<&KeySchema> {
        match index {
            None => Some(&self.key),
            Some(name) => self.indexes.iter().find(|i| i.name == name).map(|i| &i.key),
        }
    }

    pub(crate) fn index_names(&self) -> String {
        if self.indexes.is_empty() {
            return "this table has no secondary indexes".into();
        }
        let names: Vec<String> = self.indexes.iter().map(|i| format!("`{}`", i.name)).collect();
        format!("its indexes are {}", names.join(", "))
    }

    pub(crate) fn from_sdk(t: &TableDescription, ttl: Value) -> Self {
        let defs = t.attribute_definitions();
        let key = key_schema(t.key_schema(), defs);
        let mut indexes: Vec<Index> = t
            .global_secondary_indexes()
            .iter()
            .map(|g| Index {
                name: g.index_name().unwrap_or_default().to_owned(),
                key: key_schema(g.key_schema(), defs),
            })
            .collect();
        indexes.extend(t.local_secondary_indexes().iter().map(|l| Index {
            name: l.index_name().unwrap_or_default().to_owned(),
            key: key_schema(l.key_schema(), defs),
        }));
        let key_json = |k: &KeySchema| {
            let attr = |i: usize| k.get(i).map(|(n, t)| json!({ "name": n, "type": type_name(*t) }));
            json!({ "partition_key": attr(0), "sort_key": attr(1) })
        };
        let gsis: Vec<Value> = t
            .global_secondary_indexes()
            .iter()
            .map(|g| {
                let mut v = key_json(&key_schema(g.key_schema(), defs));
                let o = v.as_object_mut().expect("object");
                o.insert("name".into(), json!(g.index_name()));
                o.insert("projection".into(), projection(g.projection()));
                o.insert("status".into(), json!(g.index_status().map(|s| s.as_str())));
                o.insert("item_count".into(), json!(g.item_count()));
                o.insert("size_bytes".into(), json!(g.index_size_bytes()));
                o.insert("provisioned_throughput".into(), throughput(g.provisioned_throughput()));
                if g.backfilling() == Some(true) {
                    o.insert("backfilling".into(), json!(true));
                }
                v
            })
            .collect();
        let lsis: Vec<Value> = t
            .local_secondary_indexes()
            .iter()
            .map(|l| {
                let mut v = key_json(&key_schema(l.key_schema(), defs));
                let o = v.as_object_mut().expect("object");
                o.insert("name".into(), json!(l.index_name()));
                o.insert("projection".into(), projection(l.projection()));
                o.insert("item_count".into(), json!(l.item_count()));
                o.insert("size_bytes".into(), json!(l.index_size_bytes()));
                v
            })
            .collect();
        let billing = t
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|m| m.as_str().to_owned())
            // Tables created before on-demand existed report no summary: they are provisioned.
            .unwrap_or_else(|| "PROVISIONED".into());
        let stream = t.stream_specification().map(|s| {
            json!({
                "enabled": s.stream_enabled(),
                "view_type": s.stream_view_type().map(|v| v.as_str()),
                "arn": t.latest_stream_arn(),
            })
        });
        let name = t.table_name().unwrap_or_default().to_owned();
        let description = json!({
            "table": name,
            "arn": t.table_arn(),
            "status": t.table_status().map(|s| s.as_str()),
            "created": crate::tools::time(t.creation_date_time()),
            "key_schema": key_json(&key),
            "attribute_definitions": defs.iter().map(|d| (
                d.attribute_name().to_owned(), json!(d.attribute_type().as_str())
            )).collect::<serde_json::Map<_, _>>(),
            "global_secondary_indexes": gsis,
            "local_secondary_indexes": lsis,
            "item_count": t.item_count(),
            "size_bytes": t.table_size_bytes(),
            "counts_note": "item_count and size_bytes are updated by DynamoDB about every six hours",
            "billing_mode": billing,
            "provisioned_throughput": if billing == "PAY_PER_REQUEST" { Value::Null } else { throughput(t.provisioned_throughput()) },
            "on_demand_max_throughput": t.on_demand_throughput().map(|o| json!({
                "read_request_units": o.max_read_request_units(),
                "write_request_units": o.max_write_request_units(),
            })),
            "time_to_live": ttl,
            "stream": stream,
            "table_class": t.table_class_summary().and_then(|c| c.table_class()).map(|c| c.as_str()).unwrap_or("STANDARD"),
            "deletion_protection": t.deletion_protection_enabled(),
            "encryption": t.sse_description().map(|s| json!({
                "status": s.status().map(|x| x.as_str()),
                "type": s.sse_type().map(|x| x.as_str()),
                "kms_key_arn": s.kms_master_key_arn(),
            })),
            "replica_regions": t.replicas().iter().filter_map(|r| r.region_name()).collect::<Vec<_>>(),
        });
        Self {
            key,
            indexes,
            description,
        }
    }
}

fn key_schema(elements: &[KeySchemaElement], defs: &[AttributeDefinition]) -> KeySchema {
    let mut key: Vec<&KeySchemaElement> = elements.iter().collect();
    key.sort_by_key(|k| *k.key_type() != KeyType::Hash);
    key.iter()
        .map(|k| {
            let name = k.attribute_name();
            let ty = defs
                .iter()
                .find(|d| d.attribute_name() == name)
                .and_then(|d| ScalarType::from_sdk(d.attribute_type()))
                // Key attributes are always defined; S is the safe guess for a newer type.
                .unwrap_or(ScalarType::S);
            (name.to_owned(), ty)
        })
        .collect()
}

pub(crate) fn type_name(t: ScalarType) -> &'static str {
    match t {
        ScalarType::S => "S",
        ScalarType::N => "N",
        ScalarType::B => "B",
    }
}

fn projection(p: Option<&Projection>) -> Value {
    match p {
        Some(p) => json!({
            "type": p.projection_type().map(|t| t.as_str()),
            "non_key_attributes": p.non_key_attributes(),
        }),
        None => Value::Null,
    }
}

fn throughput(t: Option<&ProvisionedThroughputDescription>) -> Value {
    match t {
        Some(t) if t.read_capacity_units().unwrap_or(0) > 0 || t.write_capacity_units().unwrap_or(0) > 0 => json!({
            "read_capacity_units": t.read_capacity_units(),
            "write_capacity_units": t.write_capacity_units(),
        }),
        _ => Value::Null,
    }
}

impl DynamoServer {
    /// The table's description, from the cache when fresh; the flag says whether it was cached.
    pub(crate) async fn table(&self, name: &str) -> Result<(Arc<Table>, bool), ToolError> {
        self.inner
            .descriptions
            .get_or_fetch(shared::context::scoped(name), self.fetch_table(name))
            .await
    }

    /// Run `f` on the table's description; when it refuses the arguments and the description came
    /// from the cache, re-read the description once (the table may have been re-created) and retry.
    pub(crate) async fn with_table<R>(
        &self,
        table: &str,
        f: impl Fn(&Table) -> Result<R, ToolError>,
    ) -> Result<R, ToolError> {
        let (t, cached) = self.table(table).await?;
        match f(&t) {
            Err(ToolError::InvalidArgument { .. }) if cached => f(&*self.refresh_table(table).await?),
            other => other,
        }
    }

    /// Forget what is cached about `name` (after a write, or when it turned out to be stale).
    pub(crate) async fn forget(&self, name: &str) {
        self.inner.descriptions.invalidate(&shared::context::scoped(name)).await;
    }

    /// Re-read a description, replacing the cached one.
    pub(crate) async fn refresh_table(&self, name: &str) -> Result<Arc<Table>, ToolError> {
        self.forget(name).await;
        Ok(self.table(name).await?.0)
    }

    async fn fetch_table(&self, name: &str) -> Result<Arc<Table>, ToolError> {
        let client = &self.inner.clients.client();
        let target = &self.inner.clients.target();
        let (described, ttl) = tokio::join!(
            call(DESCRIBE_TABLE, target, client.describe_table().table_name(name).send()),
            call(
                DESCRIBE_TTL,
                target,
                client.describe_time_to_live().table_name(name).send()
            ),
        );
        let described = described?;
        let table = described
            .table()
            .ok_or_else(|| ToolError::Other(format!("DescribeTable returned no description for `{name}`")))?;
        // TTL is a detail: without permission for it the rest of the description is still useful.
        let ttl = match ttl {
            Ok(out) => match out.time_to_live_description() {
                Some(d) => json!({
                    "status": d.time_to_live_status().map(|s| s.as_str()),
                    "attribute": d.attribute_name(),
                }),
                None => Value::Null,
            },
            Err(e) => json!({ "unavailable": e.code().unwrap_or(e.kind()) }),
        };
        Ok(Arc::new(Table::from_sdk(table, ttl)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::{
        BillingMode, BillingModeSummary, GlobalSecondaryIndexDescription, ProjectionType, ScalarAttributeType,
    };

    fn def(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(t)
            .build()
            .unwrap()
    }

    fn ks(name: &str, t: KeyType) -> KeySchemaElement {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(t)
            .build()
            .unwrap()
    }

    #[test]
    fn keys_and_indexes_are_typed_from_attribute_definitions() {
        let t = TableDescription::builder()
            .table_name("orders")
            .attribute_definitions(def("pk", ScalarAttributeType::S))
            .attribute_definitions(def("sk", ScalarAttributeType::N))
            .attribute_definitions(def("g", ScalarAttributeType::B))
            // Range listed first on purpose: the partition key must still come first.
            .key_schema(ks("sk", KeyType::Range))
            .key_schema(ks("pk", KeyType::Hash))
            .global_secondary_indexes(
                GlobalSecondaryIndexDescription::builder()
                    .index_name("by-g")
                    .key_schema(ks("g", KeyType::Hash))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::Include)
                            .non_key_attributes("x")
                            .build(),
                    )
                    .build(),
            )
            .billing_mode_summary(
                BillingModeSummary::builder()
                    .billing_mode(BillingMode::PayPerRequest)
                    .build(),
            )
            .build();
        let table = Table::from_sdk(&t, json!({"status": "DISABLED"}));
        assert_eq!(
            table.key,
            vec![("pk".to_owned(), ScalarType::S), ("sk".to_owned(), ScalarType::N)]
        );
        assert_eq!(
            table.key_of(Some("by-g")).unwrap(),
            &vec![("g".to_owned(), ScalarType::B)]
        );
        assert!(table.key_of(Some("nope")).is_none());
        let d = &table.description;
        assert_eq!(d["key_schema"]["partition_key"], json!({"name": "pk", "type": "S"}));
        assert_eq!(d["key_schema"]["sort_key"], json!({"name": "sk", "type": "N"}));
        assert_eq!(d["global_secondary_indexes"][0]["name"], "by-g");
        assert_eq!(d["global_secondary_indexes"][0]["sort_key"], Value::Null);
        assert_eq!(d["global_secondary_indexes"][0]["projection"]["type"], "INCLUDE");
        assert_eq!(d["billing_mode"], "PAY_PER_REQUEST");
        assert_eq!(d["table_class"], "STANDARD");
        assert_eq!(d["time_to_live"]["status"], "DISABLED");
    }
}
