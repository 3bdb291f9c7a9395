//! Paging over CloudWatch Logs listings that may come back short or empty with a token, with a
//! cursor that points at an exact item: every item carries its position (the AWS token of its page
//! and its index in that page), so a page cut by `page_size` or by the output budget resumes at the
//! next item whatever page size the next call asks for. AWS pages are fetched through
//! `shared::page::walk`, with a fixed AWS page size so a token always yields the same page.
//!
//! (`shared::Core::paged` assumes one AWS page per call; the lead may want this in shared.)

use serde::Serialize;
use serde_json::{Value, json};
use shared::{Core, Page, ToolError, budget, context, page::walk};

/// Items with their positions, and where the walk stopped.
pub(crate) struct Walked<K, T> {
    pub items: Vec<(Page<K>, T)>,
    /// Where the walk stopped when it did not reach the end.
    pub next: Option<K>,
    /// Whether AWS reported the end of the listing (or scan).
    pub finished: bool,
    pub pages: usize,
}

/// Fetch from `start` until `want` items, `max_pages` AWS pages, or the end. `fetch` gets the
/// token (`None` for the first page of a listing) and returns that page's items and next token.
pub(crate) async fn walk_from<K, T, F, Fut>(
    start: Page<K>,
    want: usize,
    max_pages: usize,
    mut fetch: F,
) -> Result<Walked<K, T>, ToolError>
where
    K: Clone,
    F: FnMut(Option<K>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<K>), ToolError>>,
{
    let mut skip = start.skip;
    let w = walk(start.token, want, max_pages, |token: Option<K>, _remaining| {
        // Only the first page is entered part-way.
        let skip_here = std::mem::take(&mut skip);
        let fut = fetch(token.clone());
        async move {
            let (items, next) = fut.await?;
            let tagged: Vec<(Page<K>, T)> = items
                .into_iter()
                .enumerate()
                .skip(skip_here)
                .map(|(i, item)| {
                    (
                        Page {
                            token: token.clone(),
                            skip: i,
                        },
                        item,
                    )
                })
                .collect();
            Ok((tagged, next))
        }
    })
    .await?;
    Ok(Walked {
        items: w.items,
        next: w.next,
        finished: w.finished,
        pages: w.pages,
    })
}

/// Finish a listing: at most `want` items that fit the budget go in `field` of `envelope`, with
/// `next_cursor` at the first item left out (or the walk's next token), and a `truncated` note
/// when the budget, not `want`, cut the page. Returns the result and whether a cursor was issued.
pub(crate) fn finish<A: Serialize, K: Serialize + Clone, T: Serialize>(
    core: &Core,
    args: &A,
    walked: Walked<K, T>,
    want: usize,
    field: &str,
    mut envelope: Value,
) -> Value {
    let Walked { mut items, next, .. } = walked;
    let n = want.min(items.len());
    let values: Vec<&T> = items.iter().take(n).map(|(_, v)| v).collect();
    let next_len = next.as_ref().map_or(0, budget::json_len);
    let first_len = items.first().map_or(0, |(p, _)| budget::json_len(p));
    let overhead = budget::json_len(&envelope) + field.len() + 700 + 2 * next_len.max(first_len);
    let k = core.budget.fit_items(&values, overhead);
    let next_page = if k < items.len() {
        Some(items.swap_remove(k).0)
    } else {
        next.map(|t| Page {
            token: Some(t),
            skip: 0,
        })
    };
    let tool = context::tool();
    let cursor = next_page.map(|p| core.cursors.issue(&tool, args, &p));
    items.truncate(k);
    let kept: Vec<T> = items.into_iter().map(|(_, v)| v).collect();
    if !envelope.is_object() {
        envelope = json!({});
    }
    envelope[field] = serde_json::to_value(kept).unwrap_or_default();
    if let Some(c) = cursor {
        envelope["next_cursor"] = json!(c);
    }
    if k < n {
        let note = core.budget.dropped_note(
            &format!("/{field}"),
            k,
            n - k,
            format!("the output budget cut this page: call {tool} again with cursor = next_cursor to get the rest"),
        );
        budget::attach(&mut envelope, note);
    }
    envelope
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS pages: [], [a b c], [], [d e] with tokens 1..3 between them.
    fn aws(token: Option<u32>) -> (Vec<&'static str>, Option<u32>) {
        match token {
            None => (vec![], Some(1)),
            Some(1) => (vec!["a", "b", "c"], Some(2)),
            Some(2) => (vec![], Some(3)),
            _ => (vec!["d", "e"], None),
        }
    }

    async fn run(start: Page<u32>, want: usize, max_pages: usize) -> Walked<u32, &'static str> {
        walk_from(start, want, max_pages, |t| async move { Ok(aws(t)) })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn positions_resume_at_the_exact_item_whatever_the_page_size() {
        let mut at = Page::default();
        let mut seen = Vec::new();
        for want in [2, 1, 5, 5] {
            let w = run(at.clone(), want, 10).await;
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
        assert_eq!(seen, ["a", "b", "c", "d", "e"]);
    }

    #[tokio::test]
    async fn empty_pages_are_followed_up_to_the_cap() {
        let w = run(Page::default(), 10, 2).await;
        assert_eq!((w.items.len(), w.finished, w.next), (3, false, Some(2)));
        let w = run(Page::default(), 10, 10).await;
        assert_eq!((w.items.len(), w.finished, w.pages), (5, true, 4));
    }
}
