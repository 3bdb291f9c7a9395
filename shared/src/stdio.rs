//! JSON-RPC over stdin/stdout where every message gets an answer. rmcp's own line transport drops
//! lines it cannot parse without a reply, so a request with a lone surrogate escape, nesting past
//! serde_json's limit, or a cut-off line would leave the client waiting forever. Here:
//! - a lone UTF-16 surrogate escape is replaced by U+FFFD and the request decoded, so the tool
//!   names the argument it does not accept;
//! - anything else that does not parse gets a JSON-RPC parse error (-32700) carrying the request
//!   id when one can be recovered from the line, `null` otherwise.

use std::sync::Arc;

use futures::{Sink, Stream};
use rmcp::{
    RoleServer,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

/// Longest line read; a longer one is answered with a parse error and skipped.
const MAX_LINE: usize = 64 * 1024 * 1024;

type Writer<W> = Arc<Mutex<W>>;

/// The (sink, stream) pair rmcp serves on.
#[allow(clippy::type_complexity)]
pub(crate) fn transport<R, W>(
    reader: R,
    writer: W,
) -> (
    impl Sink<TxJsonRpcMessage<RoleServer>, Error = std::io::Error> + Send + Unpin + 'static,
    impl Stream<Item = RxJsonRpcMessage<RoleServer>> + Send + Unpin + 'static,
)
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let writer: Writer<W> = Arc::new(Mutex::new(writer));
    let sink = Box::pin(futures::sink::unfold(
        writer.clone(),
        |w, msg: TxJsonRpcMessage<RoleServer>| async move {
            let mut line = serde_json::to_vec(&msg).map_err(std::io::Error::other)?;
            line.push(b'\n');
            write_line(&w, &line).await?;
            Ok::<_, std::io::Error>(w)
        },
    ));
    let reader = BufReader::with_capacity(64 * 1024, reader);
    let stream = Box::pin(futures::stream::unfold(
        (reader, writer),
        |(mut reader, writer)| async move {
            let mut buf = Vec::new();
            loop {
                buf.clear();
                let n = match tokio::io::AsyncReadExt::take(&mut reader, MAX_LINE as u64 + 1)
                    .read_until(b'\n', &mut buf)
                    .await
                {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::debug!("stdin closed: {e}");
                        return None;
                    }
                };
                if n == 0 {
                    return None;
                }
                if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
                    // Skip the rest of an over-long line, then answer it.
                    let mut sink = Vec::new();
                    let _ = reader.read_until(b'\n', &mut sink).await;
                    let _ = reply(&writer, parse_error(&buf, "the message is longer than 64 MiB")).await;
                    continue;
                }
                let line = trim(&buf);
                if line.is_empty() {
                    continue;
                }
                match decode(line) {
                    Decoded::Message(m) => return Some((*m, (reader, writer))),
                    Decoded::Ignore => continue,
                    Decoded::Answer(v) => {
                        if reply(&writer, v).await.is_err() {
                            return None;
                        }
                    }
                }
            }
        },
    ));
    (sink, stream)
}

async fn write_line<W: AsyncWrite + Unpin>(w: &Writer<W>, line: &[u8]) -> std::io::Result<()> {
    let mut w = w.lock().await;
    w.write_all(line).await?;
    w.flush().await
}

async fn reply<W: AsyncWrite + Unpin>(w: &Writer<W>, v: Value) -> std::io::Result<()> {
    let mut line = v.to_string().into_bytes();
    line.push(b'\n');
    write_line(w, &line).await
}

fn trim(buf: &[u8]) -> &[u8] {
    let mut line = buf.strip_suffix(b"\n").unwrap_or(buf);
    line = line.strip_suffix(b"\r").unwrap_or(line);
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

enum Decoded {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// A notification rmcp does not know (other protocols share stdio sometimes): no answer is due.
    Ignore,
    /// What to send back instead.
    Answer(Value),
}

fn decode(line: &[u8]) -> Decoded {
    match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(line) {
        Ok(m) => return Decoded::Message(Box::new(m)),
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            // Well-formed JSON of the wrong shape: an unknown notification needs no answer; a
            // request gets an invalid-request error with its id.
            let v: Value = serde_json::from_slice(line).unwrap_or_default();
            if v.get("id").is_none() {
                return Decoded::Ignore;
            }
            return Decoded::Answer(json!({
                "jsonrpc": "2.0", "id": v["id"],
                "error": {"code": -32600, "message": format!("invalid request: {e}")}
            }));
        }
        Err(_) => {}
    }
    if let Ok(text) = std::str::from_utf8(line)
        && let Some(fixed) = replace_lone_surrogates(text)
        && let Ok(m) = serde_json::from_str::<RxJsonRpcMessage<RoleServer>>(&fixed)
    {
        return Decoded::Message(Box::new(m));
    }
    let why = match serde_json::from_slice::<Value>(line) {
        Err(e) if e.to_string().contains("recursion limit") => {
            "the message is nested too deeply (more than 120 levels)".to_owned()
        }
        Err(e) => format!("not valid JSON: {e}"),
        Ok(_) => "not a JSON-RPC message".to_owned(),
    };
    Decoded::Answer(parse_error(line, &why))
}

