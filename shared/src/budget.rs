//! The output budget: every tool result is held under one size limit (about 20,000 tokens by
//! default) so it cannot flood the model's context or trip a client's result cap. Results stay
//! valid JSON, and anything left out is reported under a top-level `truncated` object that says
//! what was dropped or clipped and how to get it. Nothing is cut silently.
//!
//! Tools that page through lists call [`Budget::fit_items`] first, so the cut falls between items
//! and their cursor resumes exactly after the last item returned. [`Budget::enforce`] is the safety
//! net every result passes through afterwards.

use serde::Serialize;
use serde_json::{Value, json};

/// Rough size of a token in JSON output; deliberately conservative (JSON is token-dense).
pub const BYTES_PER_TOKEN: usize = 4;
/// Room kept for the `truncated` note itself.
const NOTE_RESERVE: usize = 1_024;
/// Strings are never clipped below this many bytes, so a clipped value still shows what it is.
const MIN_STRING_KEEP: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    max_bytes: usize,
}

#[derive(Debug, Default, Serialize)]
pub struct Truncation {
    pub budget_tokens: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped_items: Vec<Dropped>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clipped_strings: Vec<Clipped>,
    pub how_to_get_the_rest: String,
}

#[derive(Debug, Serialize)]
pub struct Dropped {
    /// JSON pointer of the list in this result.
    pub path: String,
    pub kept: usize,
    pub dropped: usize,
}

#[derive(Debug, Serialize)]
pub struct Clipped {
    pub path: String,
    pub kept_bytes: usize,
    pub original_bytes: usize,
}

impl Budget {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes: max_bytes.max(4 * NOTE_RESERVE),
        }
    }

    pub fn from_tokens(tokens: usize) -> Self {
        Self::new(tokens * BYTES_PER_TOKEN)
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    pub fn tokens(&self) -> usize {
        self.max_bytes / BYTES_PER_TOKEN
    }

    /// Bytes left for a payload (e.g. object text) after `overhead` bytes of envelope.
    pub fn room(&self, overhead: usize) -> usize {
        self.max_bytes.saturating_sub(overhead + NOTE_RESERVE)
    }

    /// How many leading `items` fit beside `overhead` bytes of envelope. At least one when there
    /// are any, so a page always makes progress; an item too big on its own is clipped by
    /// [`Budget::enforce`].
    pub fn fit_items<T: Serialize>(&self, items: &[T], overhead: usize) -> usize {
        let room = self.room(overhead);
        let mut used = 2;
        for (i, item) in items.iter().enumerate() {
            used += json_len(item) + 1;
            if used > room {
                return i.max(1);
            }
        }
        items.len()
    }

    /// A note for a list a tool cut itself with [`Budget::fit_items`].
    pub fn dropped_note(&self, path: &str, kept: usize, dropped: usize, how: impl Into<String>) -> Truncation {
        Truncation {
            budget_tokens: self.tokens(),
            dropped_items: vec![Dropped {
                path: path.into(),
                kept,
                dropped,
            }],
            clipped_strings: vec![],
            how_to_get_the_rest: how.into(),
        }
    }

    /// Make `value` fit: drop trailing list items (keeping one per list), then clip the longest
    /// strings, then empty lists if it must. Whatever is removed is reported under `truncated`.
    pub fn enforce(&self, mut value: Value) -> Value {
        // A result that fits is left alone (tools reserve room for their own notes); one that must
        // be cut is cut further, to leave room for the note saying so.
        if json_len(&value) <= self.max_bytes {
            return value;
        }
        let limit = self.max_bytes.saturating_sub(NOTE_RESERVE);
        if !value.is_object() {
            value = json!({ "result": value });
        }
        let mut note = Truncation {
            budget_tokens: self.tokens(),
            ..Default::default()
        };
        drop_items(&mut value, limit, 1, &mut note.dropped_items);
        clip_strings(&mut value, limit, &mut note.clipped_strings);
        drop_items(&mut value, limit, 0, &mut note.dropped_items);
        // Last resort for results made of many small fields (no list or long string left to cut).
        drop_fields(&mut value, limit, &mut note.dropped_items);
        let mut how = Vec::new();
        if !note.dropped_items.is_empty() {
            how.push("ask for fewer items (a smaller page_size, a narrower prefix or filter)");
        }
        if !note.clipped_strings.is_empty() {
            how.push("read the clipped values on their own (a byte range, a projection, or a single item)");
        }
        how.push("or restart the server with a larger --max-output-tokens");
        note.how_to_get_the_rest = how.join("; ");
        attach(&mut value, note);
        value
    }
}

