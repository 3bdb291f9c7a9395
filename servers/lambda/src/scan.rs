//! The walk over ListFunctions that every function listing uses (list_functions, resources/list,
//! completions, functions-as-tools). ListFunctions has no server-side name filter and an opaque
//! marker, so filters (name, runtime, allowlist) are applied here, and a listing can stop in the
//! middle of an AWS page: a position is the marker of an AWS page plus how many of its entries were
//! already consumed, so every function is returned exactly once however pages are cut.

use aws_sdk_lambda::{Client, types::FunctionConfiguration};
use shared::{
    Page, Target, ToolError,
    page::{Walked, walk_from},
};

use crate::LIST_FUNCTIONS;

/// Where a listing resumes: the AWS marker (none: the first page) and entries of it consumed.
pub(crate) type Pos = Page<String>;

/// ListFunctions' largest page (fixed, so a marker always yields the same page).
const AWS_PAGE: i32 = 50;

/// Read ListFunctions from `start` until `want` functions pass `keep`, `max_pages` AWS pages were
/// read, or the list ends; each function comes with its own position.
pub(crate) async fn functions(
    client: &Client,
    target: &Target,
    start: Pos,
    want: usize,
    max_pages: usize,
    keep: impl Fn(&FunctionConfiguration) -> bool,
) -> Result<Walked<String, FunctionConfiguration>, ToolError> {
    walk_from(start, want, max_pages, keep, |marker: Option<String>| {
        let req = client.list_functions().set_marker(marker).max_items(AWS_PAGE).send();
        async move {
            let out = shared::aws::call(LIST_FUNCTIONS, target, req).await?;
            let next = out.next_marker().filter(|m| !m.is_empty()).map(str::to_owned);
            Ok((out.functions.unwrap_or_default(), next))
        }
    })
    .await
}

/// The first `fit` functions of a walk, and where the next page starts.
pub(crate) fn cut(w: Walked<String, FunctionConfiguration>, fit: usize) -> (Vec<FunctionConfiguration>, Option<Pos>) {
    let Walked { mut items, next, .. } = w;
    let next = if fit < items.len() {
        Some(items.swap_remove(fit).0)
    } else {
        next.map(|t| Pos {
            token: Some(t),
            skip: 0,
        })
    };
    items.truncate(fit);
    (items.into_iter().map(|(_, f)| f).collect(), next)
}

/// Lambda's `LastModified` (`2026-11-30T12:00:00.000+0000`) as RFC 3339 UTC, or as given.
pub(crate) fn time(s: Option<&str>) -> Option<String> {
    let s = s?;
    Some(match shared::time::parse("last_modified", s, 0) {
        Ok(ms) => shared::time::rfc3339_ms(ms),
        Err(_) => s.to_owned(),
    })
}
