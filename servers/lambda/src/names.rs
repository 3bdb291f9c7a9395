//! Function references as tools take them (a name, `name:qualifier`, a partial ARN
//! `123456789012:function:name`, or a full ARN), and MCP-safe names for functions-as-tools.

use shared::ToolError;

/// A function as the caller named it: `id` goes to AWS unchanged (so ARNs of other accounts work),
/// `name` is what the allowlist is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FunctionRef {
    pub name: String,
    pub id: String,
}

const NAME_HELP: &str =
    "a function name (letters, digits, - and _, up to 64) or a function ARN; list_functions shows them";

/// Parse `input` (the argument `field`).
pub(crate) fn parse(field: &str, input: &str) -> Result<FunctionRef, ToolError> {
    let id = input.trim();
    let valid_chars = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '$' | '.'))
    };
    if id.is_empty() || id.len() > 170 || !valid_chars(id) {
        return Err(ToolError::invalid(field, NAME_HELP));
    }
    let parts: Vec<&str> = id.split(':').collect();
    let name = match parts.as_slice() {
        [name] | [name, _] => *name,
        // arn:partition:lambda:region:account:function:name[:qualifier]
        ["arn", _, "lambda", _, _, "function", name] | ["arn", _, "lambda", _, _, "function", name, _] => *name,
        // account:function:name[:qualifier]
        [_, "function", name] | [_, "function", name, _] => *name,
        _ => return Err(ToolError::invalid(field, NAME_HELP)),
    };
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        return Err(ToolError::invalid(field, NAME_HELP));
    }
    Ok(FunctionRef {
        name: name.to_owned(),
        id: id.to_owned(),
    })
}

/// The function name in an ARN (ESM and policy output name functions by ARN).
pub(crate) fn name_of_arn(arn: &str) -> &str {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] => name,
        _ => arn,
    }
}

/// The longest MCP tool name many clients accept.
pub(crate) const MAX_TOOL_NAME: usize = 64;

/// `s` with every character outside `[A-Za-z0-9_-]` replaced by `_`.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// FNV-1a: a stable hash (the same in every process and version), for name suffixes.
pub(crate) fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `base` cut so that `-{8 hex digits of hash(key)}` fits within [`MAX_TOOL_NAME`].
pub(crate) fn with_suffix(base: &str, key: &str) -> String {
    let suffix = format!("-{:08x}", stable_hash(key) as u32);
    let keep = MAX_TOOL_NAME - suffix.len();
    let cut: String = base.chars().take(keep).collect();
    format!("{cut}{suffix}")
}

/// The MCP name for `candidate` (already `function___tool` or `function`): sanitized, and cut
/// with a stable hash suffix when too long. `key` identifies the tool (for the hash).
pub(crate) fn tool_name(candidate: &str, key: &str) -> String {
    let clean = sanitize(candidate);
    if clean.is_empty() {
        return with_suffix("tool", key);
    }
    if clean.len() > MAX_TOOL_NAME {
        return with_suffix(&clean, key);
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_partial_and_full_arns() {
        assert_eq!(parse("function", "orders").unwrap().name, "orders");
        assert_eq!(parse("function", "orders:live").unwrap().name, "orders");
        assert_eq!(
            parse("function", "123456789012:function:orders").unwrap().name,
            "orders"
        );
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders:7";
        let r = parse("function", arn).unwrap();
        assert_eq!((r.name.as_str(), r.id.as_str()), ("orders", arn));
        for bad in ["", "a b", "arn:aws:s3:::bucket", "x:y:z:w:v", &"a".repeat(65), "a/b"] {
            let e = parse("function", bad).unwrap_err();
            assert_eq!(e.kind(), "invalid_argument", "{bad}");
        }
        assert_eq!(name_of_arn("arn:aws:lambda:us-east-1:1:function:f:live"), "f");
        assert_eq!(name_of_arn("weird"), "weird");
    }

    #[test]
    fn tool_names_are_valid_stable_and_bounded() {
        assert_eq!(tool_name("weather___get.forecast", "k"), "weather___get_forecast");
        let long = format!("{}___{}", "f".repeat(60), "t".repeat(30));
        let a = tool_name(&long, "f/t");
        assert_eq!(a.len(), MAX_TOOL_NAME);
        assert_eq!(a, tool_name(&long, "f/t"), "stable");
        assert_ne!(a, tool_name(&long, "f/u"), "the key decides the suffix");
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        assert_eq!(stable_hash("abc"), 0xe71fa2190541574b);
    }
}