/// Add `note` under `value["truncated"]`, merging with a note a tool already put there.
pub fn attach(value: &mut Value, note: Truncation) {
    let Some(obj) = value.as_object_mut() else {
        return;
    };
    let new = serde_json::to_value(note).unwrap_or_default();
    match obj.get_mut("truncated") {
        Some(Value::Object(old)) => {
            for key in ["dropped_items", "clipped_strings"] {
                if let Some(Value::Array(items)) = new.get(key) {
                    let entry = old.entry(key).or_insert_with(|| json!([]));
                    if let Some(list) = entry.as_array_mut() {
                        list.extend(items.iter().cloned());
                    }
                }
            }
            if let (Some(Value::String(a)), Some(Value::String(b))) =
                (old.get("how_to_get_the_rest").cloned(), new.get("how_to_get_the_rest"))
            {
                old.insert("how_to_get_the_rest".into(), json!(format!("{a}; {b}")));
            }
        }
        _ => {
            obj.insert("truncated".into(), new);
        }
    }
}

/// Serialized size in bytes, without allocating the output.
pub fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = serde_json::to_writer(&mut c, value);
    c.0
}

fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The largest array (by serialized size) with more than `min_keep` items, as a JSON pointer.
fn largest_array(value: &Value, path: &str, min_keep: usize, best: &mut Option<(usize, String)>) {
    match value {
        Value::Array(items) => {
            if items.len() > min_keep {
                let size = json_len(value);
                if best.as_ref().is_none_or(|(s, _)| size > *s) {
                    *best = Some((size, path.to_owned()));
                }
            }
            for (i, v) in items.iter().enumerate() {
                largest_array(v, &format!("{path}/{i}"), min_keep, best);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                largest_array(v, &format!("{path}/{}", pointer_escape(k)), min_keep, best);
            }
        }
        _ => {}
    }
}

fn drop_items(root: &mut Value, limit: usize, min_keep: usize, out: &mut Vec<Dropped>) {
    loop {
        let size = json_len(root);
        if size <= limit {
            return;
        }
        let mut best = None;
        largest_array(root, "", min_keep, &mut best);
        let Some((_, path)) = best else { return };
        let Some(Value::Array(items)) = root.pointer_mut(&path) else {
            return;
        };
        let mut excess = size - limit;
        let before = items.len();
        while items.len() > min_keep && excess > 0 {
            let n = json_len(items.last().expect("non-empty")) + 1;
            items.pop();
            excess = excess.saturating_sub(n);
        }
        let dropped = before - items.len();
        match out.iter_mut().find(|d| d.path == path) {
            Some(d) => {
                d.kept = items.len();
                d.dropped += dropped;
            }
            None => out.push(Dropped {
                path,
                kept: items.len(),
                dropped,
            }),
        }
    }
}

/// The object with the most fields (more than one), as a JSON pointer: a map of many entries,
/// rather than the result's own few fields (its cursor, its notes).
fn largest_object(value: &Value, path: &str, best: &mut Option<(usize, String)>) {
    match value {
        Value::Object(map) => {
            if map.len() > 1 && best.as_ref().is_none_or(|(n, _)| map.len() > *n) {
                *best = Some((map.len(), path.to_owned()));
            }
            for (k, v) in map {
                largest_object(v, &format!("{path}/{}", pointer_escape(k)), best);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                largest_object(v, &format!("{path}/{i}"), best);
            }
        }
        _ => {}
    }
}

