//! Expression attribute names and values. The caller's own (`expression_attribute_names`, and
//! `expression_attribute_values` as plain JSON) are merged with placeholders the server generates
//! for key conditions and projections. Generated placeholders never clash with the caller's, and
//! only placeholders that are used are sent (DynamoDB rejects unused ones). Attribute names are
//! always sent as placeholders, so reserved words (`name`, `status`, `date`, ...) just work.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use rmcp::schemars;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::ToolError;

use crate::{
    item::{self, ScalarType},
    schema::KeySchema,
};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct SortKeyCondition {
    #[schemars(extend("enum" = ["=", "<", "<=", ">", ">=", "between", "begins_with"]))]
    pub op: String,
    /// `[low, high]` for between.
    pub value: Value,
}

/// The names and values maps of one request.
#[derive(Debug, Default)]
pub(crate) struct Expr {
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Expr {
    /// Start from the caller's maps, checking placeholder syntax and converting the values.
    pub(crate) fn new(
        names: Option<&BTreeMap<String, String>>,
        values: Option<&BTreeMap<String, Value>>,
    ) -> Result<Self, ToolError> {
        let mut expr = Self::default();
        for (k, v) in names.into_iter().flatten() {
            if !is_placeholder(k, '#') {
                return Err(ToolError::invalid(
                    "expression_attribute_names",
                    format!(
                        "`{k}` is not a name placeholder: write `#` and letters, digits or _, e.g. {{\"#s\": \"status\"}}"
                    ),
                ));
            }
            expr.names.insert(k.clone(), v.clone());
        }
        for (k, v) in values.into_iter().flatten() {
            if !is_placeholder(k, ':') {
                return Err(ToolError::invalid(
                    "expression_attribute_values",
                    format!(
                        "`{k}` is not a value placeholder: write `:` and letters, digits or _, e.g. {{\":min\": 5}}"
                    ),
                ));
            }
            let av = item::from_json(v)
                .map_err(|e| ToolError::invalid("expression_attribute_values", format!("value of `{k}`: {e}")))?;
            expr.values.insert(k.clone(), av);
        }
        Ok(expr)
    }

    /// A placeholder for attribute `attr`: one that already names it, or a new one.
    pub(crate) fn name(&mut self, attr: &str) -> String {
        if let Some((k, _)) = self.names.iter().find(|(_, v)| *v == attr) {
            return k.clone();
        }
        let p = fresh('#', attr, |p| self.names.contains_key(p));
        self.names.insert(p.clone(), attr.to_owned());
        p
    }

    /// A new value placeholder holding `v`; `hint` makes it readable in error messages.
    pub(crate) fn value(&mut self, hint: &str, v: AttributeValue) -> String {
        let p = fresh(':', hint, |p| self.values.contains_key(p));
        self.values.insert(p.clone(), v);
        p
    }

    /// A projection expression of top-level attribute names.
    pub(crate) fn projection(&mut self, attrs: &[String]) -> Result<String, ToolError> {
        if attrs.is_empty() || attrs.iter().any(String::is_empty) {
            return Err(ToolError::invalid(
                "projection",
                "list the attribute names to return, e.g. [\"pk\", \"status\"], or leave it out for whole items",
            ));
        }
        let mut seen = Vec::new();
        for a in attrs {
            let p = self.name(a);
            if !seen.contains(&p) {
                seen.push(p);
            }
        }
        Ok(seen.join(", "))
    }

    pub(crate) fn names_opt(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    pub(crate) fn values_opt(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    /// A key condition from a partition key value and an optional sort key condition, both typed
    /// by `key` (the table's or the index's key schema).
    pub(crate) fn key_condition(
        &mut self,
        key: &KeySchema,
        partition: &Value,
        sort: Option<&SortKeyCondition>,
    ) -> Result<String, ToolError> {
        let Some((pk_name, pk_type)) = key.first() else {
            return Err(ToolError::Other(
                "the table's description has no key schema; describe_table shows what DynamoDB reported".into(),
            ));
        };
        let pk = typed(pk_name, *pk_type, partition, "partition_key")?;
        let n = self.name(pk_name);
        let v = self.value("pk", pk);
        let mut cond = format!("{n} = {v}");
        let Some(sort) = sort else {
            return Ok(cond);
        };
        let Some((sk_name, sk_type)) = key.get(1) else {
            return Err(ToolError::invalid(
                "sort_key",
                format!("this key has no sort key (only the partition key `{pk_name}`); leave sort_key out"),
            ));
        };
        let n = self.name(sk_name);
        let op = sort.op.trim().to_ascii_lowercase();
        let one = |this: &mut Self, hint: &str, v: &Value| -> Result<String, ToolError> {
            Ok(this.value(hint, typed(sk_name, *sk_type, v, "sort_key")?))
        };
        let clause = match op.as_str() {
            "=" | "<" | "<=" | ">" | ">=" => {
                let v = one(self, "sk", &sort.value)?;
                format!("{n} {op} {v}")
            }
            "between" => match &sort.value {
                Value::Array(pair) if pair.len() == 2 => {
                    let lo = one(self, "sk_low", &pair[0])?;
                    let hi = one(self, "sk_high", &pair[1])?;
                    format!("{n} BETWEEN {lo} AND {hi}")
                }
                _ => {
                    return Err(ToolError::invalid(
                        "sort_key",
                        "`between` takes an array of two values, [low, high] (both inclusive)",
                    ));
                }
            },
            "begins_with" => {
                if *sk_type == ScalarType::N {
                    return Err(ToolError::invalid(
                        "sort_key",
                        format!(
                            "begins_with needs a string or binary sort key, and `{sk_name}` is a number (N); \
                             use between or >=, < instead"
                        ),
                    ));
                }
                let v = one(self, "sk_prefix", &sort.value)?;
                format!("begins_with({n}, {v})")
            }
            _ => {
                return Err(ToolError::invalid(
                    "sort_key",
                    format!(
                        "unknown op `{}`; use one of =, <, <=, >, >=, between, begins_with",
                        sort.op
                    ),
                ));
            }
        };
        cond.push_str(" AND ");
        cond.push_str(&clause);
        Ok(cond)
    }
}

/// One key attribute's value typed by the schema, with the error naming the argument.
pub(crate) fn typed(name: &str, ty: ScalarType, v: &Value, field: &str) -> Result<AttributeValue, ToolError> {
    let one = [(name.to_owned(), ty)];
    let mut key = serde_json::Map::new();
    key.insert(name.to_owned(), v.clone());
    item::key_from_json(&Value::Object(key), &one)
        .map(|mut m| m.remove(name).expect("key_from_json returns every schema attribute"))
        .map_err(|e| ToolError::invalid(field, e.to_string()))
}

/// A full primary key from plain JSON, typed by the key schema; errors name `field`.
pub(crate) fn key(v: &Value, schema: &KeySchema, field: &str) -> Result<HashMap<String, AttributeValue>, ToolError> {
    item::key_from_json(v, schema).map_err(|e| ToolError::invalid(field, e.to_string()))
}

fn is_placeholder(k: &str, sigil: char) -> bool {
    k.strip_prefix(sigil)
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// `sigil` + `hint` reduced to placeholder characters, suffixed until `taken` says it is free.
fn fresh(sigil: char, hint: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut base: String = hint
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(32)
        .collect();
    if base.is_empty() {
        base.push('a');
    }
    let first = format!("{sigil}{base}");
    if !taken(&first) {
        return first;
    }
    (1..)
        .map(|n| format!("{sigil}{base}_{n}"))
        .find(|p| !taken(p))
        .expect("an unbounded range finds a free name")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> KeySchema {
        vec![("pk".into(), ScalarType::S), ("sk".into(), ScalarType::N)]
    }

    fn sort(op: &str, value: Value) -> SortKeyCondition {
        SortKeyCondition { op: op.into(), value }
    }

    #[test]
    fn builds_typed_key_conditions() {
        let mut e = Expr::default();
        let c = e.key_condition(&schema(), &json!("a"), None).unwrap();
        assert_eq!(c, "#pk = :pk");
        assert_eq!(e.values[":pk"], AttributeValue::S("a".into()));

        let mut e = Expr::default();
        let c = e
            .key_condition(&schema(), &json!("a"), Some(&sort("BETWEEN", json!([1, "20"]))))
            .unwrap();
        assert_eq!(c, "#pk = :pk AND #sk BETWEEN :sk_low AND :sk_high");
        assert_eq!(e.values[":sk_high"], AttributeValue::N("20".into()));

        let strings = vec![("pk".into(), ScalarType::S), ("sk".into(), ScalarType::S)];
        let mut e = Expr::default();
        let c = e
            .key_condition(&strings, &json!("a"), Some(&sort("begins_with", json!("2024-"))))
            .unwrap();
        assert_eq!(c, "#pk = :pk AND begins_with(#sk, :sk_prefix)");
    }

    #[test]
    fn generated_placeholders_do_not_clash_with_the_callers() {
        let names = BTreeMap::from([
            ("#pk".to_owned(), "other".to_owned()),
            ("#s".to_owned(), "sk".to_owned()),
        ]);
        let values = BTreeMap::from([(":pk".to_owned(), json!(5))]);
        let mut e = Expr::new(Some(&names), Some(&values)).unwrap();
        let c = e
            .key_condition(&schema(), &json!("a"), Some(&sort(">=", json!(3))))
            .unwrap();
        assert_eq!(c, "#pk_1 = :pk_1 AND #s >= :sk");
        assert_eq!(e.names["#pk_1"], "pk");
        assert_eq!(e.values[":pk"], AttributeValue::N("5".into()));
        assert_eq!(
            e.projection(&["name".into(), "sk".into(), "name".into()]).unwrap(),
            "#name, #s"
        );
    }

    #[test]
    fn errors_name_the_argument_and_the_expected_type() {
        let mut e = Expr::default();
        let err = e.key_condition(&schema(), &json!(5), None).unwrap_err();
        assert!(
            matches!(&err, ToolError::InvalidArgument { field, message } if field == "partition_key" && message.contains("\"pk\" must be a string (S)")),
            "{err}"
        );
        let err = e
            .key_condition(&schema(), &json!("a"), Some(&sort("begins_with", json!("1"))))
            .unwrap_err();
        assert!(err.to_string().contains("number (N)"), "{err}");
        let err = e
            .key_condition(&schema(), &json!("a"), Some(&sort("between", json!([1]))))
            .unwrap_err();
        assert!(err.to_string().contains("[low, high]"), "{err}");
        let err = e
            .key_condition(&schema(), &json!("a"), Some(&sort("like", json!(1))))
            .unwrap_err();
        assert!(err.to_string().contains("unknown op `like`"), "{err}");
        let err = e
            .key_condition(&schema(), &json!("a"), Some(&sort("=", json!("x"))))
            .unwrap_err();
        assert!(err.to_string().contains("`sort_key`"), "{err}");
        let hash_only = vec![("pk".into(), ScalarType::S)];
        assert!(
            e.key_condition(&hash_only, &json!("a"), Some(&sort("=", json!(1))))
                .is_err()
        );
        let bad = BTreeMap::from([("s".to_owned(), "x".to_owned())]);
        assert!(Expr::new(Some(&bad), None).is_err());
        let bad = BTreeMap::from([("v".to_owned(), json!(1))]);
        assert!(Expr::new(None, Some(&bad)).is_err());
        let bad = BTreeMap::from([(":v".to_owned(), json!({"$N": "x"}))]);
        let err = Expr::new(None, Some(&bad)).unwrap_err().to_string();
        assert!(err.contains("`:v`") && err.contains("$N"), "{err}");
    }
}
