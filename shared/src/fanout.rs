//! Bounded-concurrency fan-out over many items (accounts × regions × resource types), for tools that
//! inventory or search widely. One slow region or denied account must not sink the whole answer, so
//! every item ends in an [`Outcome`] (a value, a categorised failure, an ignored error, or skipped)
//! and the call as a whole never outlives its overall deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use serde::Serialize;
use tokio::time::{Instant, Timeout, timeout, timeout_at};

use crate::ToolError;
use crate::error::is_throttling;

/// Why an item failed, coarsely, so results can be summarised ("3 regions access_denied").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    AccessDenied,
    ExpiredCredentials,
    RegionDisabled,
    Throttled,
    Timeout,
    Unreachable,
    NotFound,
    Other,
}

/// The category of a tool error.
///
/// Credential problems of any kind (expired, unrecognised key id or token, missing credentials) are
/// `ExpiredCredentials`: the fix is the same, refresh them. `UnrecognizedClientException` /
/// `InvalidClientTokenId` are also what a region not enabled for the account returns to
/// credentials from the global STS endpoint; this cannot be told from the error alone, so it is a
/// credentials problem here, and a caller that sees it in some regions but not others can report
/// those regions as likely disabled. Only `OptInRequired` and explicit region codes are
/// `RegionDisabled`. An allowlist refusal is `AccessDenied`.
pub fn category(err: &ToolError) -> Category {
    match err {
        ToolError::Aws(e) => code_category(&e.code),
        ToolError::Transport { detail, .. } => {
            let d = detail.to_ascii_lowercase();
            if d.contains("timed out") || d.contains("timeout") {
                Category::Timeout
            } else {
                Category::Unreachable
            }
        }
        ToolError::NotAllowed { .. } => Category::AccessDenied,
        ToolError::Other(m) if m.to_ascii_lowercase().contains("credential") => Category::ExpiredCredentials,
        _ => Category::Other,
    }
}

fn code_category(code: &str) -> Category {
    match code {
        c if c.starts_with("AccessDenied") => Category::AccessDenied,
        "UnauthorizedOperation"
        | "AuthorizationError"
        | "AuthorizationErrorException"
        | "Forbidden"
        | "UnauthorizedException"
        | "NotAuthorized" => Category::AccessDenied,
        c if c.starts_with("ExpiredToken") => Category::ExpiredCredentials,
        "RequestExpired"
        | "TokenRefreshRequired"
        | "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "InvalidAccessKeyId"
        | "AuthFailure"
        | "MissingAuthenticationToken" => Category::ExpiredCredentials,
        "OptInRequired" | "RegionDisabledException" | "InvalidRegion" | "InvalidRegionException" => {
            Category::RegionDisabled
        }
        c if is_throttling(c) => Category::Throttled,
        "RequestTimeout" | "RequestTimeoutException" => Category::Timeout,
        c if c.starts_with("NoSuch") || c.ends_with("NotFound") || c.ends_with("NotFoundException") => {
            Category::NotFound
        }
        _ => Category::Other,
    }
}

/// How much to do at once and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Items in flight at most (0 is taken as 1).
    pub concurrency: usize,
    /// Time one item may take; past it the item is `Failed { category: Timeout }`.
    pub per_item: Duration,
    /// Time the whole fan-out may take; items not finished by then are `Skipped`.
    pub overall: Duration,
}

/// What happened to one item.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<V> {
    Ok(V),
    /// `message` is the error's display text, which never carries credential material.
    Failed {
        category: Category,
        code: Option<String>,
        message: String,
    },
    /// Failed with an AWS code the caller chose to ignore (e.g. a service not offered in a region).
    Ignored {
        code: String,
    },
    /// Not started, or not finished, before the overall deadline.
    Skipped,
}

impl<V> Outcome<V> {
    fn from_result(
        r: Result<Result<V, ToolError>, tokio::time::error::Elapsed>,
        limits: &Limits,
        ignore: &[String],
    ) -> Self {
        match r {
            Ok(Ok(v)) => Outcome::Ok(v),
            Ok(Err(e)) => match e.code() {
                Some(code) if ignore.iter().any(|i| i == code) => Outcome::Ignored { code: code.to_owned() },
                code => Outcome::Failed {
                    category: category(&e),
                    code: code.map(str::to_owned),
                    message: e.to_string(),
                },
            },
            Err(_elapsed) => Outcome::Failed {
                category: Category::Timeout,
                code: None,
                message: format!("no answer within {} ms", limits.per_item.as_millis()),
            },
        }
    }
}

