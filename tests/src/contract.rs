//! The promises every server makes, checked from its live `tools/list` rather than from a list of
//! tools kept by hand: a tool added later is checked without anyone remembering to.
//!
//! A server's e2e test binary describes itself with a [`Contract`] and calls
//! [`crate::contract_tests!`], which generates one `#[tokio::test]` per check:
//!
//! ```ignore
//! // servers/s3/tests/e2e/contract.rs
//! use aws_mcp_tests::contract::{Allowlist, BoxFuture, Contract};
//!
//! fn one_bucket(prefix: String) -> BoxFuture<'static, String> {
//!     Box::pin(async move { aws_mcp_tests::fixtures::s3::bucket_named(&prefix, &[]).await })
//! }
//!
//! const CONTRACT: Contract = Contract {
//!     bin: "aws-s3-mcp",
//!     allowlist: Some(Allowlist { flag: "--bucket", argument: "bucket" }),
//!     setup: Some(one_bucket),
//!     capability_flags: &["--allow-writes"],
//!     has_resources: true,
//!     resources_page: 100,
//!     extra_args: &[],
//! };
//!
//! aws_mcp_tests::contract_tests!(CONTRACT);
//! ```
//!
//! Options after the contract: `teardown = f` deletes what `setup` made (a [`Teardown`]);
//! `launch = f` starts the server of the checks that reach AWS (audit, resources) its own way (a
//! [`Launcher`]), for a server whose emulator needs a pass-through (Bedrock KB: moto's control
//! plane behind the rig's fake endpoint). Both may be given, in that order.
//!
//! | generated test | checks |
//! |---|---|
//! | `contract_annotations_are_complete_and_consistent` | a title and all four hints on every tool; read-only tools are not destructive; a tool behind a capability flag is not read-only |
//! | `contract_tools_list_is_sorted_and_within_budget` | sorted by name; `{name, description, inputSchema}` averages ≤ 700 bytes a tool and ≤ 8 KB in all; every property schema is an object |
//! | `contract_capability_tools_are_hidden_and_name_their_flag` | each flag's tools are absent without it; calling one anyway is a tool error of kind `not_enabled` naming the flag |
//! | `contract_tools_and_exclude_tools_filter_the_list` | `--tools a` lists only `a`, `--exclude-tools a` hides it; a hidden tool's call names the flag (`not_enabled`) |
//! | `contract_an_unknown_tool_name_stops_start_up` | `--tools no_such_tool` exits non-zero listing the valid names |
//! | `contract_the_allowlist_refuses_other_names_in_every_tool` | every tool whose schema takes the constrained argument refuses a name outside the allowlist (`not_allowed`) |
//! | `contract_invalid_arguments_are_named_before_any_aws_call` | an unknown argument, a wrong type, a missing required argument: `invalid_argument` naming the field, and no request reaches AWS (a [`crate::fake::Fake`] counts) |
//! | `contract_one_audit_line_per_call_and_no_secrets_in_logs` | one `tool call` line with `tool=<name>` per call; no argument value in any log line; the secret key in no log line and no result |
//! | `contract_resources_list_pages_with_a_cursor` | `resources/list` under a small budget pages with cursors, each resource once, and every resource made reads back under its own URI (servers with resources) |
//!
//! Tool arguments are generated from each tool's `inputSchema` ([`sample_args`]): the first enum
//! value, `"x"` for strings, the minimum (or 1) for numbers, `false`, `[]`, `{}`.

use std::{any::Any, collections::BTreeSet, future::Future, pin::Pin, time::Duration};

use futures::StreamExt;
use serde_json::{Map, Value, json};

pub use crate::schema_sample::{SAMPLE, sample_args, sample_args_with, sample_value, schema_of, types_of, wrong_value};
use crate::{Mcp, McpBuilder, fake::Fake, text, unique};

/// A boxed future, for [`Contract::setup`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The server's allowlist: its flag, and the tool argument it constrains.
#[derive(Clone, Copy, Debug)]
pub struct Allowlist {
    /// `--bucket`, `--table`, `--function`…; the contract passes `{prefix}*`.
    pub flag: &'static str,
    /// The argument holding the resource name in tool schemas: `bucket`, `table`…
    pub argument: &'static str,
}

