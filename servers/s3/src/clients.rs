//! S3 clients per region, and the region of each bucket. S3 answers a request sent to the wrong
//! region with a redirect, so every bucket-level call goes through [`Clients::for_bucket`]. Both
//! lookups are cached: they are the metadata every tool call needs.

use aws_sdk_s3::{Client, error::SdkError, operation::RequestId};
use aws_types::SdkConfig;
use shared::{ClientPool, Core, Op, Target, ToolError, TtlCache, aws::endpoint_override, context};

const HEAD_BUCKET: Op = Op::new("s3", "HeadBucket", "s3:ListBucket");

#[derive(Clone)]
pub(crate) struct Clients {
    pool: ClientPool<Client>,
    bucket_region: TtlCache<String, String>,
}

/// Emulators and S3-compatible stores behind an endpoint override need path-style URLs.
fn build(sdk: &SdkConfig, region: &str) -> Client {
    let path_style = endpoint_override(sdk, "S3").is_some()
        || std::env::var("AWS_S3_FORCE_PATH_STYLE").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(path_style)
        .region(aws_sdk_s3::config::Region::new(region.to_owned()));
    Client::from_conf(conf.build())
}

impl Clients {
    pub(crate) fn new(core: &Core) -> Self {
        Self {
            pool: ClientPool::new(core, "S3", "s3", build),
            bucket_region: core.cache(10_000),
        }
    }

    /// The client for the call's region (account-level calls such as ListBuckets).
    pub(crate) async fn home(&self) -> Result<(Client, Target), ToolError> {
        self.pool.get().await
    }

    /// The client for `bucket`'s region, its target, and the region.
    pub(crate) async fn for_bucket(&self, bucket: &str) -> Result<(Client, Target, String), ToolError> {
        let region = self.region_of(bucket).await?;
        let (client, target) = self.pool.get_in(&region).await?;
        Ok((client, target, region))
    }

    /// The bucket's region (cached per account), from HeadBucket's `x-amz-bucket-region`, which S3
    /// sends even with a redirect or an access-denied answer.
    pub(crate) async fn region_of(&self, bucket: &str) -> Result<String, ToolError> {
        Ok(self
            .bucket_region
            .get_or_fetch(context::scoped(bucket), self.lookup_region(bucket))
            .await?
            .0)
    }

    /// Remember a region learned elsewhere (ListBuckets reports it).
    pub(crate) async fn remember_region(&self, bucket: &str, region: &str) {
        self.bucket_region
            .insert(context::scoped(bucket), region.to_owned())
            .await;
    }

    async fn lookup_region(&self, bucket: &str) -> Result<String, ToolError> {
        let (home, target) = self.pool.get().await?;
        let home_region = target.region.clone();
        let result = home.head_bucket().bucket(bucket).send().await;
        shared::audit::record_request_id(result.request_id());
        match result {
            Ok(out) => Ok(out.bucket_region().unwrap_or(&home_region).to_owned()),
            Err(SdkError::ServiceError(e)) => {
                let raw = e.raw();
                if let Some(region) = raw.headers().get("x-amz-bucket-region").filter(|r| !r.is_empty()) {
                    return Ok(region.to_owned());
                }
                let status = raw.status().as_u16();
                if status == 404 {
                    return Err(ToolError::aws_code(
                        HEAD_BUCKET,
                        &target,
                        "NoSuchBucket",
                        format!("The specified bucket `{bucket}` does not exist"),
                        Some(404),
                    )
                    .with_request_id(raw.headers().request_id()));
                }
                Err(ToolError::from_sdk(HEAD_BUCKET, &target, SdkError::ServiceError(e)))
            }
            Err(e) => Err(ToolError::from_sdk(HEAD_BUCKET, &target, e)),
        }
    }
}