/// Drop trailing fields of the largest objects until `root` fits; each object keeps one field.
fn drop_fields(root: &mut Value, limit: usize, out: &mut Vec<Dropped>) {
    loop {
        let size = json_len(root);
        if size <= limit {
            return;
        }
        let mut best = None;
        largest_object(root, "", &mut best);
        let Some((_, path)) = best else { return };
        let Some(Value::Object(map)) = root.pointer_mut(&path) else {
            return;
        };
        let mut excess = size - limit;
        let before = map.len();
        while map.len() > 1 && excess > 0 {
            let Some(key) = map.keys().next_back().cloned() else {
                break;
            };
            let n = map.remove(&key).map_or(0, |v| json_len(&v)) + key.len() + 4;
            excess = excess.saturating_sub(n);
        }
        let dropped = before - map.len();
        if dropped == 0 {
            return;
        }
        out.push(Dropped {
            path,
            kept: map.len(),
            dropped,
        });
    }
}

fn collect_strings(value: &Value, path: &str, out: &mut Vec<(String, usize)>) {
    match value {
        Value::String(s) if s.len() > MIN_STRING_KEEP => out.push((path.to_owned(), s.len())),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_strings(v, &format!("{path}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                collect_strings(v, &format!("{path}/{}", pointer_escape(k)), out);
            }
        }
        _ => {}
    }
}

fn clip_strings(root: &mut Value, limit: usize, out: &mut Vec<Clipped>) {
    // A few passes: JSON escaping makes the serialized saving differ from the raw byte count.
    for _ in 0..4 {
        let size = json_len(root);
        if size <= limit {
            return;
        }
        let mut strings = Vec::new();
        collect_strings(root, "", &mut strings);
        if strings.is_empty() {
            return;
        }
        // Lowest cap T such that clipping every string above T to T saves enough.
        let excess = size - limit;
        let saving = |cap: usize| strings.iter().map(|(_, len)| len.saturating_sub(cap)).sum::<usize>();
        let (mut lo, mut hi) = (MIN_STRING_KEEP, strings.iter().map(|s| s.1).max().unwrap_or(0));
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if saving(mid) >= excess { lo = mid } else { hi = mid - 1 }
        }
        let cap = lo;
        for (path, _) in strings {
            let Some(Value::String(s)) = root.pointer_mut(&path) else {
                continue;
            };
            if s.len() <= cap {
                continue;
            }
            let original = match out.iter().find(|c| c.path == path) {
                Some(c) => c.original_bytes,
                None => s.len(),
            };
            let cut = (0..=cap).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
            s.truncate(cut);
            match out.iter_mut().find(|c| c.path == path) {
                Some(c) => c.kept_bytes = cut,
                None => out.push(Clipped {
                    path,
                    kept_bytes: cut,
                    original_bytes: original,
                }),
            }
        }
    }
}

#[cfg(test)]
mod field_tests {
    use super::*;

