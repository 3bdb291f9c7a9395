//! Retrieval results as JSON: every result is kept, whatever its content type. Text is clipped
//! per chunk so that all chunks of a page share the output budget (short chunks whole, long ones
//! cut evenly) with the full length alongside; rows, images, video and audio are represented by
//! type and location (image bytes are never inlined: they would fill the budget with base64).

use std::collections::HashMap;

use aws_sdk_bedrockagentruntime::types::{RetrievalResultContent, RetrievalResultLocation};
use aws_smithy_types::Document;
use serde_json::{Map, Value, json};
use shared::budget::{self, Clipped};

use crate::filter;

/// A chunk's text is never clipped below this many bytes, so a clipped chunk still says something.
const MIN_TEXT: usize = 200;

/// One result before its text is fitted: the JSON without `text`, and the text.
pub(crate) struct Chunk {
    pub value: Map<String, Value>,
    pub text: Option<String>,
}

/// The location of a result, whatever the source type: `{"type": "S3", "uri": ..}`,
/// `{"type": "WEB", "url": ..}`, `{"type": "CUSTOM", "id": ..}`, `{"type": "SQL", "query": ..}`.
pub(crate) fn location(l: &RetrievalResultLocation) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), json!(l.r#type().as_str()));
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            out.insert(k.into(), json!(v));
        }
    };
    if let Some(s) = l.s3_location() {
        put("uri", s.uri());
    }
    if let Some(s) = l.web_location() {
        put("url", s.url());
    }
    if let Some(s) = l.confluence_location() {
        put("url", s.url());
    }
    if let Some(s) = l.salesforce_location() {
        put("url", s.url());
    }
    if let Some(s) = l.share_point_location() {
        put("url", s.url());
    }
    if let Some(s) = l.one_drive_location() {
        put("url", s.url());
    }
    if let Some(s) = l.google_drive_location() {
        put("url", s.url());
    }
    if let Some(s) = l.kendra_document_location() {
        put("uri", s.uri());
    }
    if let Some(s) = l.custom_document_location() {
        put("id", s.id());
    }
    if let Some(s) = l.sql_location() {
        put("query", s.query());
    }
    Value::Object(out)
}

pub(crate) fn metadata(m: Option<&HashMap<String, Document>>) -> Option<Value> {
    m.filter(|m| !m.is_empty())
        .map(|m| Value::Object(m.iter().map(|(k, v)| (k.clone(), filter::json(v))).collect()))
}

/// A result's content and where it came from, with its text held back for fitting.
pub(crate) fn chunk(
    content: Option<&RetrievalResultContent>,
    location_: Option<&RetrievalResultLocation>,
    meta: Option<&HashMap<String, Document>>,
) -> Chunk {
    let mut value = Map::new();
    let mut text = None;
    if let Some(c) = content {
        let kind = match c.r#type() {
            Some(t) => t.as_str().to_owned(),
            None if !c.row().is_empty() => "ROW".into(),
            None if c.byte_content().is_some() => "IMAGE".into(),
            None => "TEXT".into(),
        };
        value.insert("type".into(), json!(kind));
        if !c.text().is_empty() {
            text = Some(c.text().to_owned());
        }
        let row = c.row();
        if !row.is_empty() {
            let cols: Vec<Value> = row
                .iter()
                .map(|col| {
                    json!({
                        "column": col.column_name(),
                        "value": col.column_value(),
                        "type": col.r#type().map(|t| t.as_str()),
                    })
                })
                .collect();
            value.insert("row".into(), Value::Array(cols));
        }
        if let Some(data) = c.byte_content() {
            value.insert("bytes".into(), byte_content(data));
        }
        if let Some(v) = c.video() {
            value.insert("video".into(), json!({ "s3_uri": v.s3_uri(), "summary": v.summary() }));
        }
        if let Some(a) = c.audio() {
            value.insert(
                "audio".into(),
                json!({ "s3_uri": a.s3_uri(), "transcription": a.transcription() }),
            );
        }
    }
    if let Some(l) = location_ {
        value.insert("location".into(), location(l));
    }
    if let Some(m) = metadata(meta) {
        value.insert("metadata".into(), m);
    }
    Chunk { value, text }
}

/// A data URI (`data:image/png;base64,...`) described, not inlined.
fn byte_content(data: &str) -> Value {
    let (head, body) = data.split_once(',').unwrap_or(("", data));
    let mime = head
        .strip_prefix("data:")
        .map(|h| h.split(';').next().unwrap_or(""))
        .filter(|m| !m.is_empty())
        .unwrap_or("application/octet-stream");
    // Base64 carries 3 bytes in every 4 characters.
    let size = body.trim_end_matches('=').len() * 3 / 4;
    json!({ "mime_type": mime, "size_bytes": size, "note": "binary content is not inlined" })
}

