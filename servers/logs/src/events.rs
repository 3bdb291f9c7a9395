//! Log events as tools return them: RFC 3339 UTC time, stream (and group when a call reads
//! several), and the message with secrets masked. One shape for every tool and the resource.

use serde::Serialize;
use shared::{Redactor, time::rfc3339_ms};

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Event {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    pub time: Option<String>,
    pub message: String,
}

/// An event for output, and how many secrets were masked in its message. CloudWatch messages
/// usually end in a newline, which costs tokens and says nothing: it is dropped.
pub(crate) fn render(
    redactor: &Redactor,
    group: Option<&str>,
    stream: Option<&str>,
    timestamp: Option<i64>,
    message: Option<&str>,
) -> (Event, usize) {
    let raw = message.unwrap_or("").trim_end_matches(['\n', '\r']);
    let (message, masked) = redactor.text(raw);
    (
        Event {
            group: group.map(str::to_owned),
            stream: stream.map(str::to_owned),
            time: timestamp.map(rfc3339_ms),
            message: message.into_owned(),
        },
        masked,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_counted_unless_redaction_is_off() {
        let msg = "login ok password=hunter2hunter2 key AKIAIOSFODNN7EXAMPLE\n";
        let (e, n) = render(
            &Redactor::new(true),
            None,
            Some("s"),
            Some(1_796_040_000_000),
            Some(msg),
        );
        assert_eq!(n, 2, "{}", e.message);
        assert!(!e.message.contains("hunter2") && !e.message.contains("AKIAIOSFODNN7EXAMPLE"));
        assert_eq!(e.time.as_deref(), Some("2026-11-30T12:00:00Z"));
        assert!(!e.message.ends_with('\n'));
        let (e, n) = render(&Redactor::new(false), Some("g"), None, None, Some(msg));
        assert_eq!(n, 0);
        assert!(e.message.contains("hunter2"));
        assert_eq!(e.group.as_deref(), Some("g"));
    }
}