    #[test]
    fn many_small_fields_are_cut_too() {
        let b = Budget::new(8_192);
        let mut m = serde_json::Map::new();
        for i in 0..3_000 {
            m.insert(format!("k{i:05}"), json!(i));
        }
        let out = b.enforce(Value::Object(m));
        assert!(json_len(&out) <= 8_192, "{}", json_len(&out));
        assert!(
            out["truncated"]["dropped_items"][0]["dropped"].as_u64().unwrap() > 2_000,
            "{}",
            out["truncated"]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big_list(n: usize, each: usize) -> Value {
        json!({ "items": (0..n).map(|i| json!({"id": i, "pad": "x".repeat(each)})).collect::<Vec<_>>(), "next_cursor": null })
    }

    #[test]
    fn small_results_pass_unchanged() {
        let b = Budget::from_tokens(20_000);
        let v = json!({"a": [1, 2, 3], "s": "hello"});
        assert_eq!(b.enforce(v.clone()), v);
    }

    #[test]
    fn drops_trailing_items_and_says_so() {
        let b = Budget::new(10_000);
        let out = b.enforce(big_list(100, 200));
        assert!(json_len(&out) <= 10_000, "{}", json_len(&out));
        let items = out["items"].as_array().unwrap();
        assert!(!items.is_empty() && items.len() < 100);
        // The kept items are the leading ones, in order.
        assert_eq!(items[0]["id"], 0);
        assert_eq!(items.last().unwrap()["id"], items.len() - 1);
        let d = &out["truncated"]["dropped_items"][0];
        assert_eq!(d["path"], "/items");
        assert_eq!(d["kept"].as_u64().unwrap() + d["dropped"].as_u64().unwrap(), 100);
        assert!(
            out["truncated"]["how_to_get_the_rest"]
                .as_str()
                .unwrap()
                .contains("page_size")
        );
    }

    #[test]
    fn clips_long_strings_on_char_boundaries() {
        let b = Budget::new(8_000);
        let out = b.enforce(json!({"body": "é".repeat(50_000), "name": "k"}));
        assert!(json_len(&out) <= 8_000);
        let c = &out["truncated"]["clipped_strings"][0];
        assert_eq!(c["path"], "/body");
        assert_eq!(c["original_bytes"], 100_000);
        assert_eq!(out["name"], "k");
        assert!(out["body"].as_str().unwrap().len() >= MIN_STRING_KEEP);
    }

    #[test]
    fn one_oversized_item_is_kept_and_clipped() {
        let b = Budget::new(8_000);
        let out = b.enforce(big_list(3, 20_000));
        assert_eq!(out["items"].as_array().unwrap().len(), 1);
        assert!(
            out["truncated"]["clipped_strings"][0]["path"]
                .as_str()
                .unwrap()
                .starts_with("/items/0/")
        );
        assert!(json_len(&out) <= 8_000);
    }

    #[test]
    fn escaped_keys_are_addressed_correctly() {
        let b = Budget::new(6_000);
        let out = b.enforce(json!({"a/b~c": "z".repeat(20_000)}));
        assert_eq!(out["truncated"]["clipped_strings"][0]["path"], "/a~1b~0c");
    }

    #[test]
    fn non_objects_are_wrapped_so_the_note_has_a_place() {
        let b = Budget::new(5_000);
        let out = b.enforce(json!(vec!["y".repeat(100); 200]));
        assert!(out["result"].is_array());
        assert!(out["truncated"].is_object());
    }

    #[test]
    fn fit_items_counts_leading_items_and_always_makes_progress() {
        let b = Budget::new(10_000);
        let items: Vec<Value> = (0..100).map(|i| json!({"i": i, "p": "x".repeat(100)})).collect();
        let n = b.fit_items(&items, 200);
        assert!(n > 10 && n < 100);
        assert!(json_len(&items[..n]) + 200 <= b.room(0));
        // A page cut by fit_items plus the tool's note is not cut again by enforce.
        let mut page = json!({ "items": &items[..n] });
        attach(&mut page, b.dropped_note("/items", n, 100 - n, "use the cursor"));
        assert_eq!(b.enforce(page.clone()), page);
        let huge = vec![json!("x".repeat(100_000))];
        assert_eq!(b.fit_items(&huge, 0), 1);
        assert_eq!(b.fit_items::<Value>(&[], 0), 0);
    }

    #[test]
    fn tool_note_and_safety_net_merge() {
        let b = Budget::new(6_000);
        let mut v = json!({"items": [{"body": "q".repeat(30_000)}]});
        attach(&mut v, b.dropped_note("/items", 1, 9, "call again with the cursor"));
        let out = b.enforce(v);
        assert_eq!(out["truncated"]["dropped_items"][0]["dropped"], 9);
        assert_eq!(out["truncated"]["clipped_strings"][0]["path"], "/items/0/body");
        assert!(
            out["truncated"]["how_to_get_the_rest"]
                .as_str()
                .unwrap()
                .starts_with("call again with the cursor; ")
        );
    }
}