/// What [`crate::contract_tests!`] needs to know about a server.
#[derive(Clone, Copy)]
pub struct Contract {
    /// The binary, e.g. `aws-s3-mcp` (its services come from [`crate::emulators::SERVERS`]).
    pub bin: &'static str,
    pub allowlist: Option<Allowlist>,
    /// Make one real resource whose name starts with the given prefix (and so matches the
    /// allowlist `{prefix}*`); returns its name. Used by the audit and resources checks.
    pub setup: Option<fn(String) -> BoxFuture<'static, String>>,
    /// Flags that each enable tools (`--allow-writes`, `--allow-invoke`, `--allow-generate`).
    pub capability_flags: &'static [&'static str],
    /// Whether the server lists MCP resources (one per resource [`Contract::setup`] makes).
    pub has_resources: bool,
    /// The server's `resources/list` page size (0 if only the output budget cuts pages): the
    /// resources check makes one more resource than this (at least 8).
    pub resources_page: usize,
    /// Arguments every start gets.
    pub extra_args: &'static [&'static str],
}

/// Deletes a resource [`Contract::setup`] made (clean-up after the audit and resources checks; give
/// it as `contract_tests!(CONTRACT, teardown = drop_bucket)`).
pub type Teardown = fn(String) -> BoxFuture<'static, ()>;

/// A server made ready to start by a [`Launcher`], and what must live as long as it does.
pub struct Launch {
    pub builder: McpBuilder,
    /// Dropped after the server (a fake endpoint passing calls through to an emulator, say).
    pub guard: Box<dyn Any + Send>,
}

/// Points the server of the checks that reach AWS (audit, resources) where its calls must go,
/// given the builder the check made (binary, flags, environment, log file); without one, the
/// emulators of its services ([`crate::emulators::SERVERS`]). Give it as
/// `contract_tests!(CONTRACT, launch = through_rig)`.
pub type Launcher = fn(McpBuilder) -> BoxFuture<'static, Launch>;

/// `builder`, through `launch` when there is one; keep the guard until the server is gone.
async fn launched(builder: McpBuilder, launch: Option<Launcher>) -> (McpBuilder, Option<Box<dyn Any + Send>>) {
    match launch {
        Some(l) => {
            let Launch { builder, guard } = l(builder).await;
            (builder, Some(guard))
        }
        None => (builder, None),
    }
}

/// The planted value: looks like an access key id; must never reach a log line.
pub const PLANTED: &str = "AKIAIOSFODNN7EXAMPLE";
/// The planted secret access key (given to the server as `AWS_SECRET_ACCESS_KEY`).
pub const PLANTED_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// An argument no tool takes.
pub const UNKNOWN_ARGUMENT: &str = "zz_not_an_argument";

/// Average and total budget of `tools/list` (`{name, description, inputSchema}` as JSON).
pub const TOOL_AVERAGE_BYTES: usize = 700;
pub const TOOLS_TOTAL_BYTES: usize = 8192;

impl Contract {
    fn args<'a>(&'a self, more: &[&'a str]) -> Vec<&'a str> {
        let mut a: Vec<&str> = self.extra_args.to_vec();
        a.extend_from_slice(more);
        a
    }

    /// A server with `flags`, every AWS call going to `fake`.
    async fn against(&self, fake: &Fake, flags: &[&str]) -> Mcp {
        Mcp::builder(self.bin)
            .args(&self.args(flags))
            .everything_at(&fake.url())
            .start()
            .await
    }

    fn all_flags(&self) -> Vec<&'static str> {
        self.capability_flags.to_vec()
    }
}

/// The tools listed, as JSON (`name`, `title`, `description`, `inputSchema`, `annotations`).
pub async fn tools_json(mcp: &Mcp) -> Vec<Value> {
    mcp.tools()
        .await
        .iter()
        .map(|t| serde_json::to_value(t).expect("tool as JSON"))
        .collect()
}

