//! `list_objects` (a page of a listing, folders with a delimiter) and `find_objects` (a glob over
//! keys, with a cap on how many keys one call may scan).

use globset::{GlobBuilder, GlobMatcher};
use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::{Op, Output, Page, PageArgs, ToolError, ToolResult, aws::call, time::opt_rfc3339 as time};

use crate::S3Server;

pub(crate) const LIST_OBJECTS: Op = Op::new("s3", "ListObjectsV2", "s3:ListBucket");

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct ListObjectsParams {
    /// Bucket name.
    pub bucket: String,
    /// Only keys starting with this (e.g. "logs/2024/").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Group keys into folders at this character (usually "/").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// Start listing after this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Entry {
    Object {
        key: String,
        size: Option<i64>,
        last_modified: Option<String>,
        storage_class: Option<String>,
    },
    Folder {
        folder: String,
    },
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct FindObjectsParams {
    /// Bucket name.
    pub bucket: String,
    /// Glob: `*` and `?` stay within one path segment, `**` spans segments, `{a,b}` alternates.
    /// Without a `/` it matches the file name at any depth (`*.csv`); with one, the whole key.
    pub pattern: String,
    /// Only scan keys under this prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Most keys to scan in this call (default 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100000))]
    pub max_keys_scanned: Option<u32>,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[derive(Debug, Serialize)]
struct Match {
    key: String,
    size: Option<i64>,
    last_modified: Option<String>,
}

#[tool_router(router = object_tools, vis = "pub(crate)")]
impl S3Server {
    /// List a page of objects (key, size, last modified, storage class). With a delimiter, keys
    /// below it are grouped into folders.
    #[tool(annotations(
        title = "List objects",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn list_objects(&self, Parameters(p): Parameters<ListObjectsParams>) -> ToolResult {
        self.check_bucket(&p.bucket)?;
        crate::check_keys(&[
            ("prefix", p.prefix.as_deref()),
            ("delimiter", p.delimiter.as_deref()),
            ("start_after", p.start_after.as_deref()),
        ])?;
        let at: Page<String> = self.core.page(&p, &p.page)?;
        let (client, target, _) = self.inner.clients.for_bucket(&p.bucket).await?;
        let out = call(
            LIST_OBJECTS,
            &target,
            client
                .list_objects_v2()
                .encoding_type(aws_sdk_s3::types::EncodingType::Url)
                .bucket(&p.bucket)
                .set_prefix(p.prefix.clone())
                .set_delimiter(p.delimiter.clone().filter(|d| !d.is_empty()))
                .set_start_after(p.start_after.clone())
                .max_keys(p.page.size(100) as i32)
                .set_continuation_token(at.token.clone())
                .send(),
        )
        .await?;
        // One ordered list of the page's entries, so a budget cut resumes at the right place.
        let mut entries: Vec<Entry> = out
            .contents()
            .iter()
            .map(|o| Entry::Object {
                key: crate::url_decode(o.key().unwrap_or_default()),
                size: o.size(),
                last_modified: time(o.last_modified()),
                storage_class: o.storage_class().map(|c| c.as_str().to_owned()),
            })
            .collect();
        entries.extend(
            out.common_prefixes()
                .iter()
                .filter_map(|c| c.prefix())
                .map(|f| Entry::Folder {
                    folder: crate::url_decode(f),
                }),
        );
        let next = out.next_continuation_token().map(str::to_owned);
        let envelope = json!({ "bucket": p.bucket, "prefix": p.prefix });
        let Output(mut result) = self.core.paged(&p, &at, next, entries, "entries", envelope)?;
        // Sent as two lists: folders and objects.
        let (mut objects, mut folders) = (Vec::new(), Vec::new());
        if let Some(serde_json::Value::Array(entries)) = result.as_object_mut().and_then(|r| r.remove("entries")) {
            for e in entries {
                match e.get("folder") {
                    Some(f) => folders.push(f.clone()),
                    None => objects.push(e),
                }
            }
        }
        result["folders"] = json!(folders);
        result["objects"] = json!(objects);
        Ok(Output(result))
    }

    /// Find keys matching a glob under a prefix. Scans at most max_keys_scanned keys per call and
    /// says whether the scan finished; next_cursor continues it.
    #[tool(annotations(
        title = "Find objects by glob",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn find_objects(&self, Parameters(p): Parameters<FindObjectsParams>) -> ToolResult {
        self.check_bucket(&p.bucket)?;
        crate::check_keys(&[("prefix", p.prefix.as_deref()), ("pattern", Some(p.pattern.as_str()))])?;
        let (matcher, on_name) = glob(&p.pattern)?;
        let resume = self.core.page::<_, String>(&p, &p.page)?.token;
        let cap = p.max_keys_scanned.unwrap_or(10_000) as usize;
        let want = p.page.size(100) as usize;
        let prefix = scan_prefix(p.prefix.as_deref(), &p.pattern);
        let (client, target, _) = self.inner.clients.for_bucket(&p.bucket).await?;
        let mut pages = client
            .list_objects_v2()
            .encoding_type(aws_sdk_s3::types::EncodingType::Url)
            .bucket(&p.bucket)
            .set_prefix(prefix)
            .set_start_after(resume)
            .into_paginator()
            .page_size(1000)
            .send();
        let (mut matches, mut scanned, mut last_seen, mut finished) = (Vec::new(), 0usize, None::<String>, false);
        'scan: loop {
            let Some(page) = pages.next().await else {
                finished = true;
                break;
            };
            let page = call(LIST_OBJECTS, &target, async { page }).await?;
            for o in page.contents() {
                let key = &crate::url_decode(o.key().unwrap_or_default());
                scanned += 1;
                last_seen = Some(key.to_owned());
                let name = if on_name {
                    key.rsplit('/').next().unwrap_or(key)
                } else {
                    key
                };
                if matcher.is_match(name) {
                    matches.push(Match {
                        key: key.to_owned(),
                        size: o.size(),
                        last_modified: time(o.last_modified()),
                    });
                }
                if matches.len() >= want || scanned >= cap {
                    break 'scan;
                }
            }
        }
        // The listing may end exactly at the cap; a continuation would then find nothing more.
        let fit = self.core.budget.fit_items(&matches, 512);
        let mut note = None;
        if fit < matches.len() {
            note = Some(self.core.budget.dropped_note(
                "/matches",
                fit,
                matches.len() - fit,
                "the output budget cut the matches: call find_objects again with cursor = next_cursor",
            ));
            matches.truncate(fit);
            last_seen = matches.last().map(|m| m.key.clone());
            finished = false;
        }
        let next_cursor = if finished {
            None
        } else {
            last_seen.map(|k| {
                self.core.cursor(
                    &p,
                    &Page {
                        token: Some(k),
                        skip: 0,
                    },
                )
            })
        };
        let mut result = json!({
            "bucket": p.bucket,
            "pattern": p.pattern,
            "matches": matches,
            "keys_scanned": scanned,
            "scan_complete": finished,
            "next_cursor": next_cursor,
        });
        if let Some(note) = note {
            shared::budget::attach(&mut result, note);
        }
        Ok(Output(result))
    }
}

/// Compile the pattern; the flag says whether it applies to file names rather than whole keys.
fn glob(pattern: &str) -> Result<(GlobMatcher, bool), ToolError> {
    if pattern.is_empty() {
        return Err(ToolError::invalid(
            "pattern",
            "must not be empty; e.g. `*.csv` or `logs/**/2024-*.json`",
        ));
    }
    let g = GlobBuilder::new(pattern).literal_separator(true).build().map_err(|e| {
        ToolError::invalid(
            "pattern",
            format!("not a valid glob ({e}); e.g. `*.csv` or `logs/**/*.json`"),
        )
    })?;
    Ok((g.compile_matcher(), !pattern.contains('/')))
}

/// Narrow the listing to the pattern's literal leading part when it is more specific than `prefix`.
fn scan_prefix(prefix: Option<&str>, pattern: &str) -> Option<String> {
    let literal: String = if pattern.contains('/') {
        pattern
            .chars()
            .take_while(|c| !matches!(c, '*' | '?' | '[' | '{' | '\\'))
            .collect()
    } else {
        String::new()
    };
    match prefix {
        Some(p) if literal.starts_with(p) && literal.len() > p.len() => Some(literal),
        Some(p) => Some(p.to_owned()),
        None if !literal.is_empty() => Some(literal),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_without_a_slash_match_file_names() {
        let (m, on_name) = glob("*.csv").unwrap();
        assert!(on_name && m.is_match("x.csv") && !m.is_match("x.json"));
        let (m, on_name) = glob("logs/**/*.json").unwrap();
        assert!(!on_name && m.is_match("logs/a/b/c.json") && !m.is_match("other/c.json"));
        let (m, _) = glob("logs/*.json").unwrap();
        assert!(!m.is_match("logs/a/c.json"), "* stays within a segment");
        assert!(glob("[").is_err() && glob("").is_err());
    }

    #[test]
    fn the_scan_is_narrowed_by_the_literal_part() {
        assert_eq!(scan_prefix(None, "logs/2024-*.json").as_deref(), Some("logs/2024-"));
        assert_eq!(scan_prefix(Some("logs/"), "logs/2024-*").as_deref(), Some("logs/2024-"));
        assert_eq!(scan_prefix(Some("data/"), "logs/*").as_deref(), Some("data/"));
        assert_eq!(scan_prefix(None, "*.csv"), None);
    }
}
