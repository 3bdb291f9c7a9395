//! MCP resources: `s3://{bucket}/{key}` objects (read under the same budget rules as get_object),
//! `s3://{bucket}/` for a bucket's top-level listing, `resources/list` of buckets with a cursor,
//! and completions for bucket names and keys.

use rmcp::{
    ErrorData,
    model::{
        CompleteRequestParams, CompleteResult, ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult,
        Reference, Resource, ResourceContents, ResourceTemplate,
    },
};
use serde_json::json;
use shared::{
    Page, PageArgs, ToolError,
    aws::call,
    core::{MAX_COMPLETIONS, completion, resource_error},
};

use crate::{S3Server, tools::objects::LIST_OBJECTS};

pub(crate) const TEMPLATE: &str = "s3://{bucket}/{key}";
const RESOURCE_PAGE: i32 = 100;

fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(TEMPLATE, "s3-object")
            .with_title("S3 object")
            .with_description("An object's text (clipped to the output budget; get_object continues it) or, for binary objects, its metadata and a presigned URL.")
    ])
}

fn to_mcp(uri: &str, e: ToolError) -> ErrorData {
    resource_error(uri, e, &["NoSuchBucket", "NoSuchKey", "NoSuchVersion"])
}

/// `s3://bucket/key` → (bucket, key); the key may be empty (the bucket itself).
fn parse_uri(uri: &str) -> Result<(&str, &str), ErrorData> {
    let rest = uri.strip_prefix("s3://").ok_or_else(|| {
        ErrorData::invalid_params(
            format!("`{uri}` is not an s3:// URI; use s3://{{bucket}}/{{key}}"),
            None,
        )
    })?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(ErrorData::invalid_params(
            format!("`{uri}` names no bucket; use s3://{{bucket}}/{{key}}"),
            None,
        ));
    }
    Ok((bucket, key))
}

impl shared::core::Resources for S3Server {
    fn templates(&self) -> ListResourceTemplatesResult {
        templates()
    }

    async fn list(&self, cursor: Option<String>) -> Result<ListResourcesResult, ErrorData> {
        let page = PageArgs {
            page_size: None,
            cursor,
        };
        let at: Page<String> = self.core.page(&(), &page).map_err(|e| to_mcp("", e))?;
        let page = self
            .bucket_page(None, RESOURCE_PAGE, at)
            .await
            .map_err(|e| to_mcp("", e))?;
        let resources: Vec<Resource> = page
            .buckets
            .iter()
            .filter_map(|b| {
                let name = b.name()?;
                Some(
                    Resource::new(format!("s3://{name}/"), name.to_owned())
                        .with_mime_type("application/json")
                        .with_description(match b.bucket_region() {
                            Some(region) => format!("S3 bucket in {region}"),
                            None => "S3 bucket".to_owned(),
                        }),
                )
            })
            .collect();
        let out = self
            .core
            .paged(&(), &page.at, page.next, resources, "resources", json!({}))
            .map_err(|e| to_mcp("", e))?
            .0;
        let items: Vec<Resource> = serde_json::from_value(out["resources"].clone()).unwrap_or_default();
        let mut result = ListResourcesResult::with_all_items(items);
        result.next_cursor = out["next_cursor"].as_str().map(str::to_owned);
        Ok(result)
    }