fn names(tools: &[Value]) -> BTreeSet<String> {
    tools
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The tool error's `error` object, or a description of what came back instead.
async fn refusal(mcp: &Mcp, tool: &str, args: &Map<String, Value>) -> Result<Value, String> {
    match mcp.try_call(tool, Value::Object(args.clone())).await {
        Err(e) => Err(format!("{tool}: a protocol-level error instead of a tool error: {e}")),
        Ok(r) if r.is_error != Some(true) => Err(format!(
            "{tool}({}) succeeded: {}",
            Value::Object(args.clone()),
            text(&r)
        )),
        Ok(r) => {
            let t = text(&r);
            Ok(match r.structured_content {
                Some(v) => {
                    let mut e = v["error"].clone();
                    if let Some(o) = e.as_object_mut() {
                        o.insert("_text".into(), json!(t));
                    }
                    e
                }
                None => json!({ "_text": t }),
            })
        }
    }
}

/// Collected failures, reported together so one run shows every broken tool.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, msg: impl FnOnce() -> String) {
        if !ok {
            self.0.push(msg());
        }
    }

    fn finish(self, what: &str) {
        assert!(
            self.0.is_empty(),
            "{what}: {} failure(s):\n- {}",
            self.0.len(),
            self.0.join("\n- ")
        );
    }
}

/// Annotations: a title and all four hints; read-only ⇒ not destructive; a tool that needs a
/// capability flag is not read-only.
pub async fn annotations(c: &Contract) {
    let fake = Fake::start().await;
    let base = tools_json(&c.against(&fake, &[]).await).await;
    let full = tools_json(&c.against(&fake, &c.all_flags()).await).await;
    let base_names = names(&base);
    let mut f = Failures::default();
    for (listing, tools) in [("without flags", &base), ("with every flag", &full)] {
        for t in tools {
            let name = t["name"].as_str().unwrap_or_default();
            let a = &t["annotations"];
            f.check(a.is_object(), || format!("{name} ({listing}): no annotations"));
            f.check(t["title"].is_string() || a["title"].is_string(), || {
                format!("{name} ({listing}): no title")
            });
            for hint in ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] {
                f.check(a[hint].is_boolean(), || {
                    format!("{name} ({listing}): {hint} is not set")
                });
            }
            if a["readOnlyHint"] == true {
                f.check(a["destructiveHint"] == false, || {
                    format!(
                        "{name} ({listing}): read-only but destructiveHint is {}",
                        a["destructiveHint"]
                    )
                });
            }
            if !base_names.contains(name) {
                f.check(a["readOnlyHint"] == false, || {
                    format!(
                        "{name} needs a capability flag but readOnlyHint is {}",
                        a["readOnlyHint"]
                    )
                });
            }
        }
    }
    f.finish(&format!("{}: annotations", c.bin));
}

/// `tools/list` is sorted by name, within the size budget, and every property schema is an object.
pub async fn tools_list_budget(c: &Contract) {
    let fake = Fake::start().await;
    let tools = tools_json(&c.against(&fake, &c.all_flags()).await).await;
    let mut f = Failures::default();
    let listed: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap_or_default()).collect();
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    f.check(listed == sorted, || format!("not sorted by name: {listed:?}"));
    let mut sizes = Vec::new();
    for t in &tools {
        let name = t["name"].as_str().unwrap_or_default();
        let size = json!({"name": t["name"], "description": t["description"], "inputSchema": t["inputSchema"]})
            .to_string()
            .len();
        sizes.push(format!("{name} {size}"));
        if let Some(props) = t["inputSchema"]["properties"].as_object() {
            for (p, schema) in props {
                f.check(schema.is_object(), || {
                    format!("{name}.{p}: property schema is {schema}, not an object")
                });
            }
        }
    }
    let total: usize = sizes
        .iter()
        .filter_map(|s| s.rsplit(' ').next()?.parse::<usize>().ok())
        .sum();
    let average = total / tools.len().max(1);
    f.check(average <= TOOL_AVERAGE_BYTES, || {
        format!(
            "{average} bytes a tool on average (budget {TOOL_AVERAGE_BYTES}); sizes: {}",
            sizes.join(", ")
        )
    });
    f.check(total <= TOOLS_TOTAL_BYTES, || {
        format!("{total} bytes of tools in all (budget {TOOLS_TOTAL_BYTES})")
    });
    f.finish(&format!("{}: tools/list", c.bin));
}

