//! Opaque pagination cursors. A cursor wraps whatever the tool needs to resume (usually AWS's own
//! continuation token) and is bound to the tool and the arguments that produced it: replayed with
//! other arguments, edited, or given to another tool, it is refused with an error saying what to do.
//!
//! Format: `base64url(payload JSON) . base64url(args digest) . base64url(HMAC-SHA256 tag)`. The key
//! is random per process unless `MCP_CURSOR_SECRET` is set, which lets several instances (Lambda)
//! accept each other's cursors.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::ToolError;

type HmacSha256 = Hmac<Sha256>;

/// Argument names that may change between pages without invalidating a cursor.
const UNBOUND_ARGS: &[&str] = &["cursor", "page_size"];

#[derive(Clone)]
pub struct Cursors {
    key: Arc<[u8; 32]>,
}

impl std::fmt::Debug for Cursors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cursors(..)")
    }
}

impl Cursors {
    /// Key from `MCP_CURSOR_SECRET` if set, otherwise random.
    pub fn from_env() -> Self {
        match std::env::var("MCP_CURSOR_SECRET") {
            Ok(secret) if !secret.is_empty() => Self::with_secret(secret.as_bytes()),
            _ => Self {
                key: Arc::new(rand::random()),
            },
        }
    }

    pub fn with_secret(secret: &[u8]) -> Self {
        Self {
            key: Arc::new(Sha256::digest(secret).into()),
        }
    }

    /// Issue a cursor for `tool` called with `args` (the tool's parameters struct).
    pub fn issue<A: Serialize, P: Serialize>(&self, tool: &str, args: &A, payload: &P) -> String {
        let payload = serde_json::to_vec(payload).unwrap_or_default();
        let digest = args_digest(args);
        let tag = self.tag(tool, &digest, &payload);
        format!("{}.{}.{}", B64.encode(&payload), B64.encode(digest), B64.encode(tag))
    }

    /// Check and open a cursor given back to `tool` with `args`.
    pub fn open<A: Serialize, P: DeserializeOwned>(&self, tool: &str, args: &A, cursor: &str) -> Result<P, ToolError> {
        let modified = || {
            ToolError::Cursor(format!(
                "this cursor was not issued by {tool} on this server, or it was modified or cut short; \
                 pass next_cursor exactly as returned, or call {tool} without a cursor to start over"
            ))
        };
        let mut parts = cursor.trim().split('.');
        let (Some(p), Some(d), Some(t), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(modified());
        };
        let (payload, digest, tag) = match (B64.decode(p), B64.decode(d), B64.decode(t)) {
            (Ok(p), Ok(d), Ok(t)) => (p, d, t),
            _ => return Err(modified()),
        };
        // Tags are truncated to 16 bytes; an empty tag must not verify.
        if tag.len() != 16 || self.mac(tool, &digest, &payload).verify_truncated_left(&tag).is_err() {
            return Err(modified());
        }
        if digest != args_digest(args) {
            return Err(ToolError::Cursor(format!(
                "this cursor belongs to a {tool} call with different arguments; repeat the arguments of the \
                 call that returned it (only page_size may change), or drop the cursor to start over"
            )));
        }
        serde_json::from_slice(&payload).map_err(|_| modified())
    }

    fn mac(&self, tool: &str, digest: &[u8], payload: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key[..]).expect("HMAC takes any key length");
        mac.update(tool.as_bytes());
        mac.update(&[0]);
        mac.update(digest);
        mac.update(payload);
        mac
    }

    fn tag(&self, tool: &str, digest: &[u8], payload: &[u8]) -> Vec<u8> {
        self.mac(tool, digest, payload).finalize().into_bytes()[..16].to_vec()
    }
}

/// Digest of the arguments that define the listing, with cursor and page size left out.
/// serde_json's map is ordered by key, so equal arguments give equal digests.
/// The account and region of the call are bound too: a cursor from one account is refused in another.
fn args_digest<A: Serialize>(args: &A) -> Vec<u8> {
    let mut value = serde_json::to_value(args).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        for k in UNBOUND_ARGS {
            obj.remove(*k);
        }
        obj.retain(|_, v| !v.is_null());
    }
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(&value).unwrap_or_default());
    h.update([0]);
    h.update(crate::context::binding().as_bytes());
    h.finalize()[..12].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c() -> Cursors {
        Cursors::with_secret(b"test")
    }

    #[test]
    fn round_trip_and_page_size_may_change() {
        let cur = c().issue(
            "list_objects",
            &json!({"bucket": "b", "page_size": 10}),
            &json!({"token": "abc"}),
        );
        let back: serde_json::Value = c()
            .open(
                "list_objects",
                &json!({"bucket": "b", "page_size": 50, "cursor": cur}),
                &cur,
            )
            .unwrap();
        assert_eq!(back["token"], "abc");
    }

    #[test]
    fn absent_and_null_arguments_are_the_same() {
        let cur = c().issue("t", &json!({"bucket": "b", "prefix": null}), &1);
        assert!(c().open::<_, i32>("t", &json!({"bucket": "b"}), &cur).is_ok());
    }

    #[test]
    fn other_arguments_are_refused_with_their_own_message() {
        let cur = c().issue("list_objects", &json!({"bucket": "b"}), &1);
        let err = c()
            .open::<_, i32>("list_objects", &json!({"bucket": "other"}), &cur)
            .unwrap_err();
        assert!(err.to_string().contains("different arguments"), "{err}");
    }

    #[test]
    fn edits_other_tools_and_other_keys_are_refused() {
        let cur = c().issue("list_objects", &json!({"bucket": "b"}), &json!({"token": "abc"}));
        let forged = format!(
            "{}{}",
            B64.encode(br#"{"token":"zzz"}"#),
            &cur[cur.find('.').unwrap()..]
        );
        for bad in [forged.as_str(), "garbage", "", &cur[..cur.len() - 2]] {
            let err = c()
                .open::<_, serde_json::Value>("list_objects", &json!({"bucket": "b"}), bad)
                .unwrap_err();
            assert!(err.to_string().contains("modified"), "{bad}: {err}");
        }
        assert!(
            c().open::<_, serde_json::Value>("find_objects", &json!({"bucket": "b"}), &cur)
                .is_err()
        );
        assert!(
            Cursors::with_secret(b"other")
                .open::<_, serde_json::Value>("list_objects", &json!({"bucket": "b"}), &cur)
                .is_err()
        );
    }
}
