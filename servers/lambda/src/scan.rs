//! The walk over ListFunctions that every function listing uses (list_functions, resources/list,
//! completions, functions-as-tools). ListFunctions has no server-side name filter and an opaque
//! marker, so filters (name, runtime, allowlist) are applied here, and a listing can stop in the
//! middle of an AWS page: a position is the marker of an AWS page plus how many of its entries were
//! already consumed, so every function is returned exactly once however pages are cut.

use aws_sdk_lambda::{Client, types::FunctionConfiguration};
use shared::{Page, Target, ToolError};

use crate::LIST_FUNCTIONS;

/// Where a listing resumes: the AWS marker (none: the first page) and entries of it consumed.
pub(crate) type Pos = Page<String>;

/// ListFunctions' largest page.
const AWS_PAGE: i32 = 50;

/// A function that passed the filter, and the position just after it.
pub(crate) struct Found {
    pub config: FunctionConfiguration,
    pub after: Option<Pos>,
}

pub(crate) struct Scan {
    pub found: Vec<Found>,
    /// Where the scan stopped (`None`: the end of the list).
    pub end: Option<Pos>,
    /// Functions looked at (matching or not).
    pub scanned: usize,
}

/// Read ListFunctions from `start` until `want` functions pass `keep`, `max_pages` AWS pages were
/// read, or the list ends.
pub(crate) async fn functions(
    client: &Client,
    target: &Target,
    start: Pos,
    want: usize,
    max_pages: usize,
    keep: impl Fn(&FunctionConfiguration) -> bool,
) -> Result<Scan, ToolError> {
    let mut scan = Scan {
        found: Vec::new(),
        end: None,
        scanned: 0,
    };
    let mut at = start;
    let mut pages = 0;
    loop {
        let req = client
            .list_functions()
            .set_marker(at.token.clone())
            .max_items(AWS_PAGE)
            .send();
        let out = shared::aws::call(LIST_FUNCTIONS, target, req).await?;
        pages += 1;
        let after_page = out.next_marker().filter(|m| !m.is_empty()).map(|m| Pos {
            token: Some(m.to_owned()),
            skip: 0,
        });
        let fns = out.functions();
        for (i, f) in fns.iter().enumerate().skip(at.skip) {
            scan.scanned += 1;
            if !keep(f) {
                continue;
            }
            let after = if i + 1 == fns.len() {
                after_page.clone()
            } else {
                Some(Pos {
                    token: at.token.clone(),
                    skip: i + 1,
                })
            };
            scan.found.push(Found {
                config: f.clone(),
                after: after.clone(),
            });
            if scan.found.len() >= want {
                scan.end = after;
                return Ok(scan);
            }
        }
        match after_page {
            None => return Ok(scan),
            Some(next) => {
                if pages >= max_pages.max(1) {
                    scan.end = Some(next);
                    return Ok(scan);
                }
                at = next;
            }
        }
    }
}

/// The first `fit` of the scan's functions, and where the next page starts.
pub(crate) fn cut(scan: Scan, fit: usize) -> (Vec<FunctionConfiguration>, Option<Pos>) {
    if fit >= scan.found.len() {
        return (scan.found.into_iter().map(|f| f.config).collect(), scan.end);
    }
    let next = scan.found.get(fit.saturating_sub(1)).and_then(|f| f.after.clone());
    let kept = scan.found.into_iter().take(fit).map(|f| f.config).collect();
    (kept, next)
}

/// Lambda's `LastModified` (`2026-11-30T12:00:00.000+0000`) as RFC 3339 UTC, or as given.
pub(crate) fn time(s: Option<&str>) -> Option<String> {
    let s = s?;
    Some(match shared::time::parse("last_modified", s, 0) {
        Ok(ms) => shared::time::rfc3339_ms(ms),
        Err(_) => s.to_owned(),
    })
}
