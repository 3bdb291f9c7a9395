//! Log group names and ARNs as tools take them, and the group selection an Insights query can make
//! by itself (`SOURCE logGroups(...)`), which the allowlist cannot check name by name.

use shared::ToolError;

/// CloudWatch's rule for a group name: 1-512 of `A-Z a-z 0-9 . - _ / #`.
fn valid_name(name: &str) -> bool {
    (1..=512).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'))
}

/// The group name in `group`, which is a name or an ARN
/// (`arn:aws:logs:<region>:<account>:log-group:<name>`, optionally ending in `:*`). Checked
/// locally, so a typo gets a clear message naming `field` instead of a ValidationException.
pub(crate) fn check<'a>(field: &str, group: &'a str) -> Result<&'a str, ToolError> {
    let name = match group.strip_prefix("arn:") {
        Some(rest) => {
            let Some((_, name)) = rest.split_once(":log-group:") else {
                return Err(ToolError::invalid(
                    field,
                    format!("`{group}` is not a log group ARN (arn:aws:logs:<region>:<account>:log-group:<name>)"),
                ));
            };
            name.strip_suffix(":*").unwrap_or(name)
        }
        None => group,
    };
    if !valid_name(name) {
        let shown: String = group.chars().take(80).collect();
        return Err(ToolError::invalid(
            field,
            format!(
                "`{shown}` is not a log group name (1 to 512 of A-Z a-z 0-9 . - _ / #); describe_log_groups lists them"
            ),
        ));
    }
    Ok(name)
}

pub(crate) fn is_arn(group: &str) -> bool {
    group.starts_with("arn:")
}

/// Whether an Insights query picks log groups itself (the `SOURCE` command or a `logGroups(...)`
/// selection), beyond the groups passed to StartQuery. Comments (`#` to the end of the line) are
/// ignored; quoting is not parsed, so a pipe inside a regex can make this answer yes for a query
/// that does not: a false refusal, never a false pass.
pub(crate) fn selects_groups(query: &str) -> bool {
    let code: String = query
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    if code.to_ascii_lowercase().contains("loggroups(") {
        return true;
    }
    code.split('|').any(|segment| {
        let word: String = segment
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        word.eq_ignore_ascii_case("source")
    })
}

/// Percent-encode the characters of a group name that are not plain in a URI (`#`, `%`).
pub(crate) fn uri_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out
}

/// Decode `%XX` escapes; `None` when an escape is broken or the result is not UTF-8.
pub(crate) fn uri_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns() {
        assert_eq!(check("g", "/aws/lambda/f-1").ok(), Some("/aws/lambda/f-1"));
        assert_eq!(check("g", "a#b.c_d").ok(), Some("a#b.c_d"));
        assert_eq!(
            check("g", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/x:*").ok(),
            Some("/aws/x")
        );
        assert_eq!(check("g", "arn:aws:logs:us-east-1:1:log-group:app").ok(), Some("app"));
        for bad in ["", "has space", "semi;colon", "arn:aws:s3:::bucket", &"x".repeat(513)] {
            let e = check("log_group", bad).unwrap_err();
            assert_eq!(e.kind(), "invalid_argument", "{bad}");
            assert!(e.to_string().contains("`log_group`"), "{e}");
        }
        assert!(is_arn("arn:aws:logs:r:1:log-group:x") && !is_arn("x"));
    }

    #[test]
    fn queries_that_pick_their_own_groups() {
        assert!(selects_groups(
            "SOURCE logGroups(namePrefix: ['/aws']) | fields @message"
        ));
        assert!(selects_groups("fields @message\n| source x"));
        assert!(selects_groups("fields a | filter b | stats count(*) by logGroups( x )"));
        assert!(!selects_groups(
            "fields @timestamp, @message | filter @message like /source/ | limit 5"
        ));
        assert!(!selects_groups("fields @message # SOURCE logGroups(x) in a comment"));
        assert!(!selects_groups("stats count(*) by sourceIp"));
    }

    #[test]
    fn uris_round_trip() {
        for name in ["/aws/lambda/f", "a#b", "odd%name"] {
            assert_eq!(uri_decode(&uri_encode(name)).as_deref(), Some(name));
        }
        assert_eq!(uri_decode("%2"), None);
        assert_eq!(uri_decode("%zz"), None);
    }
}
