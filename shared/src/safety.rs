//! One safety model for every server: read-only by default (tools that change anything are not
//! even listed without `--allow-writes`), accurate annotations on every tool, and glob allowlists
//! on resource names enforced by every tool, resource and listing.

use globset::{Glob, GlobSet, GlobSetBuilder};
use rmcp::{handler::server::router::tool::ToolRouter, model::ToolAnnotations};

use crate::ToolError;

/// Names a server may touch, e.g. `--bucket 'logs-*'`. No patterns: everything is allowed.
#[derive(Clone, Debug)]
pub struct Allowlist {
    kind: &'static str,
    flag: &'static str,
    patterns: Vec<String>,
    set: Option<GlobSet>,
}

impl Allowlist {
    /// `kind` names the resource in errors (`bucket`), `flag` the option that extends the list.
    pub fn new(kind: &'static str, flag: &'static str, patterns: &[String]) -> Result<Self, globset::Error> {
        // An empty variable (`MCP_S3_BUCKETS=`) means "not set", not "a name that is empty".
        let patterns: Vec<String> = patterns.iter().filter(|p| !p.trim().is_empty()).cloned().collect();
        let patterns = patterns.as_slice();
        let set = if patterns.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for p in patterns {
                // `*` must not stop at `/`: resource names are not paths.
                b.add(Glob::new(p)?);
            }
            Some(b.build()?)
        };
        Ok(Self {
            kind,
            flag,
            patterns: patterns.to_vec(),
            set,
        })
    }

    /// The allowlist of a server flag, with a bad pattern reported as a start-up error naming it.
    pub fn from_flag(kind: &'static str, flag: &'static str, patterns: &[String]) -> Result<Self, crate::ConfigError> {
        Self::new(kind, flag, patterns).map_err(|e| crate::ConfigError::Flag {
            flag,
            message: format!("not a valid glob pattern: {e}"),
        })
    }

    pub fn allow_all(kind: &'static str, flag: &'static str) -> Self {
        Self {
            kind,
            flag,
            patterns: vec![],
            set: None,
        }
    }

    pub fn is_restricted(&self) -> bool {
        self.set.is_some()
    }

    /// The prefix every allowed name starts with (the common literal start of the patterns), so
    /// listings can ask AWS for just those names. Empty when unrestricted.
    pub fn literal_prefix(&self) -> String {
        let literal = |p: &String| {
            p.chars()
                .take_while(|c| !matches!(c, '*' | '?' | '[' | '{' | '\\'))
                .collect::<String>()
        };
        let mut iter = self.patterns.iter().map(literal);
        let Some(first) = iter.next() else { return String::new() };
        iter.fold(first, |acc, p| {
            acc.chars()
                .zip(p.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect()
        })
    }

    /// Combine a caller's name prefix with [`Allowlist::literal_prefix`]: the prefix to list with,
    /// or `None` when no allowed name can have the caller's prefix.
    pub fn narrow(&self, prefix: Option<&str>) -> Option<Option<String>> {
        let ours = self.literal_prefix();
        let theirs = prefix.unwrap_or("");
        let longer = if ours.starts_with(theirs) {
            ours
        } else if theirs.starts_with(&ours) {
            theirs.to_owned()
        } else {
            return None;
        };
        Some((!longer.is_empty()).then_some(longer))
    }

    pub fn allows(&self, name: &str) -> bool {
        self.set.as_ref().is_none_or(|s| s.is_match(name))
    }

    pub fn check(&self, name: &str) -> Result<(), ToolError> {
        if self.allows(name) {
            Ok(())
        } else {
            Err(ToolError::NotAllowed {
                kind: self.kind,
                name: name.to_owned(),
                patterns: self.patterns.join(", "),
                flag: self.flag,
            })
        }
    }
}

/// Annotations for a tool that only reads.
pub fn read_only() -> ToolAnnotations {
    ToolAnnotations::new()
        .read_only(true)
        .destructive(false)
        .idempotent(true)
        .open_world(true)
}

/// Remove every tool not annotated read-only unless writes are allowed. Tools must declare
/// `read_only_hint` explicitly: a tool without it counts as a write.
pub fn gate_writes<S: Send + Sync + 'static>(router: ToolRouter<S>, allow_writes: bool) -> ToolRouter<S> {
    if allow_writes {
        return router;
    }
    let mut gated = ToolRouter::new();
    for route in router {
        if is_read_only(&route.attr) {
            gated.add_route(route);
        }
    }
    gated
}

pub fn is_read_only(tool: &rmcp::model::Tool) -> bool {
    tool.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true)
}

/// Invariants every server's tool list must satisfy; servers call this from a unit test.
pub fn check_tool_invariants(tools: &[rmcp::model::Tool]) -> Result<(), String> {
    let mut names = std::collections::HashSet::new();
    for t in tools {
        let name = t.name.as_ref();
        if !names.insert(name.to_owned()) {
            return Err(format!("duplicate tool {name}"));
        }
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(format!("tool {name}: names are snake_case"));
        }
        let desc = t.description.as_deref().unwrap_or("");
        if desc.is_empty() || desc.len() > 600 {
            return Err(format!(
                "tool {name}: description must be 1..=600 bytes, is {}",
                desc.len()
            ));
        }
        let Some(a) = &t.annotations else {
            return Err(format!("tool {name}: no annotations"));
        };
        if a.read_only_hint.is_none()
            || a.destructive_hint.is_none()
            || a.idempotent_hint.is_none()
            || a.open_world_hint.is_none()
        {
            return Err(format!("tool {name}: all four hints must be set"));
        }
        if a.read_only_hint == Some(true) && a.destructive_hint == Some(true) {
            return Err(format!("tool {name}: read-only tools cannot be destructive"));
        }
        if a.title.is_none() {
            return Err(format!("tool {name}: needs a title"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_allowlist_allows_everything() {
        let a = Allowlist::new("bucket", "--bucket", &[]).unwrap();
        assert!(a.allows("anything") && !a.is_restricted());
    }

    #[test]
    fn globs_match_whole_names() {
        let a = Allowlist::new("bucket", "--bucket", &["logs-*".into(), "exact".into()]).unwrap();
        assert!(a.allows("logs-2024") && a.allows("exact"));
        assert!(!a.allows("my-logs-2024") && !a.allows("exactly"));
        let e = a.check("other").unwrap_err();
        assert_eq!(e.kind(), "not_allowed");
        assert!(e.to_string().contains("--bucket"), "{e}");
    }

    #[test]
    fn listings_are_narrowed_to_the_allowed_prefix() {
        let a = Allowlist::new("bucket", "--bucket", &["logs-prod-*".into(), "logs-dev".into()]).unwrap();
        assert_eq!(a.literal_prefix(), "logs-");
        assert_eq!(a.narrow(None), Some(Some("logs-".into())));
        assert_eq!(a.narrow(Some("logs-pr")), Some(Some("logs-pr".into())));
        assert_eq!(a.narrow(Some("other")), None);
        let open = Allowlist::allow_all("bucket", "--bucket");
        assert_eq!(open.narrow(None), Some(None));
        assert_eq!(open.narrow(Some("x")), Some(Some("x".into())));
    }

    #[test]
    fn an_empty_pattern_is_no_pattern() {
        let a = Allowlist::new("bucket", "--bucket", &["".into(), " ".into()]).unwrap();
        assert!(!a.is_restricted() && a.allows("anything"));
    }

    #[test]
    fn bad_patterns_are_reported() {
        assert!(Allowlist::new("bucket", "--bucket", &["[".into()]).is_err());
    }
}
