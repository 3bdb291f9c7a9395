//! Times as tools take and return them. Models write times many ways ("2h", "now-1h", an ISO date,
//! epoch milliseconds copied from a log event); every tool accepts the same forms, parsed here once,
//! with one error text that lists them. Output is always RFC 3339 in UTC.
//!
//! Parsing and formatting go through `aws_smithy_types::DateTime`, which the SDK already brings in;
//! the looser ISO 8601 forms (date only, no seconds, space separator, no zone) are normalised to
//! RFC 3339 by hand first.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use crate::ToolError;

const ACCEPTED: &str = "accepted forms: ISO 8601 (2026-11-30T12:00:00Z), epoch milliseconds (1796040000000), \
                        or relative (now, 15m, 2h, 7d, now-1h)";

/// Epoch milliseconds now.
pub fn now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Epoch milliseconds from any accepted form; `field` names the argument in the error.
///
/// - ISO 8601 / RFC 3339: `2026-11-30T12:00:00Z`, offsets (`+02:00`, `+0200`), fractional seconds,
///   no seconds (`2026-11-30T12:00Z`), a space instead of `T`, date only (midnight UTC); no zone
///   means UTC.
/// - Epoch milliseconds: all digits. Always milliseconds, never seconds.
/// - Relative to `now_ms`: `now`, `now-1h`, `now+5m`, `-1h`, and a bare duration (`15m`, `2h`) which
///   means that long *before* now. Units `s`, `m`, `h`, `d`, `w` (or `sec`, `min`, `hour(s)`,
///   `day(s)`, `week(s)`), case-insensitive.
pub fn parse(field: &str, input: &str, now_ms: i64) -> Result<i64, ToolError> {
    let s = input.trim();
    let bad = || {
        let shown: String = s.chars().take(64).collect();
        ToolError::invalid(field, format!("{shown:?} is not a time; {ACCEPTED}"))
    };
    if s.is_empty() {
        return Err(bad());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().map_err(|_| bad());
    }
    if let Some(ms) = relative(s, now_ms) {
        return ms.ok_or_else(bad);
    }
    iso(s).ok_or_else(bad)
}

/// `Some(None)` when `s` is relative but out of range; `None` when it is not relative at all.
fn relative(s: &str, now_ms: i64) -> Option<Option<i64>> {
    let lower = s.to_ascii_lowercase();
    let rest = lower.strip_prefix("now").map(str::trim_start);
    let (sign, amount) = match rest {
        Some("") => return Some(Some(now_ms)),
        Some(r) => match r.as_bytes().first() {
            Some(b'-') => (-1, r[1..].trim_start()),
            Some(b'+') => (1, r[1..].trim_start()),
            _ => return None,
        },
        None => match lower.strip_prefix('-') {
            Some(r) => (-1, r.trim_start()),
            None => (-1, lower.as_str()),
        },
    };
    let ms = duration_ms(amount)?;
    Some(ms.checked_mul(sign).and_then(|d| now_ms.checked_add(d)))
}