fn check_not_enabled(f: &mut Failures, tool: &str, flag: &str, got: Result<Value, String>) {
    match got {
        Err(e) => f.0.push(e),
        Ok(e) => {
            f.check(e["kind"] == "not_enabled", || {
                format!("{tool}: kind is {} (want not_enabled): {e}", e["kind"])
            });
            f.check(e.to_string().contains(flag), || {
                format!("{tool}: the error does not name {flag}: {e}")
            });
        }
    }
}

/// Each capability flag's tools are absent without it; calling one anyway names the flag.
pub async fn capabilities(c: &Contract) {
    let fake = Fake::start().await;
    let plain = c.against(&fake, &[]).await;
    let base = names(&tools_json(&plain).await);
    let mut f = Failures::default();
    for flag in c.capability_flags {
        let with = tools_json(&c.against(&fake, &[flag]).await).await;
        let gated: Vec<&Value> = with
            .iter()
            .filter(|t| !base.contains(t["name"].as_str().unwrap_or_default()))
            .collect();
        f.check(!gated.is_empty(), || format!("{flag} enables no tool"));
        for t in gated {
            let name = t["name"].as_str().unwrap_or_default();
            let got = refusal(&plain, name, &sample_args(t)).await;
            check_not_enabled(&mut f, name, flag, got);
        }
    }
    f.check(fake.count() == 0, || {
        format!("{} AWS request(s) were sent", fake.count())
    });
    f.finish(&format!("{}: capability flags", c.bin));
}

/// `--tools` and `--exclude-tools` filter the list; a filtered tool's call names the flag.
pub async fn tool_filters(c: &Contract) {
    let fake = Fake::start().await;
    let all = tools_json(&c.against(&fake, &[]).await).await;
    assert!(all.len() >= 2, "{}: the filter check needs two read tools", c.bin);
    let (first, second) = (&all[0], &all[1]);
    let (a, b) = (
        first["name"].as_str().unwrap().to_owned(),
        second["name"].as_str().unwrap().to_owned(),
    );
    let mut f = Failures::default();
    let only = c.against(&fake, &["--tools", &a]).await;
    let listed = names(&tools_json(&only).await);
    f.check(listed == BTreeSet::from([a.clone()]), || {
        format!("--tools {a} lists {listed:?}")
    });
    check_not_enabled(&mut f, &b, "--tools", refusal(&only, &b, &sample_args(second)).await);
    let without = c.against(&fake, &["--exclude-tools", &a]).await;
    let listed = names(&tools_json(&without).await);
    f.check(!listed.contains(&a) && listed.contains(&b), || {
        format!("--exclude-tools {a} lists {listed:?}")
    });
    check_not_enabled(
        &mut f,
        &a,
        "--exclude-tools",
        refusal(&without, &a, &sample_args(first)).await,
    );
    f.finish(&format!("{}: --tools / --exclude-tools", c.bin));
}

/// `--tools no_such_tool` stops start-up, listing the valid names.
pub async fn unknown_tool_name(c: &Contract) {
    let fake = Fake::start().await;
    let valid = names(&tools_json(&c.against(&fake, &c.all_flags()).await).await);
    let mut cmd = tokio::process::Command::new(crate::server_bin(c.bin));
    crate::emulators::clear_aws_env(&mut cmd);
    cmd.args(c.args(&["--tools", "no_such_tool"]))
        .envs(crate::emulators::aws_env(&[], &fake.url()))
        .env("RUST_BACKTRACE", "0")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} --tools no_such_tool did not exit within 30 s (it should refuse to start)",
                c.bin
            )
        })
        .expect("run the server");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{} started with --tools no_such_tool", c.bin);
    assert!(
        stderr.contains("no_such_tool"),
        "the error does not name the unknown tool:\n{stderr}"
    );
    for name in &valid {
        assert!(
            stderr.contains(name.as_str()),
            "the error does not list {name}:\n{stderr}"
        );
    }
    assert!(out.stdout.is_empty(), "stdout belongs to MCP");
}

