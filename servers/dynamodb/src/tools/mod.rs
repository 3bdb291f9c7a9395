//! Tool families; each is a `#[tool_router]` block merged in `DynamoServer::new`, and helpers
//! they share for output.

use aws_sdk_dynamodb::types::ConsumedCapacity;

pub(crate) mod partiql;
pub(crate) mod read;
pub(crate) mod search;
pub(crate) mod tables;
pub(crate) mod write;

pub(crate) use shared::time::opt_rfc3339 as time;

/// Capacity units consumed, summed over the responses that reported any.
pub(crate) fn capacity<'a>(c: impl IntoIterator<Item = &'a ConsumedCapacity>) -> Option<f64> {
    c.into_iter()
        .filter_map(ConsumedCapacity::capacity_units)
        .reduce(|a, b| a + b)
}

/// A capacity figure rounded for display (DynamoDB reports halves and small fractions).
pub(crate) fn round_units(units: Option<f64>) -> Option<f64> {
    units.map(|u| (u * 1000.0).round() / 1000.0)
}
