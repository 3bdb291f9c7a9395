//! Deciding whether object bytes are text to inline or binary to hand over as a presigned URL, and
//! cutting text on UTF-8 boundaries to fit the output budget with an exact continuation offset.

/// What the headers say about an object's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Binary,
    /// No useful content type (S3's default `binary/octet-stream` included): look at the bytes.
    Sniff,
}

pub(crate) fn classify(content_type: Option<&str>, content_encoding: Option<&str>) -> Kind {
    // Compressed bodies are bytes whatever the type says; we do not inflate them into the context.
    if content_encoding.is_some_and(|e| {
        let e = e.trim().to_ascii_lowercase();
        !e.is_empty() && e != "identity" && e != "utf-8" && e != "aws-chunked"
    }) {
        return Kind::Binary;
    }
    let Some(ct) = content_type else { return Kind::Sniff };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (top, sub) = mime.split_once('/').unwrap_or((mime.as_str(), ""));
    match top {
        "text" => Kind::Text,
        "image" | "audio" | "video" | "font" | "model" => Kind::Binary,
        "application" if sub.ends_with("+json") || sub.ends_with("+xml") || sub.ends_with("+yaml") => Kind::Text,
        "application" => match sub {
            "json"
            | "x-ndjson"
            | "jsonl"
            | "xml"
            | "javascript"
            | "ecmascript"
            | "x-javascript"
            | "yaml"
            | "x-yaml"
            | "toml"
            | "sql"
            | "graphql"
            | "x-sh"
            | "x-shellscript"
            | "x-python"
            | "csv"
            | "x-www-form-urlencoded"
            | "x-tex"
            | "rtf"
            | "x-httpd-php"
            | "typescript" => Kind::Text,
            "octet-stream" | "binary" | "" => Kind::Sniff,
            _ => Kind::Binary,
        },
        "binary" => Kind::Sniff,
        _ => Kind::Sniff,
    }
}

/// Text if the sample is UTF-8 (an incomplete character at the very end is fine: it is a cut) and
/// has no NUL bytes.
pub(crate) fn looks_like_text(sample: &[u8]) -> bool {
    if sample.contains(&0) {
        return false;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// A slice of an object's text, cut to fit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TextSlice {
    pub text: String,
    /// Bytes skipped at the start because the range began inside a character.
    pub lead: usize,
    /// Bytes of the object covered by `lead` + `text`: the next range starts after them.
    pub consumed: usize,
}

/// Decode `bytes` (starting at object offset `offset`) as UTF-8 and keep as much as fits in `room`
/// bytes of JSON string escaping. `None` if the bytes are not UTF-8 text.
pub(crate) fn fit_text(bytes: &[u8], offset: u64, room: usize) -> Option<TextSlice> {
    let lead = if offset > 0 {
        bytes.iter().take(3).take_while(|b| (**b & 0xC0) == 0x80).count()
    } else {
        0
    };
    let body = &bytes[lead..];
    let valid = match std::str::from_utf8(body) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&body[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    let mut used = 0;
    let mut end = valid.len();
    for (i, c) in valid.char_indices() {
        let cost = match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        };
        if used + cost > room {
            end = i;
            break;
        }
        used += cost;
    }
    Some(TextSlice {
        text: valid[..end].to_owned(),
        lead,
        consumed: lead + end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(classify(Some("text/csv; charset=utf-8"), None), Kind::Text);
        assert_eq!(classify(Some("application/json"), None), Kind::Text);
        assert_eq!(classify(Some("application/vnd.api+json"), None), Kind::Text);
        assert_eq!(classify(Some("image/png"), None), Kind::Binary);
        assert_eq!(classify(Some("application/pdf"), None), Kind::Binary);
        assert_eq!(classify(Some("binary/octet-stream"), None), Kind::Sniff);
        assert_eq!(classify(None, None), Kind::Sniff);
        assert_eq!(classify(Some("text/plain"), Some("gzip")), Kind::Binary);
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_text("héllo".as_bytes()));
        assert!(
            looks_like_text(&"é".as_bytes()[..1]),
            "a cut character at the end is still text"
        );
        assert!(!looks_like_text(b"PK\x03\x04\x00\x00"));
        assert!(!looks_like_text(&[0xff, 0xfe, b'a']));
    }

    #[test]
    fn cuts_on_character_boundaries_and_counts_escapes() {
        let s = "aé\"b".repeat(10);
        let slice = fit_text(s.as_bytes(), 0, 7).unwrap();
        // a(1) é(2) "(2) b(1) = 6; the next `a` makes 7; the next é would exceed.
        assert_eq!(slice.text, "aé\"ba");
        assert_eq!(slice.consumed, "aé\"ba".len());
        let whole = fit_text(s.as_bytes(), 0, 10_000).unwrap();
        assert_eq!(whole.text, s);
    }

    #[test]
    fn a_range_starting_inside_a_character_skips_its_tail() {
        let bytes = "éa".as_bytes();
        let slice = fit_text(&bytes[1..], 1, 100).unwrap();
        assert_eq!((slice.lead, slice.text.as_str(), slice.consumed), (1, "a", 2));
    }

    #[test]
    fn an_incomplete_last_character_is_left_for_the_next_range() {
        let bytes = "abé".as_bytes();
        let slice = fit_text(&bytes[..3], 0, 100).unwrap();
        assert_eq!((slice.text.as_str(), slice.consumed), ("ab", 2));
    }

    #[test]
    fn invalid_utf8_in_the_middle_is_not_text() {
        assert_eq!(fit_text(&[b'a', 0xff, b'b'], 0, 100), None);
    }
}