/// Every tool whose schema takes the allowlisted argument refuses a name outside the allowlist.
pub async fn allowlist(c: &Contract) {
    let Some(al) = c.allowlist else { return };
    let fake = Fake::start().await;
    let prefix = unique("ct-allowed");
    let pattern = format!("{prefix}*");
    let other = unique("ct-other");
    let mut flags = c.all_flags();
    flags.extend([al.flag, pattern.as_str()]);
    let mcp = c.against(&fake, &flags).await;
    let tools = tools_json(&mcp).await;
    let mut f = Failures::default();
    let mut checked = 0;
    for t in &tools {
        let name = t["name"].as_str().unwrap_or_default();
        if t["inputSchema"]["properties"].get(al.argument).is_none() {
            continue;
        }
        checked += 1;
        // Every other name is inside the allowlist: only `argument` is refused.
        let mut args = sample_args_with(t, &format!("{prefix}-sample"));
        args.insert(al.argument.to_owned(), json!(other));
        match refusal(&mcp, name, &args).await {
            Err(e) => f.0.push(e),
            Ok(e) => {
                f.check(e["kind"] == "not_allowed", || {
                    format!("{name}: kind {} (want not_allowed): {e}", e["kind"])
                });
                f.check(e["name"] == other.as_str(), || {
                    format!("{name}: the refusal does not name {other}: {e}")
                });
            }
        }
    }
    f.check(checked > 0, || format!("no tool takes `{}`", al.argument));
    f.finish(&format!("{}: allowlist {}", c.bin, al.flag));
}

/// Unknown argument, wrong type, missing required argument: `invalid_argument` naming the field,
/// before any AWS call.
pub async fn invalid_arguments(c: &Contract) {
    let fake = Fake::start().await;
    let mcp = c.against(&fake, &c.all_flags()).await;
    let tools = tools_json(&mcp).await;
    let mut f = Failures::default();
    let expect = |f: &mut Failures, tool: &str, case: String, field: &str, got: Result<Value, String>| match got {
        Err(e) => f.0.push(format!("{case}: {e}")),
        Ok(e) => {
            f.check(e["kind"] == "invalid_argument", || {
                format!("{tool} {case}: kind {} (want invalid_argument): {e}", e["kind"])
            });
            f.check(e["field"] == field, || {
                format!("{tool} {case}: field {} (want {field}): {e}", e["field"])
            });
        }
    };
    for t in &tools {
        let name = t["name"].as_str().unwrap_or_default();
        let schema = schema_of(t);
        let base = sample_args(t);
        let mut args = base.clone();
        args.insert(UNKNOWN_ARGUMENT.into(), json!(1));
        expect(
            &mut f,
            name,
            "unknown argument".into(),
            UNKNOWN_ARGUMENT,
            refusal(&mcp, name, &args).await,
        );
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (p, prop) in &props {
            let Some(wrong) = wrong_value(&types_of(schema, prop)) else {
                continue;
            };
            if types_of(schema, prop).is_empty() {
                continue;
            }
            let mut args = base.clone();
            args.insert(p.clone(), wrong.clone());
            expect(
                &mut f,
                name,
                format!("{p} = {wrong}"),
                p,
                refusal(&mcp, name, &args).await,
            );
        }
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let mut args = base.clone();
            args.remove(r);
            expect(
                &mut f,
                name,
                format!("without {r}"),
                r,
                refusal(&mcp, name, &args).await,
            );
        }
    }
    f.check(fake.count() == 0, || {
        format!(
            "{} AWS request(s) were sent for invalid arguments: {:?}",
            fake.count(),
            fake.requests().iter().map(|r| r.operation.clone()).collect::<Vec<_>>()
        )
    });
    f.finish(&format!("{}: invalid arguments", c.bin));
}