/// Run `f` over `items`, at most `limits.concurrency` at a time, each bounded by `limits.per_item`
/// and all by `limits.overall`. Returns every item with its outcome, in input order. An error
/// whose AWS code is in `ignore_codes` becomes [`Outcome::Ignored`].
///
/// The futures are polled on the caller's task (no spawning), so they need not be `Send` or
/// `'static`; at the overall deadline the unfinished ones are dropped, which cancels them.
/// Every wake polls each in-flight future (O(concurrency)), which is fine for the tens of
/// concurrent AWS calls this is meant for.
pub async fn run<K, V, F, Fut>(items: Vec<K>, limits: &Limits, ignore_codes: &[String], f: F) -> Vec<(K, Outcome<V>)>
where
    K: Clone,
    F: Fn(K) -> Fut,
    Fut: Future<Output = Result<V, ToolError>>,
{
    let deadline = Instant::now() + limits.overall;
    let concurrency = limits.concurrency.max(1);
    let mut outcomes: Vec<Option<Outcome<V>>> = items.iter().map(|_| None).collect();
    let mut next = 0;
    let mut in_flight: Vec<(usize, Pin<Box<Timeout<Fut>>>)> = Vec::with_capacity(concurrency.min(items.len()));
    let drive = std::future::poll_fn(|cx| {
        loop {
            while in_flight.len() < concurrency
                && let Some(k) = items.get(next)
            {
                in_flight.push((next, Box::pin(timeout(limits.per_item, f(k.clone())))));
                next += 1;
            }
            if in_flight.is_empty() {
                return Poll::Ready(());
            }
            let before = in_flight.len();
            let mut i = 0;
            while i < in_flight.len() {
                match in_flight[i].1.as_mut().poll(cx) {
                    Poll::Ready(r) => {
                        let (idx, _) = in_flight.swap_remove(i);
                        if let Some(slot) = outcomes.get_mut(idx) {
                            *slot = Some(Outcome::from_result(r, limits, ignore_codes));
                        }
                    }
                    Poll::Pending => i += 1,
                }
            }
            // Nothing finished: every future has registered its waker.
            if in_flight.len() == before {
                return Poll::Pending;
            }
        }
    });
    // Past the deadline `drive` is dropped with whatever is still in flight.
    let _ = timeout_at(deadline, drive).await;
    items
        .into_iter()
        .zip(outcomes)
        .map(|(k, o)| (k, o.unwrap_or(Outcome::Skipped)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::aws::{Op, Target};

    const OP: Op = Op::new("ec2", "DescribeInstances", "ec2:DescribeInstances");

    fn aws(code: &str) -> ToolError {
        let target = Target {
            region: "eu-west-1".into(),
            endpoint: "https://ec2.eu-west-1.amazonaws.com".into(),
            max_attempts: 3,
        };
        ToolError::aws_code(OP, &target, code, "m", Some(400))
    }

    fn transport(detail: &str) -> ToolError {
        ToolError::Transport {
            service: "ec2",
            operation: "DescribeInstances",
            endpoint: "https://ec2.eu-west-1.amazonaws.com".into(),
            detail: detail.into(),
            retryable: true,
        }
    }

    fn limits(concurrency: usize, per_item: u64, overall: u64) -> Limits {
        Limits {
            concurrency,
            per_item: Duration::from_millis(per_item),
            overall: Duration::from_millis(overall),
        }
    }

    #[test]
    fn categories() {
        use Category::*;
        for (code, want) in [
            ("AccessDenied", AccessDenied),
            ("AccessDeniedException", AccessDenied),
            ("UnauthorizedOperation", AccessDenied),
            ("AuthorizationError", AccessDenied),
            ("ExpiredToken", ExpiredCredentials),
            ("ExpiredTokenException", ExpiredCredentials),
            ("RequestExpired", ExpiredCredentials),
            ("InvalidClientTokenId", ExpiredCredentials),
            ("UnrecognizedClientException", ExpiredCredentials),
            ("OptInRequired", RegionDisabled),
            ("ThrottlingException", Throttled),
            ("SlowDown", Throttled),
            ("RequestLimitExceeded", Throttled),
            ("ResourceNotFoundException", NotFound),
            ("NoSuchBucket", NotFound),
            ("NotFound", NotFound),
            ("InvalidInstanceID.NotFound", NotFound),
            ("ValidationException", Other),
        ] {
            assert_eq!(category(&aws(code)), want, "{code}");
        }
        assert_eq!(category(&transport("connection timed out (…)")), Timeout);
        assert_eq!(
            category(&transport("no complete answer within the operation timeout")),
            Timeout
        );
        assert_eq!(
            category(&transport("endpoint unreachable (Connection refused)")),
            Unreachable
        );
        assert_eq!(
            category(&ToolError::Other("could not be signed: no credentials".into())),
            ExpiredCredentials
        );
        assert_eq!(category(&ToolError::invalid("region", "bad")), Other);
        assert_eq!(
            serde_json::to_value(AccessDenied).ok(),
            Some(serde_json::json!("access_denied"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_bounded_and_order_kept() {
        let now = Cell::new(0usize);
        let max = Cell::new(0usize);
        let items: Vec<u64> = (0..20).collect();
        let out = run(items, &limits(3, 10_000, 60_000), &[], |i| {
            let (now, max) = (&now, &max);
            async move {
                now.set(now.get() + 1);
                max.set(max.get().max(now.get()));
                // Later items finish sooner, so completion order differs from input order.
                tokio::time::sleep(Duration::from_millis(100 - i * 3)).await;
                now.set(now.get() - 1);
                Ok::<_, ToolError>(i * 10)
            }
        })
        .await;
        assert_eq!(max.get(), 3);
        let want: Vec<(u64, Outcome<u64>)> = (0..20).map(|i| (i, Outcome::Ok(i * 10))).collect();
        assert_eq!(out, want);
    }

    #[tokio::test(start_paused = true)]
    async fn per_item_timeout_fails_only_that_item() {
        let out = run(vec![1u64, 5, 2], &limits(2, 3_000, 60_000), &[], |s| async move {
            tokio::time::sleep(Duration::from_secs(s)).await;
            Ok::<_, ToolError>(s)
        })
        .await;
        assert_eq!(out[0].1, Outcome::Ok(1));
        assert!(matches!(
            &out[1].1,
            Outcome::Failed {
                category: Category::Timeout,
                code: None,
                ..
            }
        ));
        assert_eq!(out[2].1, Outcome::Ok(2));
    }

    #[tokio::test(start_paused = true)]
    async fn overall_deadline_skips_the_rest_and_never_hangs() {
        let start = Instant::now();
        // One at a time, 1 s each, 2.5 s overall: two finish, the third is cut off, the rest never start.
        let started = Cell::new(0);
        let out = run((0..6).collect::<Vec<u32>>(), &limits(1, 10_000, 2_500), &[], |i| {
            started.set(started.get() + 1);
            async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok::<_, ToolError>(i)
            }
        })
        .await;
        assert_eq!(start.elapsed(), Duration::from_millis(2_500));
        assert_eq!(started.get(), 3);
        let kinds: Vec<_> = out.iter().map(|(_, o)| matches!(o, Outcome::Ok(_))).collect();
        assert_eq!(kinds, [true, true, false, false, false, false]);
        assert!(out[2..].iter().all(|(_, o)| *o == Outcome::Skipped));

        let hung = run(vec![()], &limits(4, 3_600_000, 1_000), &[], |()| {
            std::future::pending::<Result<(), ToolError>>()
        })
        .await;
        assert_eq!(hung, [((), Outcome::Skipped)]);
    }

    #[tokio::test(start_paused = true)]
    async fn errors_are_categorised_or_ignored() {
        let ignore = vec!["OptInRequired".to_owned()];
        let out = run(
            vec!["a", "b", "c", "d"],
            &limits(4, 1_000, 5_000),
            &ignore,
            |k| async move {
                match k {
                    "a" => Err(aws("OptInRequired")),
                    "b" => Err(aws("AccessDenied")),
                    "c" => Err(transport("endpoint unreachable (dns error)")),
                    _ => Ok(k.len()),
                }
            },
        )
        .await;
        assert_eq!(
            out[0].1,
            Outcome::Ignored {
                code: "OptInRequired".into()
            }
        );
        match &out[1].1 {
            Outcome::Failed {
                category,
                code,
                message,
            } => {
                assert_eq!(*category, Category::AccessDenied);
                assert_eq!(code.as_deref(), Some("AccessDenied"));
                assert!(
                    message.starts_with("AccessDenied from ec2:DescribeInstances"),
                    "{message}"
                );
            }
            o => panic!("{o:?}"),
        }
        assert!(matches!(
            &out[2].1,
            Outcome::Failed {
                category: Category::Unreachable,
                code: None,
                ..
            }
        ));
        assert_eq!(out[3].1, Outcome::Ok(1));
    }

    #[tokio::test(start_paused = true)]
    async fn empty_and_zero_concurrency() {
        let out = run(Vec::<u8>::new(), &limits(0, 1, 1), &[], |_| async {
            Ok::<_, ToolError>(())
        })
        .await;
        assert!(out.is_empty());
        let out = run(vec![1, 2], &limits(0, 1_000, 1_000), &[], |i| async move {
            Ok::<_, ToolError>(i)
        })
        .await;
        assert_eq!(out, [(1, Outcome::Ok(1)), (2, Outcome::Ok(2))]);
    }
}
