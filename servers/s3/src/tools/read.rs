//! `head_object`, `get_object` and `presign_url`. Objects are read HEAD first: the size and type
//! decide how much to fetch and whether to inline it at all.

use std::time::Duration;

use aws_sdk_s3::{Client, operation::head_object::HeadObjectOutput, presigning::PresigningConfig};
use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Op, Output, Target, ToolError, ToolResult, aws::call, budget::json_len};

use shared::time::opt_rfc3339 as time;

use crate::{
    S3Server,
    content::{self, Kind},
};

pub(crate) const HEAD_OBJECT: Op = Op::new("s3", "HeadObject", "s3:GetObject");
pub(crate) const GET_OBJECT: Op = Op::new("s3", "GetObject", "s3:GetObject");
/// Presigned URLs live 15 minutes unless asked otherwise, and never beyond 12 hours.
const DEFAULT_EXPIRY_SECS: u64 = 900;
const MAX_EXPIRY_SECS: u64 = 12 * 3600;
/// Bytes looked at to decide whether an untyped object is text.
const SNIFF_BYTES: u64 = 4096;

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct ObjectParams {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// A specific version (versioned buckets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct GetObjectParams {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// A specific version (versioned buckets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Byte offset to start reading at (next_range_start of the previous call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_start: Option<u64>,
    /// Read at most this many bytes (the output budget also limits it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_bytes: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct PresignParams {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// A specific version (versioned buckets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Seconds the URL stays valid (default 900, at most 43200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 43200))]
    pub expires_in_secs: Option<u64>,
}

#[tool_router(router = read_tools, vis = "pub(crate)")]
impl S3Server {
    /// Object metadata without the body: size, content type, ETag, last modified, user metadata,
    /// version id, storage class.
    #[tool(annotations(
        title = "Object metadata",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn head_object(&self, Parameters(p): Parameters<ObjectParams>) -> ToolResult {
        self.check_bucket(&p.bucket)?;
        crate::check_keys(&[("key", Some(p.key.as_str())), ("version_id", p.version_id.as_deref())])?;
        let (client, target, _) = self.inner.clients.for_bucket(&p.bucket).await?;
        let obj = Obj {
            client: &client,
            target: &target,
            bucket: &p.bucket,
            key: &p.key,
            version: p.version_id.as_deref(),
        };
        Ok(Output(metadata(&p.bucket, &p.key, &obj.head().await?)))
    }

    /// Read an object. Text comes back up to the output budget; next_range_start continues it.
    /// Binary objects are never inlined: you get their metadata and a presigned URL.
    #[tool(annotations(
        title = "Read an object",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn get_object(&self, Parameters(p): Parameters<GetObjectParams>) -> ToolResult {
        self.check_bucket(&p.bucket)?;
        crate::check_keys(&[("key", Some(p.key.as_str())), ("version_id", p.version_id.as_deref())])?;
        Ok(Output(
            self.read_object(
                &p.bucket,
                &p.key,
                p.version_id.as_deref(),
                p.range_start.unwrap_or(0),
                p.max_bytes,
            )
            .await?,
        ))
    }

    /// A presigned HTTPS GET URL for an object (default 15 minutes). Anyone holding it can download
    /// the object until it expires.
    #[tool(annotations(
        title = "Presign a download URL",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    async fn presign_url(&self, Parameters(p): Parameters<PresignParams>) -> ToolResult {
        self.check_bucket(&p.bucket)?;
        crate::check_keys(&[("key", Some(p.key.as_str())), ("version_id", p.version_id.as_deref())])?;
        let expires = p.expires_in_secs.unwrap_or(DEFAULT_EXPIRY_SECS);
        if expires == 0 || expires > MAX_EXPIRY_SECS {
            return Err(ToolError::invalid(
                "expires_in_secs",
                format!("must be between 1 and {MAX_EXPIRY_SECS}"),
            ));
        }
        let (client, target, _) = self.inner.clients.for_bucket(&p.bucket).await?;
        let obj = Obj {
            client: &client,
            target: &target,
            bucket: &p.bucket,
            key: &p.key,
            version: p.version_id.as_deref(),
        };
        let url = obj.presign(expires).await?;
        Ok(Output(
            json!({ "bucket": p.bucket, "key": p.key, "method": "GET", "url": url, "expires_in_secs": expires }),
        ))
    }
}