/// One audit line per call naming the tool; no argument value in the logs; the secret key in no
/// log line and no result.
pub async fn audit(c: &Contract) {
    audit_then(c, None, None).await;
}

/// [`audit`], with the server started through `launch`, deleting the resource it made with
/// `teardown`.
pub async fn audit_then(c: &Contract, teardown: Option<Teardown>, launch: Option<Launcher>) {
    let prefix = unique("ct-audit");
    let resource = match c.setup {
        Some(setup) => Some(setup(prefix.clone()).await),
        None => None,
    };
    let pattern = format!("{prefix}*");
    let mut flags = c.all_flags();
    if let Some(al) = c.allowlist {
        flags.extend([al.flag, pattern.as_str()]);
    }
    let log = std::env::temp_dir().join(format!("{}.log", unique("contract-audit")));
    let builder = Mcp::builder(c.bin)
        .args(&c.args(&flags))
        .env("AWS_SECRET_ACCESS_KEY", PLANTED_SECRET)
        .log_to(&log);
    let (builder, guard) = launched(builder, launch).await;
    let mcp = builder.start().await;
    let tools = tools_json(&mcp).await;
    let mut calls = Vec::new();
    let mut results = Vec::new();
    for t in &tools {
        let name = t["name"].as_str().unwrap_or_default().to_owned();
        let schema = schema_of(t);
        let mut args = sample_args(t);
        // Plant the key-like value in every string argument the tool takes.
        for (p, prop) in schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if types_of(schema, prop).iter().any(|t| t == "string") && prop.get("enum").is_none() {
                args.insert(p.clone(), json!(PLANTED));
            }
        }
        if let (Some(al), Some(r)) = (c.allowlist, &resource)
            && schema["properties"].get(al.argument).is_some()
        {
            args.insert(al.argument.to_owned(), json!(r));
        }
        let r = mcp
            .try_call(&name, Value::Object(args))
            .await
            .unwrap_or_else(|e| panic!("{name}: protocol-level error: {e}"));
        results.push(serde_json::to_string(&r).unwrap());
        calls.push(name);
    }
    drop(mcp);
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(guard);
    let logs = std::fs::read_to_string(&log).expect("server log");
    let audit: Vec<&str> = logs.lines().filter(|l| l.contains("tool call")).collect();
    let mut f = Failures::default();
    f.check(audit.len() == calls.len(), || {
        format!("{} calls but {} audit lines:\n{logs}", calls.len(), audit.len())
    });
    for (line, tool) in audit.iter().zip(&calls) {
        let named = line.contains(&format!("tool=\"{tool}\""))
            || line.contains(&format!("tool={tool} "))
            || line.ends_with(&format!("tool={tool}"))
            || line.contains(&format!("\"tool\":\"{tool}\""));
        f.check(named, || format!("the audit line for {tool} does not name it: {line}"));
    }
    let mut needles = vec![PLANTED, PLANTED_SECRET];
    if let Some(r) = &resource {
        needles.push(r.as_str());
    }
    for line in logs.lines() {
        for n in &needles {
            f.check(!line.contains(n), || format!("`{n}` is in a log line: {line}"));
        }
    }
    for (tool, r) in calls.iter().zip(&results) {
        f.check(!r.contains(PLANTED_SECRET), || {
            format!("the secret key is in {tool}'s result")
        });
    }
    std::fs::remove_file(&log).ok();
    if let (Some(teardown), Some(r)) = (teardown, resource) {
        teardown(r).await;
    }
    f.finish(&format!("{}: audit", c.bin));
}

/// `resources/list` pages with a cursor: more resources than a page holds, under a 500-token budget.
pub async fn resources_paging(c: &Contract) {
    resources_paging_then(c, None, None).await;
}