/// `15m`, `2 hours`, … in milliseconds; `None` when `s` is not a duration.
fn duration_ms(s: &str) -> Option<i64> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: i64 = s[..digits].parse().ok()?;
    let unit_ms: i64 = match s[digits..].trim_start() {
        "ms" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        "w" | "week" | "weeks" => 604_800_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// ISO 8601 normalised to RFC 3339, then parsed.
fn iso(s: &str) -> Option<i64> {
    let s = s.to_ascii_uppercase();
    if s.len() < 10 || !s.is_char_boundary(10) {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let mut out = String::with_capacity(32);
    out.push_str(date);
    match rest.as_bytes().first() {
        None => out.push_str("T00:00:00Z"),
        Some(b'T' | b' ') => {
            out.push('T');
            let time = &rest[1..];
            let zone_at = time.find(['Z', '+', '-']).unwrap_or(time.len());
            let (clock, zone) = time.split_at(zone_at);
            out.push_str(clock.trim_end());
            // HH:MM gets seconds.
            if clock.trim_end().len() == 5 {
                out.push_str(":00");
            }
            out.push_str(&zone_rfc3339(zone.trim())?);
        }
        _ => return None,
    }
    DateTime::from_str(&out, Format::DateTimeWithOffset)
        .ok()?
        .to_millis()
        .ok()
}

/// `""` → `Z`; `+0200`/`+02` → `+02:00`; `Z`/`+02:00` unchanged.
fn zone_rfc3339(zone: &str) -> Option<String> {
    let b = zone.as_bytes();
    let digits_ok = |d: &[u8]| d.iter().all(u8::is_ascii_digit);
    Some(match b {
        [] => "Z".into(),
        [b'Z'] => "Z".into(),
        [s @ (b'+' | b'-'), h @ ..] if h.len() == 2 && digits_ok(h) => format!("{}{}:00", *s as char, &zone[1..]),
        [s @ (b'+' | b'-'), hm @ ..] if hm.len() == 4 && digits_ok(hm) => {
            format!("{}{}:{}", *s as char, &zone[1..3], &zone[3..])
        }
        [b'+' | b'-', _, _, b':', _, _] => zone.into(),
        _ => return None,
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ`, with `.sss` only when the milliseconds are not zero. Outside years
/// 1–9999 (which RFC 3339 cannot express), the epoch milliseconds as digits.
pub fn rfc3339_ms(ms: i64) -> String {
    let whole = DateTime::from_secs(ms.div_euclid(1000));
    let frac = ms.rem_euclid(1000);
    match whole.fmt(Format::DateTime) {
        Ok(s) if frac == 0 => s,
        Ok(s) => format!("{}.{frac:03}Z", s.trim_end_matches('Z')),
        Err(_) => ms.to_string(),
    }
}

/// An SDK timestamp as RFC 3339 in UTC (sub-second digits only when present). Outside years
/// 1–9999, the epoch seconds as digits.
pub fn rfc3339(t: &DateTime) -> String {
    t.fmt(Format::DateTime).unwrap_or_else(|_| t.secs().to_string())
}

/// [`rfc3339`] for the optional timestamps SDK outputs are full of.
pub fn opt_rfc3339(t: Option<&DateTime>) -> Option<String> {
    t.map(rfc3339)
}

/// A closed time window in epoch milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// The window a tool was asked about. `start`/`end` are `(field name, value)`; a missing start is
/// `default_start` (any accepted form, e.g. `"1h"`), a missing end is now. An end before the start
/// is an error naming both fields.
pub fn range(
    start: Option<(&str, &str)>,
    end: Option<(&str, &str)>,
    default_start: &str,
    now_ms: i64,
) -> Result<TimeRange, ToolError> {
    let (start_field, start_value) = start.unwrap_or(("start", default_start));
    let start_ms = parse(start_field, start_value, now_ms)?;
    let (end_field, end_ms) = match end {
        Some((f, v)) => (f, parse(f, v, now_ms)?),
        None => ("end", now_ms),
    };
    if end_ms < start_ms {
        return Err(ToolError::invalid(
            end_field,
            format!(
                "`{end_field}` ({}) is before `{start_field}` ({}); give an end after the start, or omit `{end_field}` for now",
                rfc3339_ms(end_ms),
                rfc3339_ms(start_ms)
            ),
        ));
    }
    Ok(TimeRange { start_ms, end_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-30T12:00:00Z
    const NOON: i64 = 1_796_040_000_000;

    fn p(s: &str) -> i64 {
        match parse("start", s, NOON) {
            Ok(v) => v,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    #[test]
    fn iso_forms() {
        assert_eq!(p("2026-11-30T12:00:00Z"), NOON);
        assert_eq!(p(" 2026-11-30t12:00:00z "), NOON);
        assert_eq!(p("2026-11-30T14:00:00+02:00"), NOON);
        assert_eq!(p("2026-11-30T14:00:00+0200"), NOON);
        assert_eq!(p("2026-11-30T14:00:00+02"), NOON);
        assert_eq!(p("2026-11-30T10:30:00-01:30"), NOON);
        assert_eq!(p("2026-11-30T12:00:00.250Z"), NOON + 250);
        assert_eq!(p("2026-11-30T12:00:00.123456789Z"), NOON + 123);
        assert_eq!(p("2026-11-30T12:00Z"), NOON);
        assert_eq!(p("2026-11-30T12:00"), NOON);
        assert_eq!(p("2026-11-30 12:00:00"), NOON);
        assert_eq!(p("2026-11-30 12:00:00 +00:00"), NOON);
        assert_eq!(p("2026-11-30"), NOON - 12 * 3_600_000);
        assert_eq!(p("1969-12-31T23:59:59Z"), -1000);
    }

    #[test]
    fn epoch_milliseconds_are_never_seconds() {
        assert_eq!(p("1796040000000"), NOON);
        assert_eq!(p("1764504000"), 1_764_504_000);
        assert_eq!(p("0"), 0);
    }

    #[test]
    fn relative_forms_look_back_from_now() {
        assert_eq!(p("now"), NOON);
        assert_eq!(p("NOW"), NOON);
        assert_eq!(p("15m"), NOON - 15 * 60_000);
        assert_eq!(p("2H"), NOON - 2 * 3_600_000);
        assert_eq!(p("7d"), NOON - 7 * 86_400_000);
        assert_eq!(p("30s"), NOON - 30_000);
        assert_eq!(p("1w"), NOON - 604_800_000);
        assert_eq!(p("now-1h"), NOON - 3_600_000);
        assert_eq!(p("now - 1h"), NOON - 3_600_000);
        assert_eq!(p("-1h"), NOON - 3_600_000);
        assert_eq!(p("now+5m"), NOON + 300_000);
        assert_eq!(p("3 hours"), NOON - 3 * 3_600_000);
    }

    #[test]
    fn bad_values_name_the_field_and_the_accepted_forms() {
        for s in [
            "",
            "yesterday",
            "now*2",
            "5y",
            "2026-13-01",
            "2026-11-30T25:00:00Z",
            "2026-11-30X12:00",
            "2026-11-30T12:00:00+2",
            "99999999999999999999",
            "9999999999999999h",
            "é2026-11-30",
            "2026-11-3é",
        ] {
            let e = parse("end", s, NOON).err().map(|e| e.to_string());
            let e = e.unwrap_or_else(|| panic!("{s:?} parsed"));
            assert!(e.contains("`end`"), "{e}");
            assert!(
                e.contains("ISO 8601") && e.contains("epoch milliseconds") && e.contains("now-1h"),
                "{e}"
            );
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(rfc3339_ms(NOON), "2026-11-30T12:00:00Z");
        assert_eq!(rfc3339_ms(NOON + 5), "2026-11-30T12:00:00.005Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339_ms(i64::MAX), i64::MAX.to_string());
        let t = DateTime::from_millis(NOON + 120);
        assert_eq!(rfc3339(&t), "2026-11-30T12:00:00.12Z");
        assert_eq!(opt_rfc3339(Some(&t)).as_deref(), Some("2026-11-30T12:00:00.12Z"));
        assert_eq!(opt_rfc3339(None), None);
        assert_eq!(p(&rfc3339_ms(NOON + 5)), NOON + 5);
    }

    #[test]
    fn now_is_after_2020() {
        assert!(now_ms() > 1_577_836_800_000);
    }

    #[test]
    fn ranges() {
        let r = range(None, None, "1h", NOON).ok();
        assert_eq!(
            r,
            Some(TimeRange {
                start_ms: NOON - 3_600_000,
                end_ms: NOON
            })
        );
        let r = range(Some(("since", "2026-11-30")), Some(("until", "now-1h")), "1h", NOON).ok();
        assert_eq!(r.map(|r| r.start_ms), Some(NOON - 12 * 3_600_000));
        let e = range(Some(("since", "now")), Some(("until", "2h")), "1h", NOON).err();
        let e = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("`until`") && e.contains("`since`"), "{e}");
        let e = range(Some(("since", "soon")), None, "1h", NOON).err();
        assert!(e.is_some_and(|e| e.to_string().contains("`since`")));
    }
}
