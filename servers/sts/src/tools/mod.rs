//! The tools, grouped by noun: identities, accounts, the inventory.

pub(crate) mod accounts;
pub(crate) mod identity;
pub(crate) mod inventory;

use std::time::SystemTime;

use serde_json::{Value, json};
use shared::Page;

/// An expiry for output: RFC 3339 and the seconds left.
pub(crate) fn expiry(t: Option<SystemTime>) -> Value {
    match t {
        Some(t) => {
            let left = t.duration_since(SystemTime::now()).map(|d| d.as_secs()).unwrap_or(0);
            json!({ "expires": shared::time::rfc3339(&aws_smithy_types::DateTime::from(t)), "expires_in_secs": left })
        }
        None => json!({}),
    }
}

/// The slice of `all` a page shows (`page_size` from its start) and where the next one starts.
pub(crate) fn page_of<T: Clone>(all: &[T], at: &Page<usize>, size: u32) -> (Vec<T>, Option<usize>) {
    let start = at.token.unwrap_or(0).min(all.len());
    let end = start.saturating_add(size as usize).min(all.len());
    (all[start..end].to_vec(), (end < all.len()).then_some(end))
}