/// Fit the chunks' texts into `room` bytes together: shorter texts whole, the rest cut to an
/// equal share (never below [`MIN_TEXT`]) on a character boundary. Each clipped chunk says its
/// full length; the clips are returned for the `truncated` note, with `path` naming each chunk's
/// text by its index.
pub(crate) fn fit(chunks: Vec<Chunk>, room: usize, path: impl Fn(usize) -> String) -> (Vec<Value>, Vec<Clipped>) {
    let fixed: usize = chunks.iter().map(|c| budget::json_len(&c.value) + 40).sum();
    let mut left = room.saturating_sub(fixed);
    // Measured once: escaping makes a text's size in JSON differ from its length.
    let lens: Vec<usize> = chunks
        .iter()
        .map(|c| c.text.as_deref().map_or(0, escaped_len))
        .collect();
    // Water-filling: hand out the room in order of length, so short texts never lose bytes to long ones.
    let mut order: Vec<usize> = (0..chunks.len()).filter(|&i| chunks[i].text.is_some()).collect();
    order.sort_by_key(|&i| lens[i]);
    let mut allowance = vec![usize::MAX; chunks.len()];
    let mut remaining = order.len();
    for &i in &order {
        let share = (left / remaining.max(1)).max(MIN_TEXT);
        let given = lens[i].min(share);
        allowance[i] = given;
        left = left.saturating_sub(given);
        remaining -= 1;
    }
    let mut clips = Vec::new();
    let values = chunks
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            if let Some(t) = c.text.take() {
                let escaped = lens[i];
                if escaped > allowance[i] {
                    // Scale the byte budget back from escaped size to raw size.
                    let raw_room = (allowance[i] as u128 * t.len() as u128 / escaped.max(1) as u128) as usize;
                    let kept = clip(&t, raw_room);
                    clips.push(Clipped {
                        path: path(i),
                        kept_bytes: kept.len(),
                        original_bytes: t.len(),
                    });
                    c.value.insert("text".into(), json!(kept));
                    c.value.insert("text_clipped".into(), json!(true));
                } else {
                    c.value.insert("text".into(), json!(t));
                }
                c.value.insert("text_length".into(), json!(t.chars().count()));
            }
            Value::Object(c.value)
        })
        .collect();
    (values, clips)
}

/// Bytes of `s` as a JSON string.
fn escaped_len(s: &str) -> usize {
    budget::json_len(s)
}

/// The longest prefix of `s` within `max` bytes, cut on a character boundary.
pub(crate) fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let cut = (0..=max).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    &s[..cut]
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrockagentruntime::types::{
        RetrievalResultContentColumn, RetrievalResultContentType, RetrievalResultLocationType,
        RetrievalResultS3Location, RetrievalResultWebLocation,
    };

    fn text_chunk(t: &str) -> Chunk {
        Chunk {
            value: Map::new(),
            text: Some(t.to_owned()),
        }
    }

    #[test]
    fn short_texts_stay_whole_and_long_ones_share_the_rest() {
        let long = "é".repeat(5_000);
        let (values, clips) = fit(
            vec![text_chunk("short"), text_chunk(&long), text_chunk(&long)],
            4_000,
            |i| format!("/results/{i}/text"),
        );
        assert_eq!(values[0]["text"], "short");
        assert!(values[0].get("text_clipped").is_none());
        for v in &values[1..] {
            assert_eq!(v["text_clipped"], true);
            assert_eq!(v["text_length"], 5_000);
            let kept = v["text"].as_str().unwrap();
            assert!(kept.len() < 2_100 && kept.len() > 1_000, "{}", kept.len());
        }
        assert_eq!(clips.len(), 2);
        assert_eq!(clips[0].path, "/results/1/text");
        let total: usize = values.iter().map(budget::json_len).sum();
        assert!(total <= 4_300, "{total}");
    }

    #[test]
    fn clipping_respects_char_boundaries() {
        assert_eq!(clip("aé", 2), "a");
        assert_eq!(clip("abc", 10), "abc");
    }

    #[test]
    fn non_text_results_are_represented() {
        let content = RetrievalResultContent::builder()
            .r#type(RetrievalResultContentType::Image)
            .text("")
            .byte_content("data:image/png;base64,iVBORw0KGgo=")
            .build();
        let loc = RetrievalResultLocation::builder()
            .r#type(RetrievalResultLocationType::S3)
            .s3_location(RetrievalResultS3Location::builder().uri("s3://b/img.png").build())
            .build()
            .unwrap();
        let c = chunk(Some(&content), Some(&loc), None);
        assert!(c.text.is_none());
        assert_eq!(c.value["type"], "IMAGE");
        assert_eq!(c.value["bytes"]["mime_type"], "image/png");
        assert_eq!(c.value["location"], json!({"type": "S3", "uri": "s3://b/img.png"}));

        let row = RetrievalResultContent::builder()
            .r#type(RetrievalResultContentType::Row)
            .text("")
            .row(
                RetrievalResultContentColumn::builder()
                    .column_name("id")
                    .column_value("7")
                    .build(),
            )
            .build();
        let web = RetrievalResultLocation::builder()
            .r#type(RetrievalResultLocationType::Web)
            .web_location(RetrievalResultWebLocation::builder().url("https://x").build())
            .build()
            .unwrap();
        let c = chunk(Some(&row), Some(&web), None);
        assert_eq!(c.value["row"][0]["column"], "id");
        assert_eq!(c.value["location"]["url"], "https://x");
    }
}
