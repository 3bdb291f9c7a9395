//! S3 clients per region, and the region of each bucket. S3 answers a request sent to the wrong
//! region with a redirect, so every bucket-level call goes through [`Clients::for_bucket`]. Both
//! lookups are cached: they are the metadata every tool call needs.

use std::time::Duration;

use aws_sdk_s3::{Client, error::SdkError, operation::RequestId};
use aws_types::SdkConfig;
use shared::{Op, Target, ToolError, TtlCache, aws::endpoint_override};

const HEAD_BUCKET: Op = Op::new("s3", "HeadBucket", "s3:ListBucket");

#[derive(Clone)]
pub struct Clients {
    sdk: SdkConfig,
    path_style: bool,
    home: Client,
    home_region: String,
    by_region: TtlCache<String, Client>,
    bucket_region: TtlCache<String, String>,
}

impl Clients {
    pub fn new(sdk: &SdkConfig, ttl: Duration) -> Self {
        // Emulators and S3-compatible stores behind an endpoint override need path-style URLs.
        let path_style = endpoint_override(sdk, "S3").is_some()
            || std::env::var("AWS_S3_FORCE_PATH_STYLE").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
        let home_region = sdk.region().map(|r| r.to_string()).unwrap_or_default();
        let home = Self::build(sdk, path_style, None);
        Self {
            sdk: sdk.clone(),
            path_style,
            home,
            home_region,
            by_region: TtlCache::new(64, Duration::from_secs(24 * 3600)),
            bucket_region: TtlCache::new(10_000, ttl),
        }
    }

    fn build(sdk: &SdkConfig, path_style: bool, region: Option<&str>) -> Client {
        let mut conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(path_style);
        if let Some(r) = region {
            conf = conf.region(aws_sdk_s3::config::Region::new(r.to_owned()));
        }
        Client::from_conf(conf.build())
    }

    /// The client for the configured region (account-level calls such as ListBuckets).
    pub fn home(&self) -> (&Client, Target) {
        (&self.home, self.target(&self.home_region))
    }

    pub fn target(&self, region: &str) -> Target {
        Target::new(&self.sdk, "S3", "s3", Some(region))
    }

    /// The client for `bucket`'s region, its target, and the region.
    pub async fn for_bucket(&self, bucket: &str) -> Result<(Client, Target, String), ToolError> {
        let region = self.region_of(bucket).await?;
        let client = if region == self.home_region {
            self.home.clone()
        } else {
            let (sdk, path_style, r) = (&self.sdk, self.path_style, region.clone());
            self.by_region
                .get_or_fetch(
                    region.clone(),
                    async move { Ok(Self::build(sdk, path_style, Some(&r))) },
                )
                .await?
                .0
        };
        Ok((client, self.target(&region), region))
    }

    /// The bucket's region (cached), from HeadBucket's `x-amz-bucket-region`, which S3 sends even
    /// with a redirect or an access-denied answer.
    pub async fn region_of(&self, bucket: &str) -> Result<String, ToolError> {
        Ok(self
            .bucket_region
            .get_or_fetch(bucket.to_owned(), self.lookup_region(bucket))
            .await?
            .0)
    }

    /// Remember a region learned elsewhere (ListBuckets reports it).
    pub async fn remember_region(&self, bucket: &str, region: &str) {
        self.bucket_region.insert(bucket.to_owned(), region.to_owned()).await;
    }

    pub async fn cached_region(&self, bucket: &str) -> Option<String> {
        self.bucket_region.get(&bucket.to_owned()).await
    }

    async fn lookup_region(&self, bucket: &str) -> Result<String, ToolError> {
        let target = self.target(&self.home_region);
        let result = self.home.head_bucket().bucket(bucket).send().await;
        shared::audit::record_request_id(result.request_id());
        match result {
            Ok(out) => Ok(out.bucket_region().unwrap_or(&self.home_region).to_owned()),
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