/// [`resources_paging`], with the server started through `launch`, deleting the resources it made
/// with `teardown`.
pub async fn resources_paging_then(c: &Contract, teardown: Option<Teardown>, launch: Option<Launcher>) {
    if !c.has_resources {
        return;
    }
    let (Some(setup), Some(al)) = (c.setup, c.allowlist) else {
        panic!(
            "{}: the resources check needs `setup` and `allowlist` to make and isolate resources",
            c.bin
        );
    };
    let prefix = unique("ct-res");
    let count = (c.resources_page + 1).max(8);
    let made: BTreeSet<String> = futures::stream::iter((0..count).map(|_| setup(prefix.clone())))
        .buffer_unordered(16)
        .collect()
        .await;
    let pattern = format!("{prefix}*");
    let builder = Mcp::builder(c.bin).args(&c.args(&[al.flag, &pattern, "--max-output-tokens", "500"]));
    let (builder, _guard) = launched(builder, launch).await;
    let mcp = builder.start().await;
    let (mut seen, mut pages, mut cursors) = (Vec::new(), 0, BTreeSet::new());
    let mut cursor = None;
    loop {
        let params = rmcp::model::PaginatedRequestParams::default().with_cursor(cursor.clone());
        let page = mcp.client.list_resources(Some(params)).await.expect("resources/list");
        pages += 1;
        seen.extend(page.resources.iter().map(|r| (r.name.clone(), r.uri.clone())));
        match page.next_cursor {
            Some(c) => {
                assert!(cursors.insert(c.clone()), "cursor {c} came back twice");
                cursor = Some(c);
            }
            None => break,
        }
        assert!(pages < 1000, "resources/list did not end");
    }
    let listed: Vec<(&String, usize)> = made
        .iter()
        .map(|name| {
            let n = seen
                .iter()
                .filter(|(n, u)| n == name || u.contains(name.as_str()))
                .count();
            (name, n)
        })
        .collect();
    // Every resource made reads back under the URI it was listed with.
    let uris: Vec<String> = seen
        .iter()
        .filter(|(n, u)| made.iter().any(|m| n == m || u.contains(m.as_str())))
        .map(|(_, u)| u.clone())
        .collect();
    let reads: Vec<Result<(), String>> = futures::stream::iter(uris.iter().map(|uri| {
        let client = &mcp.client;
        async move {
            let r = client
                .read_resource(rmcp::model::ReadResourceRequestParams::new(uri.clone()))
                .await
                .map_err(|e| format!("resources/read {uri}: {e}"))?;
            let own = r.contents.iter().any(|c| match c {
                rmcp::model::ResourceContents::TextResourceContents { uri: u, text, .. } => {
                    u == uri && !text.is_empty()
                }
                rmcp::model::ResourceContents::BlobResourceContents { uri: u, blob, .. } => {
                    u == uri && !blob.is_empty()
                }
                _ => false,
            });
            own.then_some(())
                .ok_or_else(|| format!("resources/read {uri}: no non-empty contents under that URI: {r:?}"))
        }
    }))
    .buffer_unordered(8)
    .collect()
    .await;
    drop(mcp);
    if let Some(teardown) = teardown {
        futures::stream::iter(made.iter().cloned().map(teardown))
            .buffer_unordered(16)
            .collect::<Vec<()>>()
            .await;
    }
    for (name, n) in listed {
        assert_eq!(n, 1, "{name} listed {n} times in {pages} pages: {seen:?}");
    }
    let failed: Vec<String> = reads.into_iter().filter_map(Result::err).collect();
    assert!(
        failed.is_empty(),
        "{} of {} resources could not be read:\n- {}",
        failed.len(),
        uris.len(),
        failed.join("\n- ")
    );
    assert!(
        pages >= 2,
        "{count} resources under a 500-token budget fit one page: is resources/list paged?"
    );
}