fn parse_error(line: &[u8], why: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": recover_id(line),
        "error": {"code": -32700, "message": format!("parse error: {why}")}
    })
}

/// The request id of a line that did not parse: the first `"id":` at the top level of the object,
/// a number or a string.
fn recover_id(line: &[u8]) -> Value {
    let text = String::from_utf8_lossy(&line[..line.len().min(1 << 20)]);
    let bytes = text.as_bytes();
    let (mut depth, mut in_str, mut esc) = (0i32, false, false);
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_str {
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match c {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b'"' if depth == 1 && text[i..].starts_with("\"id\"") => {
                let rest = text[i + 4..].trim_start();
                if let Some(value) = rest.strip_prefix(':') {
                    let value = value.trim_start();
                    let mut de = serde_json::Deserializer::from_str(value).into_iter::<Value>();
                    if let Some(Ok(v @ (Value::Number(_) | Value::String(_)))) = de.next() {
                        return v;
                    }
                }
                return Value::Null;
            }
            b'"' => in_str = true,
            _ => {}
        }
        i += 1;
    }
    Value::Null
}

/// `\uD800`-style escapes not part of a surrogate pair, replaced by `\uFFFD`; `None` if none.
fn replace_lone_surrogates(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let hex = |at: usize| -> Option<u16> {
        let s = text.get(at..at + 4)?;
        u16::from_str_radix(s, 16).ok()
    };
    let mut out = String::with_capacity(text.len());
    let (mut i, mut last, mut changed) = (0, 0, false);
    while i + 1 < b.len() {
        if b[i] == b'\\' {
            if b[i + 1] == b'u'
                && let Some(u) = hex(i + 2)
            {
                let high = (0xD800..0xDC00).contains(&u);
                let low = (0xDC00..0xE000).contains(&u);
                let paired = high
                    && text.get(i + 6..i + 8) == Some("\\u")
                    && hex(i + 8).is_some_and(|l| (0xDC00..0xE000).contains(&l));
                if paired {
                    i += 12;
                    continue;
                }
                if high || low {
                    out.push_str(&text[last..i]);
                    out.push_str("\\uFFFD");
                    i += 6;
                    last = i;
                    changed = true;
                    continue;
                }
            }
            i += 2;
            continue;
        }
        i += 1;
    }
    if !changed {
        return None;
    }
    out.push_str(&text[last..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let line = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","arguments":{"bucket":"a\ud800b","ok":"\ud83d\ude00"}}}"#;
        let Decoded::Message(m) = decode(line.as_bytes()) else {
            panic!("not decoded")
        };
        let v = serde_json::to_value(&*m).unwrap();
        assert_eq!(v["params"]["arguments"]["bucket"], "a\u{FFFD}b");
        assert_eq!(v["params"]["arguments"]["ok"], "😀");
    }

    #[test]
    fn unparsable_lines_are_answered_with_their_id() {
        let deep = format!(
            r#"{{"jsonrpc":"2.0","id":"r-1","method":"tools/call","params":{{"name":"x","arguments":{{"a":{}1{}}}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        for (line, id) in [
            (deep.as_str(), json!("r-1")),
            (
                r#"{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"#,
                json!(12),
            ),
            ("not json", Value::Null),
            (r#"{"params":{"id":5},"id":6,"#, json!(6)),
        ] {
            let Decoded::Answer(a) = decode(line.as_bytes()) else {
                panic!("{line}: no answer")
            };
            assert_eq!(a["id"], id, "{line}");
            assert_eq!(a["error"]["code"], -32700, "{line}");
        }
    }

    #[test]
    fn wrong_shapes_are_invalid_requests_and_unknown_notifications_are_ignored() {
        let Decoded::Answer(a) = decode(br#"{"jsonrpc":"2.0","id":3,"method":42}"#) else {
            panic!()
        };
        assert_eq!((a["id"].clone(), a["error"]["code"].clone()), (json!(3), json!(-32600)));
        assert!(matches!(decode(br#"{"jsonrpc":"2.0","method":42}"#), Decoded::Ignore));
    }
}
