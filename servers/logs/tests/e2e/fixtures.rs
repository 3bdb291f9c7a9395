//! Log groups, streams and events made with the real SDK before a server starts, in LocalStack
//! (Insights, resources, contract) or moto's server (filter patterns). Kept in this test binary:
//! the rig crate does not depend on the CloudWatch Logs SDK.

use aws_mcp_tests::{Emulator, Service, emulators, sdk_config_at, unique};
use aws_sdk_cloudwatchlogs::{Client, types::InputLogEvent};

/// Where an emulator's CloudWatch Logs listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// LocalStack: Insights queries; ignores filter patterns.
    LocalStack,
    /// moto's server: applies simple filter patterns.
    Moto,
}

impl At {
    pub fn url(self) -> String {
        match self {
            Self::LocalStack => Service::Logs.endpoint(),
            Self::Moto => Emulator::Moto.url(),
        }
    }

    pub fn require(self) {
        let e = match self {
            Self::LocalStack => Emulator::LocalStack,
            Self::Moto => Emulator::Moto,
        };
        if let Err(msg) = emulators::check(e) {
            panic!("{msg}");
        }
    }
}

pub(crate) async fn client(at: At) -> Client {
    at.require();
    Client::new(&sdk_config_at(&at.url()).await)
}

/// A fake secret planted in some messages; the redaction must mask it.
pub(crate) const SECRET: &str = "AKIAIOSFODNN7EXAMPLE";
pub(crate) const PASSWORD: &str = "hunter2-Sup3rS3cret";

/// One event as made: stream, epoch ms, message.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Made {
    pub stream: String,
    pub ts: i64,
    pub message: String,
}

/// A new group `{prefix}-…` with `streams` streams of `per_stream` events each, at 1 ms steps
/// starting 30 minutes ago. Every 10th event is an ERROR line; every 25th carries fake secrets.
pub(crate) async fn group_with_events(at: At, prefix: &str, streams: usize, per_stream: usize) -> (String, Vec<Made>) {
    let logs = client(at).await;
    let group = unique(prefix);
    create_group(&logs, &group).await;
    let base = shared::time::now_ms() - 30 * 60_000;
    let mut made = Vec::new();
    for s in 0..streams {
        let stream = format!("stream-{s}");
        let events: Vec<Made> = (0..per_stream)
            .map(|i| {
                let n = s * per_stream + i;
                let level = if i % 10 == 0 { "ERROR" } else { "INFO" };
                let mut message = format!("{level} event {n:05} of stream {s}");
                if i % 25 == 0 {
                    message.push_str(&format!(" key={SECRET} password={PASSWORD}"));
                }
                Made {
                    stream: stream.clone(),
                    ts: base + i as i64,
                    message,
                }
            })
            .collect();
        put(&logs, &group, &stream, &events).await;
        made.extend(events);
    }
    (group, made)
}

pub(crate) async fn create_group(logs: &Client, group: &str) {
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create log group {group}: {e:?}"));
}

/// Create `stream` in `group` and put `events` (in batches CloudWatch accepts).
pub(crate) async fn put(logs: &Client, group: &str, stream: &str, events: &[Made]) {
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create log stream {group}/{stream}: {e:?}"));
    for batch in events.chunks(1_000) {
        let input: Vec<InputLogEvent> = batch
            .iter()
            .map(|e| {
                InputLogEvent::builder()
                    .timestamp(e.ts)
                    .message(&e.message)
                    .build()
                    .expect("event")
            })
            .collect();
        logs.put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(input))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put log events {group}/{stream}: {e:?}"));
    }
}

/// A group named `{prefix}-…` with one stream and one event (the contract's resource).
pub(crate) async fn small_group(prefix: String) -> String {
    let logs = client(At::LocalStack).await;
    let group = unique(&prefix);
    create_group(&logs, &group).await;
    let now = shared::time::now_ms();
    let e = Made {
        stream: "s".into(),
        ts: now - 1_000,
        message: "hello".into(),
    };
    put(&logs, &group, "s", &[e]).await;
    group
}
