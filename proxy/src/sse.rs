//! An incremental Server-Sent Events parser (the WHATWG event-stream format), fed body chunks as
//! they arrive so a server's notifications reach the client while a tool call is still running.

/// One dispatched event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Event {
    /// `event:` field; `message` when absent.
    pub(crate) kind: String,
    pub(crate) data: String,
    /// `id:` field, the resumption point (logged only: the proxy does not resume streams).
    pub(crate) id: Option<String>,
}

/// A line longer than this without a newline is not an MCP message stream: stop buffering it.
const MAX_LINE: usize = 16 * 1024 * 1024;

#[derive(Default)]
pub(crate) struct Parser {
    buf: Vec<u8>,
    data: String,
    has_data: bool,
    kind: String,
    id: Option<String>,
}

impl Parser {
    /// Feed a chunk; returns the events it completes.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Result<Vec<Event>, String> {
        self.buf.extend_from_slice(chunk);
        let mut events = Vec::new();
        let mut start = 0;
        while let Some(nl) = self.buf[start..].iter().position(|&b| b == b'\n') {
            let end = start + nl;
            let mut line = &self.buf[start..end];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            let line = String::from_utf8_lossy(line).into_owned();
            start = end + 1;
            if let Some(ev) = self.line(&line) {
                events.push(ev);
            }
        }
        self.buf.drain(..start);
        if self.buf.len() > MAX_LINE {
            return Err(format!("an event-stream line exceeded {MAX_LINE} bytes"));
        }
        Ok(events)
    }

    /// The stream ended: a final event not followed by a blank line is still delivered (lenient,
    /// as servers that close right after the last `data:` line are common).
    pub(crate) fn finish(&mut self) -> Option<Event> {
        let rest = std::mem::take(&mut self.buf);
        let rest = String::from_utf8_lossy(&rest);
        let rest = rest.trim_end_matches('\r');
        if !rest.is_empty()
            && let Some(ev) = self.line(rest)
        {
            return Some(ev);
        }
        self.line("")
    }

    fn line(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None; // comment / keep-alive
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.kind = value.to_owned(),
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            _ => {} // `retry:` and unknown fields
        }
        None
    }

    fn dispatch(&mut self) -> Option<Event> {
        let kind = std::mem::take(&mut self.kind);
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(Event {
            kind: if kind.is_empty() { "message".into() } else { kind },
            data: std::mem::take(&mut self.data),
            id: self.id.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_crlf() {
        let mut p = Parser::default();
        assert!(p.push(b": keep-alive\r\n\r\nid: 7\r\nda").unwrap().is_empty());
        let evs = p
            .push(b"ta: {\"a\":\r\ndata: 1}\r\n\r\nevent: ping\ndata: x\n\n")
            .unwrap();
        assert_eq!(
            evs,
            vec![
                Event {
                    kind: "message".into(),
                    data: "{\"a\":\n1}".into(),
                    id: Some("7".into())
                },
                Event {
                    kind: "ping".into(),
                    data: "x".into(),
                    id: Some("7".into())
                },
            ]
        );
    }

    #[test]
    fn an_event_without_a_final_blank_line_is_delivered_at_the_end() {
        let mut p = Parser::default();
        assert!(p.push(b"data: {}").unwrap().is_empty());
        assert_eq!(p.finish().map(|e| e.data), Some("{}".into()));
        // A priming event with an id and no data dispatches nothing.
        let mut p = Parser::default();
        assert!(p.push(b"id: 0\n\n").unwrap().is_empty());
        assert_eq!(p.finish(), None);
    }
}
