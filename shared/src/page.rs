//! One pager for every listing tool. A tool flattens [`PageArgs`] into its parameters, opens the
//! page it starts at with [`Core::page`], and hands its items and the rest of its result to
//! [`Core::paged`] (or [`Core::paged_after`]), which measures the result itself, cuts the items to
//! the output budget, and returns the finished result with `next_cursor` and a `truncated` note.
//! The cursor is bound to the tool (known from the dispatch), its arguments, the account and the
//! region. [`walk`] follows AWS pages that may come back empty with a token (CloudWatch Logs scans
//! do) up to a cap, and says whether the scan finished.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::{Core, ToolError, budget, context, core::Output};

/// The paging arguments of a listing tool: `#[serde(flatten)] pub page: PageArgs`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PageArgs {
    /// Items per page (1-1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub page_size: Option<u32>,
    /// `next_cursor` of the previous page, unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl PageArgs {
    /// The page size asked for, or `default`, within 1..=1000.
    pub fn size(&self, default: u32) -> u32 {
        self.page_size.unwrap_or(default).clamp(1, 1000)
    }
}

/// Where a page starts: the AWS continuation token (or last key) and how many items of that AWS
/// page were already returned. A page cut by the budget resumes by asking AWS for the same page
/// again and skipping what was sent, so no item is lost or repeated whatever the page size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "K: DeserializeOwned"))]
pub struct Page<K> {
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub token: Option<K>,
    #[serde(rename = "s", default, skip_serializing_if = "is_zero")]
    pub skip: usize,
}

impl<K> Default for Page<K> {
    fn default() -> Self {
        Self { token: None, skip: 0 }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Room kept for the `next_cursor` and `truncated` fields beside the token itself.
const CURSOR_ROOM: usize = 160;
const NOTE_ROOM: usize = 400;

impl Core {
    /// The page the current call starts at (the first without a cursor). `args` are the tool's
    /// parameters; `cursor` and `page_size` in them are ignored for binding.
    pub fn page<A: Serialize, K: DeserializeOwned>(&self, args: &A, page: &PageArgs) -> Result<Page<K>, ToolError> {
        match page.cursor.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(c) => self.cursors.open(&context::tool(), args, c),
            None => Ok(Page::default()),
        }
    }

    /// Finish a listing: `items` is the whole AWS page that started at `at` (with `next_token`
    /// for the one after), `envelope` the rest of the result; the items go in `field`.
    pub fn paged<A: Serialize, K: Serialize + Clone, T: Serialize>(
        &self,
        args: &A,
        at: &Page<K>,
        next_token: Option<K>,
        mut items: Vec<T>,
        field: &str,
        envelope: Value,
    ) -> crate::ToolResult {
        items.drain(..at.skip.min(items.len()));
        let token_len = at.token.as_ref().map_or(0, budget::json_len);
        let next_len = next_token.as_ref().map_or(0, budget::json_len);
        let (fit, overhead) = self.fit_page(&items, &envelope, field, token_len.max(next_len));
        if fit < items.len() {
            let dropped = items.len() - fit;
            items.truncate(fit);
            let next = Page {
                token: at.token.clone(),
                skip: at.skip + fit,
            };
            let _ = overhead;
            return Ok(self.finish(envelope, field, items, Some(self.issue(args, &next)), Some(dropped)));
        }
        let next = next_token.map(|t| {
            self.issue(
                args,
                &Page {
                    token: Some(t),
                    skip: 0,
                },
            )
        });
        Ok(self.finish(envelope, field, items, next, None))
    }

    /// Finish a listing whose cursor is the key of the last item returned ("after the last key"):
    /// `more` says whether anything follows the last of `items`.
    pub fn paged_after<A: Serialize, K: Serialize, T: Serialize>(
        &self,
        args: &A,
        mut items: Vec<T>,
        key: impl Fn(&T) -> K,
        more: bool,
        field: &str,
        envelope: Value,
    ) -> crate::ToolResult {
        let key_len = items.first().map_or(0, |i| budget::json_len(&key(i)));
        let (fit, _) = self.fit_page(&items, &envelope, field, key_len);
        let dropped = items.len() - fit;
        items.truncate(fit);
        let next = match items.last() {
            Some(last) if more || dropped > 0 => Some(self.issue(
                args,
                &Page {
                    token: Some(key(last)),
                    skip: 0,
                },
            )),
            _ => None,
        };
        Ok(self.finish(envelope, field, items, next, (dropped > 0).then_some(dropped)))
    }

    /// A cursor for `page` of the current tool with `args`, for tools that page in their own way.
    pub fn cursor<A: Serialize, K: Serialize>(&self, args: &A, page: &Page<K>) -> String {
        self.issue(args, page)
    }

    fn issue<A: Serialize, K: Serialize>(&self, args: &A, page: &Page<K>) -> String {
        self.cursors.issue(&context::tool(), args, page)
    }

    /// How many of `items` fit beside the envelope, measured rather than guessed.
    fn fit_page<T: Serialize>(&self, items: &[T], envelope: &Value, field: &str, token_len: usize) -> (usize, usize) {
        let overhead = budget::json_len(envelope) + field.len() + 8 + CURSOR_ROOM + token_len * 2 + NOTE_ROOM;
        (self.budget.fit_items(items, overhead), overhead)
    }

    fn finish<T: Serialize>(
        &self,
        mut envelope: Value,
        field: &str,
        items: Vec<T>,
        next_cursor: Option<String>,
        dropped: Option<usize>,
    ) -> Output {
        let kept = items.len();
        if !envelope.is_object() {
            envelope = json!({});
        }
        envelope[field] = serde_json::to_value(items).unwrap_or_default();
        if let Some(c) = next_cursor {
            envelope["next_cursor"] = json!(c);
        }
        if let Some(dropped) = dropped {
            let note = self.budget.dropped_note(
                &format!("/{field}"),
                kept,
                dropped,
                format!(
                    "the output budget cut this page: call {} again with cursor = next_cursor to get the rest",
                    context::tool()
                ),
            );
            budget::attach(&mut envelope, note);
        }
        Output(envelope)
    }
}

/// What a bounded walk over AWS pages found.
#[derive(Debug)]
pub struct Walk<T, K> {
    pub items: Vec<T>,
    /// Where to continue (an AWS token), when the walk stopped before the end.
    pub next: Option<K>,
    /// Whether the scan reached the end.
    pub finished: bool,
    pub pages: usize,
}

/// Fetch AWS pages from `start` until `want` items, `max_pages` pages, or the end. `fetch` gets
/// the token and how many items are still wanted; pages may be empty with a token.
pub async fn walk<T, K, F, Fut>(
    start: Option<K>,
    want: usize,
    max_pages: usize,
    mut fetch: F,
) -> Result<Walk<T, K>, ToolError>
where
    F: FnMut(Option<K>, usize) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<K>), ToolError>>,
{
    let mut walk = Walk {
        items: Vec::new(),
        next: start,
        finished: false,
        pages: 0,
    };
    loop {
        let (items, next) = fetch(walk.next.take(), want.saturating_sub(walk.items.len())).await?;
        walk.items.extend(items);
        walk.pages += 1;
        walk.next = next;
        if walk.next.is_none() {
            walk.finished = true;
            return Ok(walk);
        }
        if walk.items.len() >= want || walk.pages >= max_pages.max(1) {
            return Ok(walk);
        }
    }
}

