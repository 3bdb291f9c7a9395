//! Write tools, listed only with `--allow-writes`: `put_object`, `copy_object`, `delete_object`.

use std::collections::HashMap;

use aws_sdk_s3::primitives::ByteStream;
use base64::{Engine, engine::general_purpose::STANDARD};
use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::{Op, Output, ToolError, ToolResult, aws::call};

use crate::S3Server;

pub(crate) const PUT_OBJECT: Op = Op::new("s3", "PutObject", "s3:PutObject");
/// CopyObject also needs s3:GetObject on the source (declared beside it in `TOOLS`).
pub(crate) const COPY_OBJECT: Op = Op::new("s3", "CopyObject", "s3:PutObject");
pub(crate) const DELETE_OBJECT: Op = Op::new("s3", "DeleteObject", "s3:DeleteObject");

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct PutObjectParams {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Body as UTF-8 text. Give exactly one of text and base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Body as base64 (for binary content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    /// Content type (default text/plain; charset=utf-8 for text, application/octet-stream for base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// User metadata (x-amz-meta-*).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<HashMap<String, String>>,
    /// Fail instead of overwriting when the key already exists.
    #[serde(default)]
    pub if_not_exists: bool,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct CopyObjectParams {
    /// Bucket to copy from.
    pub source_bucket: String,
    /// Key to copy from.
    pub source_key: String,
    /// Version to copy (versioned buckets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version_id: Option<String>,
    /// Bucket to copy to.
    pub bucket: String,
    /// Key to copy to (overwritten if it exists).
    pub key: String,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct DeleteObjectParams {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Delete this version permanently (versioned buckets); without it a delete marker is added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

#[tool_router(router = write_tools, vis = "pub(crate)")]
impl S3Server {
    /// Upload an object from text or base64. Overwrites an existing key unless if_not_exists is set.
    #[tool(annotations(
        title = "Upload an object",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn put_object(&self, Parameters(p): Parameters<PutObjectParams>) -> ToolResult {
        self.check_bucket(&p.bucket)?;
        crate::check_keys(&[("key", Some(p.key.as_str()))])?;
        if p.key.is_empty() {
            return Err(ToolError::invalid("key", "must not be empty"));
        }
        let (body, default_type) = match (&p.text, &p.base64) {
            (Some(t), None) => (t.as_bytes().to_vec(), "text/plain; charset=utf-8"),
            (None, Some(b)) => (
                STANDARD
                    .decode(b.trim())
                    .map_err(|e| ToolError::invalid("base64", format!("not valid base64: {e}")))?,
                "application/octet-stream",
            ),
            _ => return Err(ToolError::invalid("text", "give exactly one of `text` and `base64`")),
        };
        let size = body.len();
        let (client, target, _) = self.inner.clients.for_bucket(&p.bucket).await?;
        let mut req = client
            .put_object()
            .bucket(&p.bucket)
            .key(&p.key)
            .content_type(p.content_type.as_deref().unwrap_or(default_type))
            .set_metadata(p.metadata.clone())
            .body(ByteStream::from(body));
        if p.if_not_exists {
            req = req.if_none_match("*");
        }
        let out = call(PUT_OBJECT, &target, req.send()).await?;
        Ok(Output(json!({
            "bucket": p.bucket, "key": p.key, "size": size, "etag": out.e_tag(), "version_id": out.version_id(),
        })))
    }

    /// Copy an object (server-side, up to 5 GB). Overwrites the target key if it exists.
    #[tool(annotations(
        title = "Copy an object",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn copy_object(&self, Parameters(p): Parameters<CopyObjectParams>) -> ToolResult {
        self.check_bucket(&p.source_bucket)?;
        self.check_bucket(&p.bucket)?;
        crate::check_keys(&[
            ("key", Some(p.key.as_str())),
            ("source_key", Some(p.source_key.as_str())),
            ("source_version_id", p.source_version_id.as_deref()),
        ])?;
        if p.source_key.is_empty() || p.key.is_empty() {
            return Err(ToolError::invalid(
                if p.key.is_empty() { "key" } else { "source_key" },
                "must not be empty",
            ));
        }
        let mut source = format!("{}/{}", p.source_bucket, encode_key(&p.source_key));
        if let Some(v) = &p.source_version_id {
            source.push_str(&format!("?versionId={}", encode_key(v)));
        }
        let (client, target, _) = self.inner.clients.for_bucket(&p.bucket).await?;
        let out = call(
            COPY_OBJECT,
            &target,
            client
                .copy_object()
                .bucket(&p.bucket)
                .key(&p.key)
                .copy_source(source)
                .send(),
        )
        .await?;
        Ok(Output(json!({
            "bucket": p.bucket,
            "key": p.key,
            "etag": out.copy_object_result().and_then(|r| r.e_tag()),
            "version_id": out.version_id(),
            "source_version_id": out.copy_source_version_id(),
        })))
    }

    /// Delete an object (or, with version_id, one version of it permanently).
    #[tool(annotations(
        title = "Delete an object",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn delete_object(&self, Parameters(p): Parameters<DeleteObjectParams>) -> ToolResult {
        self.check_bucket(&p.bucket)?;
        crate::check_keys(&[("key", Some(p.key.as_str())), ("version_id", p.version_id.as_deref())])?;
        if p.key.is_empty() {
            return Err(ToolError::invalid("key", "must not be empty"));
        }
        let (client, target, _) = self.inner.clients.for_bucket(&p.bucket).await?;
        let out = call(
            DELETE_OBJECT,
            &target,
            client
                .delete_object()
                .bucket(&p.bucket)
                .key(&p.key)
                .set_version_id(p.version_id.clone())
                .send(),
        )
        .await?;
        Ok(Output(json!({
            "bucket": p.bucket, "key": p.key, "deleted": true,
            "delete_marker": out.delete_marker(), "version_id": out.version_id(),
        })))
    }
}

/// Percent-encode a key for `x-amz-copy-source`, keeping `/` as S3 expects.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_source_keys_are_percent_encoded() {
        assert_eq!(super::encode_key("a b/c+é.txt"), "a%20b/c%2B%C3%A9.txt");
    }
}
