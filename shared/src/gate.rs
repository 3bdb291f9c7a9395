//! Which tools a server lists, decided once at start-up from data each tool declares
//! ([`ToolSpec`]): the capability it needs (`writes`, `invoke`, `generate`, each behind its own
//! flag), the AWS operations it may call (for the read-only session policy and
//! `--print-iam-policy`), and the operator's `--tools` / `--exclude-tools`. A hidden tool is
//! neither listed nor callable; a call to it is told which flag would enable it.

use std::collections::{BTreeMap, BTreeSet};

use rmcp::handler::server::router::tool::ToolRouter;
use serde_json::{Value, json};

use crate::{Op, ToolError, aws::ConfigError, config::CommonArgs};

/// A capability a tool needs beyond reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// Changes AWS resources (`--allow-writes`).
    Writes,
    /// Runs code (`--allow-invoke`).
    Invoke,
    /// Runs a model, which costs money (`--allow-generate`).
    Generate,
}

impl Capability {
    pub fn flag(self) -> &'static str {
        match self {
            Self::Writes => "--allow-writes",
            Self::Invoke => "--allow-invoke",
            Self::Generate => "--allow-generate",
        }
    }

    fn enabled(self, args: &CommonArgs) -> bool {
        match self {
            Self::Writes => args.allow_writes,
            Self::Invoke => args.allow_invoke,
            Self::Generate => args.allow_generate,
        }
    }
}

/// What one tool declares about itself, beside its `#[tool]` definition.
#[derive(Clone, Copy, Debug)]
pub struct ToolSpec {
    pub name: &'static str,
    /// Hidden unless this capability is enabled.
    pub needs: Option<Capability>,
    /// Every AWS operation the tool may call.
    pub ops: &'static [Op],
    /// A read tool whose input can also write once this capability is on (DynamoDB's PartiQL):
    /// with it enabled the tool is listed with write annotations and this description.
    pub escalates: Option<(Capability, &'static str)>,
}

impl ToolSpec {
    pub const fn read(name: &'static str, ops: &'static [Op]) -> Self {
        Self {
            name,
            needs: None,
            ops,
            escalates: None,
        }
    }

    pub const fn needs(name: &'static str, capability: Capability, ops: &'static [Op]) -> Self {
        Self {
            name,
            needs: Some(capability),
            ops,
            escalates: None,
        }
    }

    pub const fn escalates(mut self, capability: Capability, description: &'static str) -> Self {
        self.escalates = Some((capability, description));
        self
    }
}

/// Why a tool is hidden: the flag that would list it.
pub(crate) type Hidden = BTreeMap<String, String>;

/// The outcome of gating: the listed router, what is hidden and why, and the IAM actions of the
/// listed tools.
pub(crate) struct Gated<S> {
    pub router: ToolRouter<S>,
    pub hidden: Hidden,
    pub actions: BTreeSet<&'static str>,
}

/// Apply capabilities and `--tools`/`--exclude-tools` to `router` (every tool the server has).
pub(crate) fn apply<S: Send + Sync + 'static>(
    router: ToolRouter<S>,
    specs: &[ToolSpec],
    args: &CommonArgs,
) -> Result<Gated<S>, ConfigError> {
    check_specs(&router, specs).map_err(ConfigError::Internal)?;
    let all: BTreeSet<&str> = specs.iter().map(|s| s.name).collect();
    for (flag, names) in [("--tools", &args.tools), ("--exclude-tools", &args.exclude_tools)] {
        let unknown: Vec<&str> = names
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty() && !all.contains(n))
            .collect();
        if !unknown.is_empty() {
            return Err(ConfigError::UnknownTools {
                flag,
                unknown: unknown.join(", "),
                valid: all.iter().copied().collect::<Vec<_>>().join(", "),
            });
        }
    }
    let only: BTreeSet<&str> = args.tools.iter().map(|n| n.trim()).filter(|n| !n.is_empty()).collect();
    let mut gated = Gated {
        router: ToolRouter::new(),
        hidden: Hidden::new(),
        actions: BTreeSet::new(),
    };
    for mut route in router {
        let name = route.attr.name.to_string();
        let Some(spec) = specs.iter().find(|s| s.name == name) else {
            continue;
        };
        let reason = if let Some(cap) = spec.needs.filter(|c| !c.enabled(args)) {
            Some(cap.flag())
        } else if !only.is_empty() && !only.contains(name.as_str()) {
            Some("--tools")
        } else if args.exclude_tools.iter().any(|n| n.trim() == name) {
            Some("--exclude-tools")
        } else {
            None
        };
        if let Some(flag) = reason {
            gated.hidden.insert(name, flag.to_owned());
            continue;
        }
        if let Some((cap, description)) = spec.escalates.filter(|(c, _)| c.enabled(args)) {
            let _ = cap;
            let a = route.attr.annotations.get_or_insert_with(Default::default);
            a.read_only_hint = Some(false);
            a.destructive_hint = Some(true);
            a.idempotent_hint = Some(false);
            route.attr.description = Some(description.into());
        }
        gated.actions.extend(spec.ops.iter().map(|o| o.iam_action));
        gated.router.add_route(route);
    }
    Ok(gated)
}

/// Every tool of the router has a spec and every spec a tool; a tool behind a capability is not
/// annotated read-only, and a read-only tool is not destructive. Servers run this in a unit test
/// (and [`apply`] refuses to start on a mismatch).
pub fn check_specs<S: Send + Sync + 'static>(router: &ToolRouter<S>, specs: &[ToolSpec]) -> Result<(), String> {
    let tools = router.list_all();
    for t in &tools {
        let Some(spec) = specs.iter().find(|s| s.name == t.name) else {
            return Err(format!("tool {} has no ToolSpec", t.name));
        };
        let read_only = crate::safety::is_read_only(t);
        if spec.needs.is_some() && read_only {
            return Err(format!("tool {} needs a capability but is annotated read-only", t.name));
        }
        if spec.needs.is_none() && !read_only {
            return Err(format!("tool {} writes but declares no capability", t.name));
        }
        if spec.ops.is_empty() {
            return Err(format!("tool {} declares no AWS operation", t.name));
        }
    }
    if let Some(s) = specs.iter().find(|s| !tools.iter().any(|t| t.name == s.name)) {
        return Err(format!("ToolSpec {} has no tool", s.name));
    }
    crate::safety::check_tool_invariants(&tools)
}

/// An IAM policy allowing exactly `actions` (sorted, deduplicated).
pub fn policy<'a>(actions: impl IntoIterator<Item = &'a str>, extra: Vec<Value>) -> Value {
    let actions: BTreeSet<&str> = actions.into_iter().collect();
    let mut statements = vec![json!({
        "Sid": "McpTools",
        "Effect": "Allow",
        "Action": actions.into_iter().collect::<Vec<_>>(),
        "Resource": "*",
    })];
    statements.extend(extra);
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// The error a call to a hidden tool gets.
pub(crate) fn hidden_error(tool: &str, flag: &str) -> ToolError {
    ToolError::NotEnabled {
        tool: tool.to_owned(),
        flag: flag.to_owned(),
    }
}