/// What a positioned walk found: each kept item with its own position (resuming there returns it
/// again), where the walk stopped, and how much it read.
#[derive(Debug)]
pub struct Walked<K, T> {
    pub items: Vec<(Page<K>, T)>,
    /// Where to continue when the walk stopped before the end of the listing.
    pub next: Option<K>,
    /// Whether AWS reported the end of the listing (or scan).
    pub finished: bool,
    pub pages: usize,
    /// Items looked at, kept or not.
    pub scanned: usize,
}

/// Fetch AWS pages from the position `start` until `want` items pass `keep`, `max_pages` pages,
/// or the end. Every item is tagged with its position (the AWS token of its page and its index
/// in it), so a page cut by a page size, a filter or the output budget resumes at the exact next
/// item whatever page size the next call asks for. `fetch` must ask AWS for a fixed page size, so
/// a token always yields the same page.
pub async fn walk_from<K, T, F, Fut>(
    start: Page<K>,
    want: usize,
    max_pages: usize,
    keep: impl Fn(&T) -> bool,
    mut fetch: F,
) -> Result<Walked<K, T>, ToolError>
where
    K: Clone,
    F: FnMut(Option<K>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<K>), ToolError>>,
{
    let mut w = Walked {
        items: Vec::new(),
        next: None,
        finished: false,
        pages: 0,
        scanned: 0,
    };
    let (mut token, mut skip) = (start.token, start.skip);
    loop {
        let (items, next) = fetch(token.clone()).await?;
        w.pages += 1;
        for (i, item) in items.into_iter().enumerate().skip(skip) {
            w.scanned += 1;
            if keep(&item) {
                w.items.push((
                    Page {
                        token: token.clone(),
                        skip: i,
                    },
                    item,
                ));
            }
        }
        skip = 0;
        match next {
            None => {
                w.finished = true;
                return Ok(w);
            }
            Some(n) if w.items.len() >= want || w.pages >= max_pages.max(1) => {
                w.next = Some(n);
                return Ok(w);
            }
            Some(n) => token = Some(n),
        }
    }
}