/// One `#[tokio::test]` per [`crate::contract`] check for the server described by `$contract` (a
/// `const` [`Contract`]). Call it once, in the server's `tests/e2e/contract.rs`:
/// `contract_tests!(CONTRACT);`, with `teardown = drop_bucket` to delete the resources the checks
/// make (a [`Teardown`]), and/or `launch = through_rig` to start the server of the checks that
/// reach AWS its own way (a [`Launcher`]): `contract_tests!(CONTRACT, teardown = t, launch = l);`.
#[macro_export]
macro_rules! contract_tests {
    ($contract:expr) => {
        $crate::contract_tests!(@checks $contract, None, None);
    };
    ($contract:expr, teardown = $teardown:expr) => {
        $crate::contract_tests!(@checks $contract, Some($teardown as $crate::contract::Teardown), None);
    };
    ($contract:expr, launch = $launch:expr) => {
        $crate::contract_tests!(@checks $contract, None, Some($launch as $crate::contract::Launcher));
    };
    ($contract:expr, teardown = $teardown:expr, launch = $launch:expr) => {
        $crate::contract_tests!(
            @checks $contract,
            Some($teardown as $crate::contract::Teardown),
            Some($launch as $crate::contract::Launcher)
        );
    };
    (@checks $contract:expr, $teardown:expr, $launch:expr) => {
        #[tokio::test]
        async fn contract_annotations_are_complete_and_consistent() {
            $crate::contract::annotations(&$contract).await;
        }

        #[tokio::test]
        async fn contract_tools_list_is_sorted_and_within_budget() {
            $crate::contract::tools_list_budget(&$contract).await;
        }

        #[tokio::test]
        async fn contract_capability_tools_are_hidden_and_name_their_flag() {
            $crate::contract::capabilities(&$contract).await;
        }

        #[tokio::test]
        async fn contract_tools_and_exclude_tools_filter_the_list() {
            $crate::contract::tool_filters(&$contract).await;
        }

        #[tokio::test]
        async fn contract_an_unknown_tool_name_stops_start_up() {
            $crate::contract::unknown_tool_name(&$contract).await;
        }

        #[tokio::test]
        async fn contract_the_allowlist_refuses_other_names_in_every_tool() {
            $crate::contract::allowlist(&$contract).await;
        }

        #[tokio::test]
        async fn contract_invalid_arguments_are_named_before_any_aws_call() {
            $crate::contract::invalid_arguments(&$contract).await;
        }

        #[tokio::test]
        async fn contract_one_audit_line_per_call_and_no_secrets_in_logs() {
            $crate::contract::audit_then(&$contract, $teardown, $launch).await;
        }

        #[tokio::test]
        async fn contract_resources_list_pages_with_a_cursor() {
            $crate::contract::resources_paging_then(&$contract, $teardown, $launch).await;
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(schema: Value) -> Value {
        json!({"name": "t", "inputSchema": schema})
    }

    #[test]
    fn sample_arguments_follow_the_schema() {
        let t = tool(json!({
            "type": "object",
            "properties": {
                "bucket": {"type": "string"},
                "page_size": {"type": ["integer", "null"], "minimum": 5},
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "keys": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/Key"}},
                "optional": {"type": "boolean"}
            },
            "required": ["bucket", "page_size", "mode", "keys"],
            "$defs": {"Key": {"type": "object"}}
        }));
        assert_eq!(
            Value::Object(sample_args(&t)),
            json!({"bucket": SAMPLE, "page_size": 5, "mode": "fast", "keys": [{}]})
        );
        assert_eq!(sample_args_with(&t, "p-x")["bucket"], "p-x");
    }

    #[test]
    fn wrong_values_have_a_type_the_property_refuses() {
        let s = |ts: &[&str]| wrong_value(&ts.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>());
        assert_eq!(s(&["integer", "null"]), Some(json!("not-the-right-type")));
        assert_eq!(s(&["string"]), Some(json!(12345)));
        assert_eq!(s(&["string", "integer", "number", "boolean", "object", "array"]), None);
        let root = Map::new();
        assert_eq!(
            types_of(&root, &json!({"anyOf": [{"type": "string"}, {"type": "null"}]})),
            ["string", "null"]
        );
        assert!(types_of(&root, &json!({"description": "any value"})).is_empty());
    }
}
