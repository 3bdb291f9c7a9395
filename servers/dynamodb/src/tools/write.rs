//! Write tools, listed only with `--allow-writes`: `put_item`, `update_item`, `delete_item`.
//! Keys (and the key attributes of a new item) are checked against the key schema before
//! DynamoDB is called. Every write forgets the cached description of its table.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, ReturnValue};
use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use shared::{Op, Output, ToolError, ToolResult, aws::call};

use crate::{
    DynamoServer,
    expr::{self, Expr},
    item::{item_from_json, item_to_json},
    tools::{capacity, round_units},
};

pub(crate) const PUT_ITEM: Op = Op::new("dynamodb", "PutItem", "dynamodb:PutItem");
pub(crate) const UPDATE_ITEM: Op = Op::new("dynamodb", "UpdateItem", "dynamodb:UpdateItem");
pub(crate) const DELETE_ITEM: Op = Op::new("dynamodb", "DeleteItem", "dynamodb:DeleteItem");

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct PutItemParams {
    pub table: String,
    /// The whole item, key attributes included.
    pub item: Value,
    #[serde(flatten)]
    pub condition: Condition,
    #[serde(default)]
    pub return_old: bool,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct UpdateItemParams {
    pub table: String,
    /// Primary key, e.g. {"pk": "a", "sk": 5}.
    pub key: Value,
    /// e.g. "SET #s = :s REMOVE old".
    pub update_expression: String,
    #[serde(flatten)]
    pub condition: Condition,
    /// Default ALL_NEW.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]))]
    pub return_values: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct DeleteItemParams {
    pub table: String,
    /// Primary key, e.g. {"pk": "a", "sk": 5}.
    pub key: Value,
    #[serde(flatten)]
    pub condition: Condition,
}

/// The optional condition every write takes, and the expression maps it (and an update
/// expression) use.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Condition {
    /// ConditionExpression, e.g. "attribute_not_exists(pk)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
    /// ExpressionAttributeValues, e.g. {":s": "done"}.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression_attribute_values: Option<BTreeMap<String, Value>>,
}

impl Condition {
    /// The names/values maps, checked and converted.
    fn expr(&self) -> Result<Expr, ToolError> {
        Expr::new(
            self.expression_attribute_names.as_ref(),
            self.expression_attribute_values.as_ref(),
        )
    }
}

/// Returned attributes; an empty map (some emulators send one for "no item") counts as none.
fn attributes(a: Option<&HashMap<String, AttributeValue>>) -> Option<&HashMap<String, AttributeValue>> {
    a.filter(|a| !a.is_empty())
}

fn return_value(s: Option<&str>) -> Result<ReturnValue, ToolError> {
    Ok(match s.unwrap_or("ALL_NEW").to_ascii_uppercase().as_str() {
        "NONE" => ReturnValue::None,
        "ALL_OLD" => ReturnValue::AllOld,
        "UPDATED_OLD" => ReturnValue::UpdatedOld,
        "ALL_NEW" => ReturnValue::AllNew,
        "UPDATED_NEW" => ReturnValue::UpdatedNew,
        other => {
            return Err(ToolError::invalid(
                "return_values",
                format!("`{other}` is not one of NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW"),
            ));
        }
    })
}

#[tool_router(router = write_tools, vis = "pub(crate)")]
impl DynamoServer {
    /// Write a whole item, replacing any item with the same key.
    #[tool(annotations(
        title = "Put an item",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn put_item(&self, Parameters(p): Parameters<PutItemParams>) -> ToolResult {
        self.check_table(&p.table)?;
        let Value::Object(fields) = &p.item else {
            return Err(ToolError::invalid(
                "item",
                "must be a JSON object of attribute names to values, e.g. {\"pk\": \"a\", \"sk\": 1, \"name\": \"x\"}",
            ));
        };
        // The key attributes, typed by the schema: {"sk": "5"} for a number key is stored as N.
        let key = self
            .with_table(&p.table, |t| {
                let only: Map<String, Value> = t
                    .key
                    .iter()
                    .filter_map(|(k, _)| fields.get(k).map(|v| (k.clone(), v.clone())))
                    .collect();
                expr::key(&Value::Object(only), &t.key, "item")
            })
            .await?;
        let mut item = item_from_json(&p.item).map_err(|e| ToolError::invalid("item", e.to_string()))?;
        item.extend(key.clone());
        let e = p.condition.expr()?;
        let result = call(
            PUT_ITEM,
            &self.inner.clients.target(),
            self.inner
                .clients
                .client()
                .put_item()
                .table_name(&p.table)
                .set_item(Some(item))
                .set_condition_expression(p.condition.condition_expression.clone())
                .set_expression_attribute_names(e.names_opt())
                .set_expression_attribute_values(e.values_opt())
                .return_values(if p.return_old {
                    ReturnValue::AllOld
                } else {
                    ReturnValue::None
                })
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await;
        self.forget(&p.table).await;
        let out = result?;
        let mut result = json!({
            "table": p.table,
            "written": true,
            "key": item_to_json(&key),
            "consumed_capacity": round_units(capacity(out.consumed_capacity())),
        });
        if p.return_old {
            result["old_item"] = json!(attributes(out.attributes()).map(item_to_json));
        }
        Ok(Output(result))
    }

    /// Update one item with an UpdateExpression (creates it if missing).
    #[tool(annotations(
        title = "Update an item",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    async fn update_item(&self, Parameters(p): Parameters<UpdateItemParams>) -> ToolResult {
        self.check_table(&p.table)?;
        let returns = return_value(p.return_values.as_deref())?;
        let key = self.with_table(&p.table, |t| expr::key(&p.key, &t.key, "key")).await?;
        let e = p.condition.expr()?;
        let result = call(
            UPDATE_ITEM,
            &self.inner.clients.target(),
            self.inner
                .clients
                .client()
                .update_item()
                .table_name(&p.table)
                .set_key(Some(key.clone()))
                .update_expression(&p.update_expression)
                .set_condition_expression(p.condition.condition_expression.clone())
                .set_expression_attribute_names(e.names_opt())
                .set_expression_attribute_values(e.values_opt())
                .return_values(returns.clone())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await;
        self.forget(&p.table).await;
        let out = result?;
        Ok(Output(json!({
            "table": p.table,
            "updated": true,
            "key": item_to_json(&key),
            "return_values": returns.as_str(),
            "attributes": attributes(out.attributes()).map(item_to_json),
            "consumed_capacity": round_units(capacity(out.consumed_capacity())),
        })))
    }

    /// Delete one item by key; returns it.
    #[tool(annotations(
        title = "Delete an item",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn delete_item(&self, Parameters(p): Parameters<DeleteItemParams>) -> ToolResult {
        self.check_table(&p.table)?;
        let key = self.with_table(&p.table, |t| expr::key(&p.key, &t.key, "key")).await?;
        let e = p.condition.expr()?;
        let result = call(
            DELETE_ITEM,
            &self.inner.clients.target(),
            self.inner
                .clients
                .client()
                .delete_item()
                .table_name(&p.table)
                .set_key(Some(key.clone()))
                .set_condition_expression(p.condition.condition_expression.clone())
                .set_expression_attribute_names(e.names_opt())
                .set_expression_attribute_values(e.values_opt())
                .return_values(ReturnValue::AllOld)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await;
        self.forget(&p.table).await;
        let out = result?;
        Ok(Output(json!({
            "table": p.table,
            "key": item_to_json(&key),
            "deleted": attributes(out.attributes()).is_some(),
            "old_item": attributes(out.attributes()).map(item_to_json),
            "consumed_capacity": round_units(capacity(out.consumed_capacity())),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_values_default_to_the_new_item() {
        assert_eq!(return_value(None).unwrap(), ReturnValue::AllNew);
        assert_eq!(return_value(Some("updated_old")).unwrap(), ReturnValue::UpdatedOld);
        assert!(return_value(Some("EVERYTHING")).is_err());
    }
}
