//! Classifying PartiQL statements so read-only mode can refuse writes.
//!
//! A substring search is fooled by keywords inside comments, string literals or quoted
//! identifiers, so this lexes the statement and looks at its first real token.

/// What a statement does, judged by its leading keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    Select,
    Insert,
    Update,
    Delete,
    /// Any other first token, as written (keywords upper-cased).
    Other(String),
}

impl StatementKind {
    pub fn is_read_only(&self) -> bool {
        *self == Self::Select
    }
}

/// Classifies a statement by its first token. The whole statement is lexed, so unterminated
/// comments, string literals or quoted identifiers anywhere are reported as errors.
pub fn classify(stmt: &str) -> Result<StatementKind, String> {
    let mut first = None;
    let mut rest = stmt;
    while let Some((token, tail)) = next_token(rest)? {
        first.get_or_insert(token);
        rest = tail;
    }
    let first = first.ok_or("empty statement (only whitespace or comments)")?;
    Ok(match first.to_ascii_uppercase().as_str() {
        "SELECT" => StatementKind::Select,
        "INSERT" => StatementKind::Insert,
        "UPDATE" => StatementKind::Update,
        "DELETE" => StatementKind::Delete,
        // Quoted tokens keep their spelling: `"SELECT"` is an identifier, not the keyword.
        word if first.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') => {
            StatementKind::Other(word.to_owned())
        }
        _ => StatementKind::Other(first.to_owned()),
    })
}

/// Splits off the next token after skipping whitespace and comments; `None` at the end.
fn next_token(s: &str) -> Result<Option<(&str, &str)>, String> {
    let s = skip_trivia(s)?;
    let Some(c) = s.chars().next() else {
        return Ok(None);
    };
    let len = match c {
        '\'' | '"' => quoted_len(s, c)?,
        c if c.is_ascii_alphabetic() || c == '_' => s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(s.len()),
        c => c.len_utf8(),
    };
    Ok(Some(s.split_at(len)))
}

fn skip_trivia(mut s: &str) -> Result<&str, String> {
    loop {
        s = s.trim_start();
        if let Some(comment) = s.strip_prefix("--") {
            s = comment.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(comment) = s.strip_prefix("/*") {
            let (body, after) = comment.split_once("*/").ok_or("unterminated /* block comment")?;
            // Engines disagree on nesting; refusing it keeps us from misreading what runs.
            if body.contains("/*") {
                return Err("nested /* block comments are not supported".into());
            }
            s = after;
        } else {
            return Ok(s);
        }
    }
}

/// Length of a literal or identifier opened by `quote`, where a doubled quote is an escape.
fn quoted_len(s: &str, quote: char) -> Result<usize, String> {
    let mut chars = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote && chars.next_if(|&(_, c)| c == quote).is_none() {
            return Ok(i + 1);
        }
    }
    Err(match quote {
        '\'' => "unterminated 'string' literal".into(),
        _ => "unterminated \"quoted\" identifier".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_first_keyword() {
        assert_eq!(classify(r#"SELECT * FROM "t""#), Ok(StatementKind::Select));
        assert_eq!(classify("  -- hi\n /* x */ select * from t"), Ok(StatementKind::Select));
        assert_eq!(
            classify(r#"/* SELECT */ DELETE FROM "t" WHERE pk='a'"#),
            Ok(StatementKind::Delete)
        );
        assert_eq!(
            classify(r#"insert into "t" value {'pk':'a'}"#),
            Ok(StatementKind::Insert)
        );
        assert_eq!(
            classify(r#"UPDATE "t" SET a=1 WHERE pk='x'"#),
            Ok(StatementKind::Update)
        );
        assert_eq!(
            classify(r#"SELECT * FROM "t" WHERE note = 'it''s a DELETE' -- DELETE"#),
            Ok(StatementKind::Select)
        );
        assert_eq!(classify("-- only a line comment\nSELECT 1"), Ok(StatementKind::Select));
        assert_eq!(classify("SELECTED"), Ok(StatementKind::Other("SELECTED".into())));
        assert_eq!(classify("exists(select 1)"), Ok(StatementKind::Other("EXISTS".into())));
    }

    #[test]
    fn quoted_first_token_is_not_a_keyword() {
        assert_eq!(classify(r#""SELECT""#), Ok(StatementKind::Other(r#""SELECT""#.into())));
        assert_eq!(
            classify(r#""a""b" DELETE"#),
            Ok(StatementKind::Other(r#""a""b""#.into()))
        );
        assert_eq!(classify("'SELECT'"), Ok(StatementKind::Other("'SELECT'".into())));
    }

    #[test]
    fn rejects_malformed_statements() {
        for bad in [
            "",
            "   \n\t",
            "-- just a comment",
            "/* only */ -- comments",
            "/* unterminated SELECT",
            "SELECT * FROM t /* open",
            "SELECT * FROM t WHERE a = 'open",
            r#"SELECT * FROM "open"#,
            "/* /* */ SELECT */ DELETE FROM t",
        ] {
            assert!(classify(bad).is_err(), "{bad:?}");
        }
    }
}
