//! `list_buckets` and `get_bucket_info`.

use aws_sdk_s3::{error::ProvideErrorMetadata, operation::RequestId, types::BucketVersioningStatus};
use futures::StreamExt;
use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Op, Output, Page, PageArgs, ToolError, ToolResult, aws::call, time::opt_rfc3339 as time};

use crate::S3Server;

pub(crate) const LIST_BUCKETS: Op = Op::new("s3", "ListBuckets", "s3:ListAllMyBuckets");

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct ListBucketsParams {
    /// Only buckets whose name starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Serialize)]
struct BucketOut {
    name: String,
    region: Option<String>,
    created: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct BucketParams {
    /// Bucket name.
    pub bucket: String,
}

#[tool_router(router = bucket_tools, vis = "pub(crate)")]
impl S3Server {
    /// List buckets with their region and creation date, a page at a time.
    #[tool(annotations(
        title = "List buckets",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn list_buckets(&self, Parameters(p): Parameters<ListBucketsParams>) -> ToolResult {
        crate::check_keys(&[("prefix", p.prefix.as_deref())])?;
        let at: Page<String> = self.core.page(&p, &p.page)?;
        let page = self
            .bucket_page(p.prefix.as_deref(), p.page.size(100) as i32, at.clone())
            .await?;
        let mut buckets: Vec<BucketOut> = page
            .buckets
            .iter()
            .filter_map(|b| {
                Some(BucketOut {
                    name: b.name()?.to_owned(),
                    region: b.bucket_region().map(str::to_owned),
                    created: time(b.creation_date()),
                })
            })
            .collect();
        // Older S3-compatible endpoints omit BucketRegion: look those up (cached, a few at a time).
        let clients = &self.inner.clients;
        let wanted: Vec<(String, Option<String>)> =
            buckets.iter().map(|b| (b.name.clone(), b.region.clone())).collect();
        let regions: Vec<Option<String>> = futures::stream::iter(wanted)
            .map(|(name, region)| async move {
                match region {
                    Some(r) => {
                        clients.remember_region(&name, &r).await;
                        Some(r)
                    }
                    None => clients.region_of(&name).await.ok(),
                }
            })
            .buffered(8)
            .collect()
            .await;
        for (b, r) in buckets.iter_mut().zip(regions) {
            b.region = r;
        }
        let mut envelope = json!({});
        if page.hidden > 0 {
            envelope["hidden_by_allowlist"] = json!(page.hidden);
        }
        self.core.paged(&p, &page.at, page.next, buckets, "buckets", envelope)
    }

    /// Bucket configuration: region, versioning, default encryption, public access block, tags and
    /// whether the bucket policy makes it public. Parts that are not configured say so.
    #[tool(annotations(
        title = "Describe a bucket",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn get_bucket_info(&self, Parameters(p): Parameters<BucketParams>) -> ToolResult {
        self.check_bucket(&p.bucket)?;
        let (mut info, cached) = self
            .inner
            .bucket_info
            .get_or_fetch(shared::context::scoped(&p.bucket), self.fetch_bucket_info(&p.bucket))
            .await?;
        if cached {
            info["from_cache"] = json!(true);
        }
        Ok(Output(info))
    }
}

/// A configuration part's error codes that mean "not configured" rather than failure.
const NOT_CONFIGURED: &[&str] = &[
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "NoSuchTagSet",
    "NoSuchTagSetError",
    "NoSuchBucketPolicy",
];

/// One part of `get_bucket_info`: the value, "not configured", or that part's own error (the
/// other parts are still reported).
fn part<O: RequestId, E: ProvideErrorMetadata + RequestId>(result: Result<O, E>, ok: impl FnOnce(O) -> Value) -> Value {
    shared::audit::record_request_id(result.request_id());
    match result {
        Ok(o) => ok(o),
        Err(e) if e.code().is_some_and(|c| NOT_CONFIGURED.contains(&c)) => json!({ "configured": false }),
        Err(e) => json!({ "error": { "code": e.code().unwrap_or("Unknown"), "message": e.message().unwrap_or("") } }),
    }
}

/// AWS pages one call may read while the allowlist filters pages down to nothing.
const MAX_FILTERED_PAGES: usize = 10;

/// One page of allowed buckets, and where it came from.
pub(crate) struct BucketPage {
    pub buckets: Vec<aws_sdk_s3::types::Bucket>,
    /// The AWS page these buckets are from, with the cursor's skip when it is the page asked for.
    pub at: Page<String>,
    pub next: Option<String>,
    pub hidden: usize,
}

impl S3Server {
    /// ListBuckets narrowed to what the allowlist can allow; pages that the allowlist empties are
    /// read through (a bounded number), so callers do not get empty pages with a cursor.
    pub(crate) async fn bucket_page(
        &self,
        prefix: Option<&str>,
        page_size: i32,
        at: Page<String>,
    ) -> Result<BucketPage, ToolError> {
        let empty = |at| BucketPage {
            buckets: vec![],
            at,
            next: None,
            hidden: 0,
        };
        let Some(prefix) = self.inner.buckets.narrow(prefix) else {
            return Ok(empty(at));
        };
        let (client, target) = self.inner.clients.home().await?;
        let (mut at, mut hidden) = (at, 0);
        for _ in 0..MAX_FILTERED_PAGES {
            let out = call(
                LIST_BUCKETS,
                &target,
                client
                    .list_buckets()
                    .set_prefix(prefix.clone())
                    .max_buckets(page_size)
                    .set_continuation_token(at.token.clone())
                    .send(),
            )
            .await?;
            let next = out.continuation_token().map(str::to_owned);
            let all = out.buckets.unwrap_or_default();
            let total = all.len();
            let buckets: Vec<_> = all
                .into_iter()
                .filter(|b| b.name().is_some_and(|n| self.inner.buckets.allows(n)))
                .collect();
            hidden += total - buckets.len();
            if !buckets.is_empty() || next.is_none() {
                return Ok(BucketPage {
                    buckets,
                    at,
                    next,
                    hidden,
                });
            }
            at = Page { token: next, skip: 0 };
        }
        Ok(BucketPage {
            buckets: vec![],
            next: at.token.clone(),
            at,
            hidden,
        })
    }

    async fn fetch_bucket_info(&self, bucket: &str) -> Result<Value, ToolError> {
        let (client, _target, region) = self.inner.clients.for_bucket(bucket).await?;
        let (versioning, encryption, pab, tags, policy) = tokio::join!(
            client.get_bucket_versioning().bucket(bucket).send(),
            client.get_bucket_encryption().bucket(bucket).send(),
            client.get_public_access_block().bucket(bucket).send(),
            client.get_bucket_tagging().bucket(bucket).send(),
            client.get_bucket_policy_status().bucket(bucket).send(),
        );
        let versioning = part(versioning, |v| {
            json!({
                "status": match v.status() {
                    Some(BucketVersioningStatus::Enabled) => "Enabled",
                    Some(BucketVersioningStatus::Suspended) => "Suspended",
                    _ => "Disabled (never enabled)",
                },
                "mfa_delete": v.mfa_delete().map(|m| m.as_str().to_owned()),
            })
        });
        let encryption = part(encryption, |e| {
            let rules: Vec<Value> = e
                .server_side_encryption_configuration()
                .map(|c| c.rules())
                .unwrap_or_default()
                .iter()
                .map(|r| {
                    let d = r.apply_server_side_encryption_by_default();
                    json!({
                        "algorithm": d.map(|d| d.sse_algorithm().as_str().to_owned()),
                        "kms_key_id": d.and_then(|d| d.kms_master_key_id()),
                        "bucket_key_enabled": r.bucket_key_enabled(),
                    })
                })
                .collect();
            json!({ "configured": true, "rules": rules })
        });
        let public_access_block = part(pab, |o| match o.public_access_block_configuration() {
            Some(c) => json!({
                "configured": true,
                "block_public_acls": c.block_public_acls(),
                "ignore_public_acls": c.ignore_public_acls(),
                "block_public_policy": c.block_public_policy(),
                "restrict_public_buckets": c.restrict_public_buckets(),
            }),
            None => json!({ "configured": false }),
        });
        let tags = part(tags, |t| {
            let map: serde_json::Map<String, Value> = t
                .tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), json!(t.value())))
                .collect();
            json!({ "configured": !map.is_empty(), "tags": map })
        });
        let policy = part(
            policy,
            |p| json!({ "configured": true, "is_public": p.policy_status().and_then(|s| s.is_public()) }),
        );
        let info = json!({
            "bucket": bucket,
            "region": region,
            "versioning": versioning,
            "encryption": encryption,
            "public_access_block": public_access_block,
            "tags": tags,
            "policy_status": policy,
        });
        Ok(info)
    }
}