impl S3Server {
    /// The body of `get_object`, also used to read `s3://` resources.
    pub(crate) async fn read_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        start: u64,
        max_bytes: Option<u64>,
    ) -> Result<Value, ToolError> {
        let (client, target, _) = self.inner.clients.for_bucket(bucket).await?;
        let obj = Obj {
            client: &client,
            target: &target,
            bucket,
            key,
            version: version_id,
        };
        let head = obj.head().await?;
        let size = head.content_length().unwrap_or(0).max(0) as u64;
        let mut out = metadata(bucket, key, &head);
        let kind = content::classify(head.content_type(), head.content_encoding());
        if kind == Kind::Binary {
            return obj.binary(out, "its content type marks it as binary").await;
        }
        if start > size || (start == size && size > 0) {
            return Err(ToolError::invalid(
                "range_start",
                format!("{start} is at or past the end of the object ({size} bytes)"),
            ));
        }
        let room = self.core.budget.room(json_len(&out) + 256) as u64;
        let want = (size - start)
            .min(room)
            .min(max_bytes.unwrap_or(u64::MAX))
            .max(if kind == Kind::Sniff {
                SNIFF_BYTES.min(size - start)
            } else {
                0
            });
        let bytes = if want == 0 {
            Vec::new()
        } else {
            // Pin the version read by HEAD so the range and the metadata describe the same object.
            let mut get = client
                .get_object()
                .bucket(bucket)
                .key(key)
                .range(format!("bytes={start}-{}", start + want - 1));
            get = match (version_id, head.e_tag()) {
                (Some(v), _) => get.version_id(v),
                (None, Some(etag)) => get.if_match(etag),
                _ => get,
            };
            let resp = call(GET_OBJECT, &target, get.send()).await?;
            resp.body
                .collect()
                .await
                .map_err(|e| ToolError::Transport {
                    service: "s3",
                    operation: "GetObject",
                    endpoint: target.endpoint.clone(),
                    detail: format!("the object body stopped arriving: {e}"),
                    retryable: true,
                })?
                .to_vec()
        };
        if kind == Kind::Sniff && !content::looks_like_text(&bytes[..bytes.len().min(SNIFF_BYTES as usize)]) {
            return obj.binary(out, "its bytes are not UTF-8 text").await;
        }
        let limit = room.min(max_bytes.unwrap_or(u64::MAX)) as usize;
        let Some(slice) = content::fit_text(&bytes, start, limit) else {
            return obj.binary(out, "its bytes are not valid UTF-8").await;
        };
        let first = start + slice.lead as u64;
        let end = start + slice.consumed as u64;
        out["range"] = json!({ "start": first, "end": end.saturating_sub(1), "bytes": end - first });
        out["text"] = json!(slice.text);
        if end < size {
            out["next_range_start"] = json!(end);
            let how = format!(
                "call get_object again with range_start={end} to continue ({} of {size} bytes not returned)",
                size - end
            );
            shared::budget::attach(
                &mut out,
                shared::budget::Truncation {
                    budget_tokens: self.core.budget.tokens(),
                    clipped_strings: vec![shared::budget::Clipped {
                        path: "/text".into(),
                        kept_bytes: (end - first) as usize,
                        original_bytes: (size - first) as usize,
                    }],
                    how_to_get_the_rest: how,
                    ..Default::default()
                },
            );
        }
        Ok(out)
    }
}

/// One object, and the client and endpoint that reach it.
struct Obj<'a> {
    client: &'a Client,
    target: &'a Target,
    bucket: &'a str,
    key: &'a str,
    version: Option<&'a str>,
}

impl Obj<'_> {
    async fn head(&self) -> Result<HeadObjectOutput, ToolError> {
        if self.key.is_empty() {
            return Err(ToolError::invalid(
                "key",
                "must not be empty; list_objects shows the keys",
            ));
        }
        let req = self
            .client
            .head_object()
            .bucket(self.bucket)
            .key(self.key)
            .set_version_id(self.version.map(str::to_owned));
        match call(HEAD_OBJECT, self.target, req.send()).await {
            // A HEAD answer has no body, so S3 cannot say NoSuchKey: the bucket exists (its region was
            // found), so a 404 here is a missing key (or version).
            Err(ToolError::Aws(e)) if e.http_status == Some(404) => {
                let code = if self.version.is_some() {
                    "NoSuchVersion"
                } else {
                    "NoSuchKey"
                };
                let message = format!("no object `{}` in bucket `{}`", self.key, self.bucket);
                Err(ToolError::aws_code(HEAD_OBJECT, self.target, code, message, Some(404))
                    .with_request_id(e.request_id.as_deref()))
            }
            other => other,
        }
    }

    async fn presign(&self, expires: u64) -> Result<String, ToolError> {
        let config = PresigningConfig::expires_in(Duration::from_secs(expires))
            .map_err(|e| ToolError::invalid("expires_in_secs", e.to_string()))?;
        let req = self
            .client
            .get_object()
            .bucket(self.bucket)
            .key(self.key)
            .set_version_id(self.version.map(str::to_owned))
            .presigned(config)
            .await
            .map_err(|e| ToolError::from_sdk(GET_OBJECT, self.target, e))?;
        Ok(req.uri().to_owned())
    }

    /// `out` (the object's metadata) for an object whose content is not inlined, and why.
    async fn binary(&self, mut out: Value, why: &str) -> Result<Value, ToolError> {
        out["binary"] = json!(true);
        out["note"] = json!(format!(
            "content not inlined because {why}; download it with presigned_url"
        ));
        out["presigned_url"] = json!(self.presign(DEFAULT_EXPIRY_SECS).await?);
        out["presigned_url_expires_in_secs"] = json!(DEFAULT_EXPIRY_SECS);
        Ok(out)
    }
}

fn metadata(bucket: &str, key: &str, h: &HeadObjectOutput) -> Value {
    json!({
        "bucket": bucket,
        "key": key,
        "size": h.content_length(),
        "content_type": h.content_type(),
        "content_encoding": h.content_encoding(),
        "etag": h.e_tag(),
        "last_modified": time(h.last_modified()),
        "version_id": h.version_id(),
        "storage_class": h.storage_class().map(|s| s.as_str().to_owned()),
        "metadata": h.metadata(),
    })
}