impl Core {
    /// Finish a positioned walk: at most `want` items that fit the budget go in `field` of
    /// `envelope`, with `next_cursor` at the first item left out (or where the walk stopped), and a
    /// `truncated` note when the budget, not `want`, cut the page.
    pub fn paged_walk<A: Serialize, K: Serialize + Clone, T: Serialize>(
        &self,
        args: &A,
        walked: Walked<K, T>,
        want: usize,
        field: &str,
        envelope: Value,
    ) -> Output {
        let Walked { mut items, next, .. } = walked;
        let n = want.min(items.len());
        let values: Vec<&T> = items.iter().take(n).map(|(_, v)| v).collect();
        let token_len = next
            .as_ref()
            .map_or(0, budget::json_len)
            .max(items.first().map_or(0, |(p, _)| budget::json_len(p)));
        let (k, _) = self.fit_page(&values, &envelope, field, token_len);
        let next_page = if k < items.len() {
            Some(items.swap_remove(k).0)
        } else {
            next.map(|t| Page {
                token: Some(t),
                skip: 0,
            })
        };
        let cursor = next_page.map(|p| self.issue(args, &p));
        items.truncate(k);
        let kept: Vec<T> = items.into_iter().map(|(_, v)| v).collect();
        self.finish(envelope, field, kept, cursor, (k < n).then_some(n - k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Budget, config::CommonArgs};
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        common: CommonArgs,
    }

    fn core(budget: usize) -> Core {
        let args = Cli::try_parse_from(["x"]).unwrap().common;
        let sdk = aws_types::SdkConfig::builder().build();
        let mut core = Core::with_sdk("t", "0", &args, sdk).unwrap();
        core.budget = Budget::new(budget);
        core.cursors = crate::Cursors::with_secret(b"k");
        core
    }

    async fn in_call<R>(f: impl std::future::Future<Output = R>) -> R {
        context::scope(
            context::Call {
                tool: "t".into(),
                ..Default::default()
            },
            f,
        )
        .await
    }

    #[tokio::test]
    async fn a_cut_page_resumes_where_it_stopped_and_every_item_comes_once() {
        let core = core(5_000);
        let args = json!({"bucket": "b"});
        let aws_page: Vec<String> = (0..100).map(|i| format!("{i:03}{}", "x".repeat(100))).collect();
        let mut seen = Vec::new();
        let mut cursor = None;
        in_call(async {
            loop {
                let at: Page<String> = core
                    .page(
                        &args,
                        &PageArgs {
                            page_size: None,
                            cursor: cursor.clone(),
                        },
                    )
                    .unwrap();
                if at.token.as_deref() == Some("NEXT") {
                    break;
                }
                let out = core
                    .paged(
                        &args,
                        &at,
                        Some("NEXT".to_owned()),
                        aws_page.clone(),
                        "items",
                        json!({"bucket": "b"}),
                    )
                    .unwrap()
                    .0;
                assert!(budget::json_len(&out) <= 5_000, "{}", budget::json_len(&out));
                let items: Vec<String> = serde_json::from_value(out["items"].clone()).unwrap();
                assert!(!items.is_empty());
                seen.extend(items);
                cursor = out["next_cursor"].as_str().map(str::to_owned);
                if out.get("truncated").is_none() {
                    let next: Page<String> = core
                        .page(
                            &args,
                            &PageArgs {
                                page_size: None,
                                cursor: cursor.clone(),
                            },
                        )
                        .unwrap();
                    assert_eq!(next.token.as_deref(), Some("NEXT"));
                    break;
                }
            }
        })
        .await;
        assert_eq!(seen, aws_page);
    }

    #[tokio::test]
    async fn a_cursor_is_bound_to_the_account_and_region() {
        let core = core(5_000);
        let args = json!({"bucket": "b"});
        let cursor = in_call(async {
            core.paged(
                &args,
                &Page::default(),
                Some("T".to_owned()),
                vec![1, 2],
                "items",
                json!({}),
            )
            .unwrap()
            .0["next_cursor"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .await;
        let other_region = context::Call {
            tool: "t".into(),
            region: Some("eu-west-1".into()),
            ..Default::default()
        };
        let page = PageArgs {
            page_size: None,
            cursor: Some(cursor.clone()),
        };
        let refused = context::scope(other_region, async { core.page::<_, String>(&args, &page) }).await;
        assert!(refused.is_err());
        assert!(in_call(async { core.page::<_, String>(&args, &page) }).await.is_ok());
    }

    #[tokio::test]
    async fn after_last_key_pages_through_everything() {
        let core = core(2_000);
        let all: Vec<String> = (0..60).map(|i| format!("name-{i:03}-{}", "y".repeat(40))).collect();
        let args = json!({});
        let mut seen: Vec<String> = Vec::new();
        let mut cursor = None;
        in_call(async {
            loop {
                let at: Page<String> = core
                    .page(
                        &args,
                        &PageArgs {
                            page_size: None,
                            cursor: cursor.take(),
                        },
                    )
                    .unwrap();
                let rest: Vec<String> = all
                    .iter()
                    .filter(|n| at.token.as_ref().is_none_or(|t| *n > t))
                    .cloned()
                    .collect();
                let out = core
                    .paged_after(&args, rest, |s| s.clone(), false, "names", json!({}))
                    .unwrap()
                    .0;
                seen.extend(serde_json::from_value::<Vec<String>>(out["names"].clone()).unwrap());
                match out["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => break,
                }
            }
        })
        .await;
        assert_eq!(seen, all);
    }

    /// AWS pages: [], [a b c], [], [d e] with tokens 1..3 between them.
    fn aws(token: Option<u32>) -> (Vec<&'static str>, Option<u32>) {
        match token {
            None => (vec![], Some(1)),
            Some(1) => (vec!["a", "b", "c"], Some(2)),
            Some(2) => (vec![], Some(3)),
            _ => (vec!["d", "e"], None),
        }
    }

    #[tokio::test]
    async fn positions_resume_at_the_exact_item_whatever_the_page_size_and_filter() {
        let mut at = Page::default();
        let mut seen = Vec::new();
        for want in [1, 1, 5, 5] {
            let w = walk_from(
                at.clone(),
                want,
                10,
                |v: &&str| *v != "b",
                |t| async move { Ok::<_, ToolError>(aws(t)) },
            )
            .await
            .unwrap();
            let n = want.min(w.items.len());
            seen.extend(w.items.iter().take(n).map(|(_, v)| *v));
            at = match w.items.get(n) {
                Some((p, _)) => p.clone(),
                None => match w.next {
                    Some(t) => Page {
                        token: Some(t),
                        skip: 0,
                    },
                    None => break,
                },
            };
        }
        assert_eq!(seen, ["a", "c", "d", "e"]);
    }

    #[tokio::test]
    async fn a_positioned_walk_follows_empty_pages_up_to_the_cap() {
        let fetch = |t| async move { Ok::<_, ToolError>(aws(t)) };
        let w = walk_from(Page::default(), 10, 2, |_: &&str| true, fetch).await.unwrap();
        assert_eq!((w.items.len(), w.finished, w.next, w.scanned), (3, false, Some(2), 3));
        let w = walk_from(Page::default(), 10, 10, |_: &&str| true, fetch)
            .await
            .unwrap();
        assert_eq!((w.items.len(), w.finished, w.pages), (5, true, 4));
    }

    #[tokio::test]
    async fn a_walk_follows_empty_pages_and_stops_at_its_cap() {
        // Pages: [], [], [1,2], [], [3] with tokens between them.
        let pages: Vec<(Vec<i32>, Option<u32>)> = vec![
            (vec![], Some(1)),
            (vec![], Some(2)),
            (vec![1, 2], Some(3)),
            (vec![], Some(4)),
            (vec![3], None),
        ];
        let fetch = |t: Option<u32>, _want: usize| {
            let p = pages[t.unwrap_or(0) as usize].clone();
            async move { Ok::<_, ToolError>(p) }
        };
        let w = walk(None, 10, 100, fetch).await.unwrap();
        assert_eq!((w.items, w.finished, w.pages), (vec![1, 2, 3], true, 5));
        let w = walk(None, 10, 3, fetch).await.unwrap();
        assert_eq!((w.items.clone(), w.finished, w.next), (vec![1, 2], false, Some(3)));
        let w = walk(None, 2, 100, fetch).await.unwrap();
        assert_eq!((w.items.len(), w.finished), (2, false));
    }
}