    async fn read(&self, uri: &str) -> Result<ReadResourceResult, ErrorData> {
        let (bucket, key) = parse_uri(uri)?;
        self.check_bucket(bucket).map_err(|e| to_mcp(uri, e))?;
        if key.is_empty() {
            let (client, target, _) = self
                .inner
                .clients
                .for_bucket(bucket)
                .await
                .map_err(|e| to_mcp(uri, e))?;
            let out = call(
                LIST_OBJECTS,
                &target,
                client
                    .list_objects_v2()
                    .encoding_type(aws_sdk_s3::types::EncodingType::Url)
                    .bucket(bucket)
                    .delimiter("/")
                    .max_keys(RESOURCE_PAGE)
                    .send(),
            )
            .await
            .map_err(|e| to_mcp(uri, e))?;
            let listing = json!({
                "bucket": bucket,
                "folders": out.common_prefixes().iter().filter_map(|c| c.prefix()).map(crate::url_decode).collect::<Vec<_>>(),
                "objects": out.contents().iter().filter_map(|o| o.key()).map(crate::url_decode).collect::<Vec<_>>(),
                "more": out.is_truncated().unwrap_or(false),
                "note": "first page only; list_objects pages through everything",
            });
            let listing = self.core.budget.enforce(listing);
            return Ok(ReadResourceResult::new(vec![
                ResourceContents::text(listing.to_string(), uri).with_mime_type("application/json"),
            ]));
        }
        let mut out = self
            .read_object(bucket, key, None, 0, None)
            .await
            .map_err(|e| to_mcp(uri, e))?;
        if let Some(text) = out.get_mut("text").map(serde_json::Value::take) {
            let mime = out["content_type"].as_str().unwrap_or("text/plain").to_owned();
            let mut contents =
                vec![ResourceContents::text(text.as_str().unwrap_or_default(), uri).with_mime_type(mime)];
            // A clipped body is followed by a JSON note with the continuation, never silently cut.
            if let Some(note) = out.get("truncated") {
                let note =
                    json!({ "truncated": note, "next_range_start": out["next_range_start"], "size": out["size"] });
                contents.push(
                    ResourceContents::text(note.to_string(), format!("{uri}#truncated"))
                        .with_mime_type("application/json"),
                );
            }
            return Ok(ReadResourceResult::new(contents));
        }
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(out.to_string(), uri).with_mime_type("application/json"),
        ]))
    }

    async fn complete(&self, request: CompleteRequestParams) -> Result<CompleteResult, ErrorData> {
        let is_template = matches!(&request.r#ref, Reference::Resource(r) if r.uri == TEMPLATE);
        let typed = request.argument.value.clone();
        let values = match (is_template, request.argument.name.as_str()) {
            (true, "bucket") => self.complete_buckets(&typed).await,
            (true, "key") => {
                let bucket = request.context.as_ref().and_then(|c| c.get_argument("bucket")).cloned();
                match bucket {
                    Some(b) if self.inner.buckets.allows(&b) => self.complete_keys(&b, &typed).await,
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        completion(values)
    }
}

impl S3Server {
    /// Completion failures (no permission, emulator down) give no suggestions rather than an error.
    async fn complete_buckets(&self, typed: &str) -> Vec<String> {
        let typed = (!typed.is_empty()).then_some(typed);
        match self.bucket_page(typed, MAX_COMPLETIONS as i32, Page::default()).await {
            Ok(page) => page
                .buckets
                .iter()
                .filter_map(|b| b.name())
                .map(str::to_owned)
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    async fn complete_keys(&self, bucket: &str, typed: &str) -> Vec<String> {
        let Ok((client, target, _)) = self.inner.clients.for_bucket(bucket).await else {
            return Vec::new();
        };
        let req = client
            .list_objects_v2()
            .encoding_type(aws_sdk_s3::types::EncodingType::Url)
            .bucket(bucket)
            .prefix(typed)
            .delimiter("/")
            .max_keys(MAX_COMPLETIONS as i32);
        match call(LIST_OBJECTS, &target, req.send()).await {
            Ok(out) => out
                .common_prefixes()
                .iter()
                .filter_map(|c| c.prefix())
                .chain(out.contents().iter().filter_map(|o| o.key()))
                .take(MAX_COMPLETIONS)
                .map(crate::url_decode)
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(parse_uri("s3://b/a/b.txt").unwrap(), ("b", "a/b.txt"));
        assert_eq!(parse_uri("s3://b/").unwrap(), ("b", ""));
        assert_eq!(parse_uri("s3://b").unwrap(), ("b", ""));
        assert!(parse_uri("s3:///k").is_err());
        assert!(parse_uri("https://b/k").is_err());
    }
}
