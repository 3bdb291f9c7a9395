//! Polling an asynchronous AWS job until it is done or a deadline passes, with backoff, and a cancel
//! step when time runs out so nothing is left running (and billing) after the tool has answered:
//! e.g. CloudWatch Logs Insights (`StartQuery`, poll `GetQueryResults` until `Complete`, `StopQuery`
//! on timeout). The last pending state is kept so the caller can report partial progress.

use std::future::Future;
use std::time::Duration;

use tokio::time::{Instant, sleep_until, timeout_at};

use crate::ToolError;

/// Waits between polls: `first`, then multiplied by `factor` each time, never above `max`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub factor: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(100),
            max: Duration::from_secs(2),
            factor: 2.0,
        }
    }
}

impl Backoff {
    /// The wait after `current`. A factor below 1 (or not a number) is taken as 1.
    pub fn next(&self, current: Duration) -> Duration {
        let factor = if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        };
        Duration::try_from_secs_f64(current.as_secs_f64() * factor)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// What one poll found.
#[derive(Clone, Debug, PartialEq)]
pub enum Poll<T, P = ()> {
    Done(T),
    /// Not finished; `P` is the progress so far (status, partial statistics).
    Pending(P),
}

/// How polling ended.
#[derive(Debug)]
pub enum Polled<T, P = ()> {
    Done(T),
    /// The deadline passed. `last` is the most recent pending state, if any poll answered;
    /// `cancelled` is what the cancel step returned.
    TimedOut {
        last: Option<P>,
        cancelled: Result<(), ToolError>,
    },
}

/// Call `step` until it returns [`Poll::Done`], waiting per `backoff` between calls, for at most
/// `deadline`. A step still running at the deadline is abandoned; one last poll is made at the
/// deadline itself. On timeout `cancel` runs exactly once and its result is reported in
/// [`Polled::TimedOut`]. An error from `step` stops polling and is returned (no cancel: the caller
/// knows more about whether the job still exists). `cancel` is not time-bounded here: it should be
/// one SDK call, which the SDK's operation timeout bounds.
pub async fn until<T, P, S, SFut, C, CFut>(
    deadline: Duration,
    backoff: &Backoff,
    mut step: S,
    cancel: C,
) -> Result<Polled<T, P>, ToolError>
where
    S: FnMut() -> SFut,
    SFut: Future<Output = Result<Poll<T, P>, ToolError>>,
    C: FnOnce() -> CFut,
    CFut: Future<Output = Result<(), ToolError>>,
{
    let end = Instant::now() + deadline;
    let mut wait = backoff.first.min(backoff.max);
    let mut last = None;
    loop {
        match timeout_at(end, step()).await {
            Err(_elapsed) => break,
            Ok(Err(e)) => return Err(e),
            Ok(Ok(Poll::Done(t))) => return Ok(Polled::Done(t)),
            Ok(Ok(Poll::Pending(p))) => last = Some(p),
        }
        let now = Instant::now();
        if now >= end {
            break;
        }
        sleep_until((now + wait).min(end)).await;
        wait = backoff.next(wait);
    }
    let cancelled = cancel().await;
    Ok(Polled::TimedOut { last, cancelled })
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff::default();
        let mut d = b.first;
        let mut seen = vec![];
        for _ in 0..7 {
            seen.push(d.as_millis());
            d = b.next(d);
        }
        assert_eq!(seen, [100, 200, 400, 800, 1600, 2000, 2000]);
        let odd = Backoff { factor: f64::NAN, ..b };
        assert_eq!(odd.next(ms(300)), ms(300));
        let huge = Backoff { factor: f64::MAX, ..b };
        assert_eq!(huge.next(ms(300)), b.max);
    }

    #[tokio::test(start_paused = true)]
    async fn done_after_n_polls_with_growing_waits() {
        let start = Instant::now();
        let times = RefCell::new(vec![]);
        let cancels = Cell::new(0);
        let r = until(
            Duration::from_secs(60),
            &Backoff::default(),
            || {
                times.borrow_mut().push(start.elapsed().as_millis());
                let n = times.borrow().len();
                async move { Ok(if n == 7 { Poll::Done("rows") } else { Poll::Pending(n) }) }
            },
            || {
                cancels.set(cancels.get() + 1);
                async { Ok(()) }
            },
        )
        .await;
        assert!(matches!(r, Ok(Polled::Done("rows"))));
        assert_eq!(*times.borrow(), [0, 100, 300, 700, 1500, 3100, 5100]);
        assert_eq!(cancels.get(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_cancels_once_and_keeps_the_last_state() {
        let polls = Cell::new(0);
        let cancels = Cell::new(0);
        let r = until(
            ms(1000),
            &Backoff::default(),
            || {
                polls.set(polls.get() + 1);
                let n = polls.get();
                async move { Ok::<Poll<(), _>, _>(Poll::Pending(format!("running {n}"))) }
            },
            || {
                cancels.set(cancels.get() + 1);
                async { Err(ToolError::Other("StopQuery failed".into())) }
            },
        )
        .await;
        // Polls at 0, 100, 300, 700 and the last one at the deadline (1000).
        assert_eq!(polls.get(), 5);
        assert_eq!(cancels.get(), 1);
        match r {
            Ok(Polled::TimedOut { last, cancelled }) => {
                assert_eq!(last.as_deref(), Some("running 5"));
                assert!(cancelled.is_err_and(|e| e.to_string() == "StopQuery failed"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_hanging_past_the_deadline_is_abandoned() {
        let start = Instant::now();
        let cancels = Cell::new(0);
        let r: Result<Polled<(), ()>, _> = until(
            ms(500),
            &Backoff::default(),
            || async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(Poll::Pending(()))
            },
            || {
                cancels.set(cancels.get() + 1);
                async { Ok(()) }
            },
        )
        .await;
        assert!(matches!(
            r,
            Ok(Polled::TimedOut {
                last: None,
                cancelled: Ok(())
            })
        ));
        assert_eq!(start.elapsed(), ms(500));
        assert_eq!(cancels.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn step_error_propagates_without_cancel() {
        let polls = Cell::new(0);
        let cancels = Cell::new(0);
        let r: Result<Polled<(), ()>, _> = until(
            Duration::from_secs(60),
            &Backoff::default(),
            || {
                polls.set(polls.get() + 1);
                let n = polls.get();
                async move {
                    if n == 3 {
                        Err(ToolError::invalid("query", "bad syntax"))
                    } else {
                        Ok(Poll::Pending(()))
                    }
                }
            },
            || {
                cancels.set(cancels.get() + 1);
                async { Ok(()) }
            },
        )
        .await;
        assert!(r.is_err_and(|e| e.to_string().contains("bad syntax")));
        assert_eq!((polls.get(), cancels.get()), (3, 0));
    }
}
