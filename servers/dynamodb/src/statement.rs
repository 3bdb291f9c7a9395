//! Classifying PartiQL statements so read-only mode can refuse writes.
//!
//! A substring search is fooled by keywords inside comments, string literals or quoted
//! identifiers, so this lexes the statement and looks at its first real token.

/// What a statement does, judged by its leading keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StatementKind {
    Select,
    Insert,
    Update,
    Delete,
    /// Any other first token, as written (keywords upper-cased).
    Other(String),
}

impl StatementKind {
    pub(crate) fn is_read_only(&self) -> bool {
        *self == Self::Select
    }
}

/// Classifies a statement by its first token. The whole statement is lexed, so unterminated
/// comments, string literals or quoted identifiers anywhere are reported as errors.
pub(crate) fn classify(stmt: &str) -> Result<StatementKind, String> {
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

/// The table a statement works on: the first identifier after `FROM` (SELECT, DELETE), `INTO`
/// (INSERT) or a leading `UPDATE`, unquoted. `Ok(None)` when the statement names no table that
/// way; an error when it names one this cannot read with certainty (an unquoted name running into
/// `-` or `.`, or something other than an identifier), since allowlists depend on the answer.
pub(crate) fn table_name(stmt: &str) -> Result<Option<String>, String> {
    let mut rest = stmt;
    let mut first = true;
    let mut keyword: Option<String> = None;
    while let Some((token, tail)) = next_token(rest)? {
        if let Some(kw) = keyword {
            return identifier(token, tail)
                .map(Some)
                .map_err(|why| format!("after {kw}: {why}"));
        }
        let upper = token.to_ascii_uppercase();
        if upper == "FROM" || upper == "INTO" || (first && upper == "UPDATE") {
            keyword = Some(upper);
        }
        first = false;
        rest = tail;
    }
    match keyword {
        Some(kw) => Err(format!("the statement ends after {kw}: a table name is missing")),
        None => Ok(None),
    }
}

/// A table name token, unquoted; `Err` says why it is not one.
fn identifier(token: &str, tail: &str) -> Result<String, String> {
    if let Some(inner) = token.strip_prefix('"') {
        let inner = inner.strip_suffix('"').unwrap_or(inner);
        return Ok(inner.replace("\"\"", "\""));
    }
    if !token.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err(format!("found `{token}` where a table name should be"));
    }
    // `my-table` or `a.b` unquoted: DynamoDB's reading of it is not certain, so ask for quotes.
    if tail.starts_with(['-', '.']) {
        let run: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .collect();
        return Err(format!(
            "write the table name in double quotes (\"{token}{run}\"): unquoted, it does not read as one name"
        ));
    }
    Ok(token.to_owned())
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
    fn finds_the_table() {
        let t = |s: &str| table_name(s);
        assert_eq!(t(r#"SELECT * FROM "orders" WHERE "pk" = ?"#), Ok(Some("orders".into())));
        assert_eq!(t(r#"select * from "orders"."by-date""#), Ok(Some("orders".into())));
        assert_eq!(t("select a from orders where b = 'FROM x'"), Ok(Some("orders".into())));
        assert_eq!(t(r#"SELECT "from" FROM "t-1""#), Ok(Some("t-1".into())));
        assert_eq!(
            t(r#"/* FROM "x" */ DELETE FROM "a""b" WHERE pk = 1"#),
            Ok(Some("a\"b".into()))
        );
        assert_eq!(t(r#"INSERT INTO "users" VALUE {'pk': 'a'}"#), Ok(Some("users".into())));
        assert_eq!(
            t("  -- c\n update Users SET a = 1 WHERE pk = 'x'"),
            Ok(Some("Users".into()))
        );
        assert_eq!(t("SELECT 1"), Ok(None));
        assert!(t("SELECT * FROM my-table").unwrap_err().contains("double quotes"));
        assert!(t("SELECT * FROM t.idx").is_err());
        assert!(t("SELECT * FROM (SELECT 1)").is_err());
        assert!(t("DELETE FROM").is_err());
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

/// Property tests (issue 13): no write passes as a read, whatever comments, whitespace and case
/// surround it; a statement's table is found however it is quoted; no input panics the lexer.
/// `PROPTEST_CASES` sets the cases (default 256).
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256);
        ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// Whitespace and comments, whose bodies may hold keywords, quotes and the other comment form.
    fn trivia() -> impl Strategy<Value = String> {
        let body = "(SELECT|select|DELETE|'|\"|--|\\*|/| |[a-z]){0,6}";
        let piece = prop_oneof![
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("\t\r\u{a0}\u{2003}".to_owned()),
            body.prop_map(|b| format!("--{}\n", b.replace('\n', " "))),
            body.prop_filter("no nested or closing marks", |b| !b.contains("*/")
                && !b.contains("/*")
                && !b.ends_with('*'))
                .prop_map(|b| format!("/*{b}*/")),
        ];
        prop::collection::vec(piece, 0..5).prop_map(|p| p.concat())
    }

    fn any_case(word: &'static str) -> impl Strategy<Value = String> {
        prop::collection::vec(any::<bool>(), word.len()).prop_map(move |up| {
            word.chars()
                .zip(up)
                .map(|(c, u)| {
                    if u {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect()
        })
    }

    fn write_keyword() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT", "REMOVE", "EXISTS", "CREATE", "DROP", "SET",
        ])
        .prop_flat_map(any_case)
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn no_write_passes_as_a_read(pre in trivia(), kw in write_keyword(), sep in "[ (\n\"'*]?", rest in ".{0,40}") {
            let stmt = format!("{pre}{kw}{sep}{rest}");
            if let Ok(kind) = classify(&stmt) {
                prop_assert!(!kind.is_read_only(), "{stmt:?} classified as a read");
            }
        }

        #[test]
        fn a_select_behind_trivia_is_a_read(pre in trivia(), kw in any_case("SELECT"), rest in "[ a-z*,=0-9\"]{0,30}") {
            let rest = if rest.matches('"').count() % 2 == 1 { format!("{rest}\"") } else { rest };
            let stmt = format!("{pre}{kw} {rest}");
            prop_assert_eq!(classify(&stmt), Ok(StatementKind::Select), "{:?}", stmt);
        }

        #[test]
        fn any_text_is_classified_or_refused_without_a_panic(s in any::<String>(), t in "[-/*'\" a-zA-Z\n]{0,40}") {
            for stmt in [&s, &t] {
                let _ = table_name(stmt);
                if let Ok(kind) = classify(stmt) {
                    // A read must really start with the keyword, after trivia.
                    if kind.is_read_only() {
                        let upper = stmt.to_ascii_uppercase();
                        prop_assert!(upper.contains("SELECT"), "{stmt:?}");
                    }
                }
            }
        }

        #[test]
        fn the_table_is_found_however_it_is_quoted(
            pre in trivia(), lead in prop::sample::select(vec!["DELETE FROM", "INSERT INTO", "UPDATE", "SELECT * FROM", "select a, b from"]),
            name in "[A-Za-z0-9_.\" -]{1,20}", tail in "( WHERE pk = 'x'| VALUE \\{'pk': 'a'\\}| SET a = 1)?",
        ) {
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            let stmt = format!("{pre}{lead} {quoted}{tail}");
            prop_assert_eq!(table_name(&stmt), Ok(Some(name.clone())), "{:?}", stmt);
        }
    }
}
