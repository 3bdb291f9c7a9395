//! MCP clients nobody here wrote, driving every server binary over stdio and Streamable HTTP
//! against the emulators: the official Python SDK client (PyPI `mcp`), the official TypeScript SDK
//! client (npm `@modelcontextprotocol/sdk`) and the MCP Inspector's CLI. Each client is a script in
//! `tests/clients/` that loops over a plan this file writes (one stdio command and one HTTP URL per
//! server) and prints one JSON report per run; the checks are here.
//!
//! Also: the README's install section (every JSON snippet and `claude mcp add` line is started as
//! the client would start it) and the MCP Bundles of `packaging/mcpb/` (validated with the official
//! `mcpb` CLI, then started with the configuration Claude Desktop computes from them).
//!
//! Needs the clients (`tests/clients/install.sh`), the emulators (`localstack/start.sh`) and the
//! server binaries (`cargo build --workspace --bins`; `cargo test --workspace` builds them).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use aws_mcp_tests::{
    HttpServer,
    emulators::{self, NOWHERE, aws_env, clear_aws_env, emulator_endpoints, services_of},
    region, require, server_bin, unique,
};
use serde_json::{Map, Value, json};

/// The protocol version a client negotiates through `server/discover`.
const MODERN: &str = "2026-07-28";
/// The newest version negotiated through `initialize`.
const HANDSHAKE: &str = "2025-11-25";

/// Every server, the read-only tool each client calls, and the field its successful answer has.
const SERVERS: &[(&str, &str, &str)] = &[
    ("aws-s3-mcp", "list_buckets", "buckets"),
    ("aws-dynamodb-mcp", "list_tables", "tables"),
    ("aws-lambda-mcp", "list_functions", "functions"),
    ("aws-logs-mcp", "describe_log_groups", "log_groups"),
    ("aws-bedrock-kb-mcp", "list_knowledge_bases", "knowledge_bases"),
    ("aws-sts-mcp", "whoami", "account"),
];

/// moto routes ListKnowledgeBases only at `/knowledgebases/` with a trailing slash, which the SDK
/// does not send: it answers 404. The server's tool error naming the operation is still a call
/// answered end to end (transport, dispatch, the SDK call, the error mapping); the Bedrock KB
/// server's own tests cover the success path through a pass-through fake.
const TOOL_ERROR_ACCEPTED: &[(&str, &str)] = &[("aws-bedrock-kb-mcp", "ListKnowledgeBases")];

fn tool_of(bin: &str) -> (&'static str, &'static str) {
    SERVERS
        .iter()
        .find(|(b, _, _)| *b == bin)
        .map(|(_, t, f)| (*t, *f))
        .unwrap_or_else(|| panic!("{bin} has no row in SERVERS"))
}

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

const INSTALL_HINT: &str = "run tests/clients/install.sh (npm and pip installs of the pinned clients)";

/// The venv's Python with the `mcp` package.
fn python() -> PathBuf {
    let home = std::env::var_os("AWS_MCP_CLIENTS_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/aws-mcp-clients"));
    let py = home.join("venv/bin/python");
    assert!(py.exists(), "{} is missing: {INSTALL_HINT}", py.display());
    py
}

/// Node, with the npm clients installed beside the scripts.
fn node() -> &'static str {
    let sdk = clients_dir().join("node_modules/@modelcontextprotocol/sdk/package.json");
    assert!(sdk.exists(), "{} is missing: {INSTALL_HINT}", sdk.display());
    "node"
}

/// What a client gives the stdio server it starts: exactly the emulator endpoints of its
/// services, the region, dummy credentials, nothing from the developer's AWS files.
fn server_env(bin: &str) -> Map<String, Value> {
    let mut env: Map<String, Value> = aws_env(&emulator_endpoints(services_of(bin)), NOWHERE)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    env.insert("RUST_LOG".into(), "warn".into());
    env
}

/// One server for a client script: how to start it (stdio), where it listens (HTTP), what to call.
fn target(label: &str, bin: &str, command: &Path, args: &[String], env: Map<String, Value>, url: &str) -> Value {
    let (tool, _) = tool_of(bin);
    json!({
        "server": label,
        "command": command.to_string_lossy(),
        "args": args,
        "env": env,
        "url": url,
        "tool": tool,
        "arguments": {},
    })
}

/// Every server over Streamable HTTP (`--transport http --bind 127.0.0.1:0`), started together.
async fn http_servers() -> Vec<(&'static str, HttpServer)> {
    for (bin, _, _) in SERVERS {
        require(services_of(bin));
    }
    let started = futures::future::join_all(
        SERVERS
            .iter()
            .map(|(bin, _, _)| async move { HttpServer::start(bin, &[], &[]).await }),
    )
    .await;
    SERVERS.iter().map(|(b, _, _)| *b).zip(started).collect()
}

/// The plan for the three client scripts: every server, by stdio command and by HTTP URL.
fn plan(http: &[(&str, HttpServer)]) -> Value {
    let targets: Vec<Value> = http
        .iter()
        .map(|(bin, h)| target(bin, bin, &server_bin(bin), &[], server_env(bin), &h.url))
        .collect();
    json!({ "targets": targets })
}

/// Run a client script on `plan` and return its reports (one JSON object per stdout line).
async fn run_client(program: &Path, script: &str, plan: &Value) -> Vec<Value> {
    let plan_path = std::env::temp_dir().join(format!("{}.json", unique("clients-plan")));
    std::fs::write(&plan_path, serde_json::to_vec_pretty(plan).expect("plan JSON")).expect("write the plan");
    let mut cmd = tokio::process::Command::new(program);
    // The client (and any stdio server it starts) sees only the endpoints the plan names.
    clear_aws_env(&mut cmd);
    cmd.current_dir(clients_dir())
        .arg(clients_dir().join(script))
        .arg(&plan_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} {script}: {e} ({INSTALL_HINT})", program.display()));
    let out = tokio::time::timeout(Duration::from_secs(180), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{script} took longer than 180 s"))
        .expect("client output");
    let _ = std::fs::remove_file(&plan_path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{}",
        out.status,
        tail(&stderr, 4000)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{script} printed a non-JSON line ({e}): {l}")))
        .collect()
}

fn tail(s: &str, n: usize) -> &str {
    let start = s.len().saturating_sub(n);
    let start = (start..s.len()).find(|i| s.is_char_boundary(*i)).unwrap_or(s.len());
    &s[start..]
}

/// One expected run: the target label, its server binary, transport, client mode, and the protocol
/// version that mode must negotiate.
struct Expected<'a> {
    label: String,
    bin: &'a str,
    transport: &'a str,
    mode: &'a str,
    protocol: &'a str,
}

/// Check that every expected run reported exactly once, without error: the server named itself,
/// the negotiated version is the mode's, `tools/list` has the tool, and the call answered.
/// Returns one summary line per run.
fn check_reports(reports: &[Value], expected: &[Expected]) -> Vec<String> {
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    assert_eq!(
        reports.len(),
        expected.len(),
        "one report per run expected; got:\n{}",
        reports.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")
    );
    for e in expected {
        let found: Vec<&Value> = reports
            .iter()
            .filter(|r| r["server"] == e.label.as_str() && r["transport"] == e.transport && r["mode"] == e.mode)
            .collect();
        let [r] = found.as_slice() else {
            failures.push(format!(
                "{} {} {}: {} reports",
                e.label,
                e.transport,
                e.mode,
                found.len()
            ));
            continue;
        };
        let what = format!("{} over {} ({} mode)", e.label, e.transport, e.mode);
        if let Some(err) = r.get("error") {
            failures.push(format!(
                "{what}: the client failed: {}",
                err.as_str().unwrap_or_default()
            ));
            continue;
        }
        let (tool, field) = tool_of(e.bin);
        if r["server_info"] != e.bin {
            failures.push(format!(
                "{what}: serverInfo.name {} (expected {})",
                r["server_info"], e.bin
            ));
        }
        if r["protocol"] != e.protocol {
            failures.push(format!(
                "{what}: negotiated {} (expected {})",
                r["protocol"], e.protocol
            ));
        }
        let tools: Vec<&str> = r["tools"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !tools.contains(&tool) {
            failures.push(format!("{what}: tools/list lacks {tool}: {tools:?}"));
        }
        let is_error = r["call"]["is_error"].as_bool();
        let text = r["call"]["text"].as_str().unwrap_or_default();
        let outcome = match is_error {
            Some(false) if text.contains(&format!("\"{field}\"")) => "ok".to_owned(),
            Some(true)
                if TOOL_ERROR_ACCEPTED
                    .iter()
                    .any(|(b, op)| *b == e.bin && text.contains(op)) =>
            {
                format!("tool error: {}", text.lines().next().unwrap_or_default())
            }
            _ => {
                failures.push(format!("{what}: {tool} answered {}", r["call"]));
                continue;
            }
        };
        summary.push(format!(
            "{:<26} {:<5} {:<7} {} {} tools, {tool}: {outcome}",
            e.label,
            e.transport,
            e.mode,
            e.protocol,
            tools.len()
        ));
    }
    assert!(failures.is_empty(), "client runs failed:\n{}", failures.join("\n"));
    summary
}

/// The expected runs of a client over both transports of every server.
fn expected_runs<'a>(modes: &[(&'a str, &'a str)]) -> Vec<Expected<'a>> {
    let mut out = Vec::new();
    for (bin, _, _) in SERVERS {
        for transport in ["stdio", "http"] {
            for (mode, protocol) in modes {
                out.push(Expected {
                    label: (*bin).to_owned(),
                    bin,
                    transport,
                    mode,
                    protocol,
                });
            }
        }
    }
    out
}

/// What each run negotiated, for the test log (`--nocapture`).
fn print_summary(what: &str, reports: &[Value], lines: &[String]) {
    let client = reports.first().and_then(|r| r["client"].as_str()).unwrap_or_default();
    eprintln!("{what} ({client}):\n  {}", lines.join("\n  "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_client_drives_every_server_over_stdio_and_http() {
    let py = python();
    let http = http_servers().await;
    let reports = run_client(&py, "py_client.py", &plan(&http)).await;
    // `auto` probes server/discover (2026-07-28); `legacy` runs the initialize handshake.
    let lines = check_reports(&reports, &expected_runs(&[("auto", MODERN), ("legacy", HANDSHAKE)]));
    print_summary("every server", &reports, &lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_sdk_client_drives_every_server_over_stdio_and_http() {
    let node = node();
    let http = http_servers().await;
    let reports = run_client(Path::new(node), "ts_client.mjs", &plan(&http)).await;
    // The 1.x TypeScript SDK has no server/discover: initialize, at its newest version.
    let lines = check_reports(&reports, &expected_runs(&[("initialize", HANDSHAKE)]));
    print_summary("every server", &reports, &lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspector_cli_drives_every_server_over_stdio_and_http() {
    let node = node();
    let http = http_servers().await;
    let reports = run_client(Path::new(node), "inspector_client.mjs", &plan(&http)).await;
    // `--protocol-era modern` (server/discover) for initialize and the call; tools/list runs
    // through the legacy initialize handshake (see inspector_client.mjs).
    let lines = check_reports(&reports, &expected_runs(&[("modern", MODERN)]));
    print_summary("every server", &reports, &lines);
}

// ---- README install section ----------------------------------------------------------------

/// The README's "## Install into an MCP client" section.
fn install_section() -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let start = readme
        .find("## Install into an MCP client")
        .expect("README has a \"## Install into an MCP client\" section");
    let rest = &readme[start..];
    let end = rest[3..].find("\n## ").map(|i| i + 4).unwrap_or(rest.len());
    rest[..end].to_owned()
}

/// The fenced code blocks of `text` whose info string is `lang`.
/// Each with the `###` heading it sits under (the client it configures).
fn code_blocks(text: &str, lang: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut heading = String::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let fence = line.trim_start();
        match &mut current {
            None if line.starts_with("### ") => heading = line[4..].trim().to_owned(),
            None if fence.starts_with("```") && fence[3..].trim() == lang => current = Some(String::new()),
            Some(b) if fence.starts_with("```") => {
                blocks.push((heading.clone(), std::mem::take(b)));
                current = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// POSIX-shell words of one command line: single and double quotes, backslash escapes.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            '#' if word.is_none() => break,
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// A server entry as a client holds it.
#[derive(Debug)]
struct Entry {
    origin: String,
    name: String,
    command: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
}

/// `claude mcp add` parsed the way Claude Code's parser (commander) does: `--env`/`-e` is
/// variadic and takes every following word up to the next option or `--`. Errors are what Claude
/// Code would refuse.
fn parse_claude_mcp_add(words: &[String], origin: &str) -> Result<Entry, String> {
    let mut positional = Vec::new();
    let mut env = BTreeMap::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        match w {
            "--" => {
                positional.extend(words[i + 1..].iter().cloned());
                break;
            }
            "-e" | "--env" => {
                i += 1;
                while i < words.len() && !words[i].starts_with('-') {
                    let Some((k, v)) = words[i].split_once('=') else {
                        return Err(format!(
                            "{origin}: Claude Code would refuse this line: \"Invalid environment variable format: {}\" \
                             (--env swallows the words after it; put the server name first)",
                            words[i]
                        ));
                    };
                    env.insert(k.to_owned(), v.to_owned());
                    i += 1;
                }
                continue;
            }
            "-t" | "--transport" => {
                assert_eq!(
                    words.get(i + 1).map(String::as_str),
                    Some("stdio"),
                    "{origin}: only stdio entries here"
                );
                i += 2;
                continue;
            }
            "-s" | "--scope" => {
                let scope = words.get(i + 1).map(String::as_str).unwrap_or_default();
                assert!(
                    ["local", "user", "project"].contains(&scope),
                    "{origin}: unknown scope {scope:?}"
                );
                i += 2;
                continue;
            }
            o if o.starts_with('-') => panic!("{origin}: `claude mcp add` has no option {o} here"),
            p => positional.push(p.to_owned()),
        }
        i += 1;
    }
    let [name, command, args @ ..] = positional.as_slice() else {
        return Err(format!(
            "{origin}: `claude mcp add` needs a name and a command: {words:?}"
        ));
    };
    Ok(Entry {
        origin: origin.to_owned(),
        name: name.clone(),
        command: command.clone(),
        args: args.to_vec(),
        env,
    })
}

/// The entries of one JSON snippet under `heading`, with the client's own rules: VS Code's key is
/// `servers`, everyone else's `mcpServers`; Kiro refuses an entry without `args`.
fn json_entries(heading: &str, block: &str, origin: &str) -> Vec<Entry> {
    let doc: Value =
        serde_json::from_str(block).unwrap_or_else(|e| panic!("{origin} is not valid JSON ({e}):\n{block}"));
    let key = if heading.contains("VS Code") {
        "servers"
    } else {
        "mcpServers"
    };
    let servers = doc
        .get(key)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{origin} (under {heading:?}) has no {key} object:\n{block}"));
    servers
        .iter()
        .map(|(name, e)| {
            if heading.contains("Kiro") {
                assert!(e.get("args").is_some(), "{origin} {name}: Kiro requires args, even []");
            }
            if let Some(t) = e.get("type") {
                assert_eq!(t, "stdio", "{origin} {name}: only stdio entries are documented");
            }
            let command = e["command"]
                .as_str()
                .unwrap_or_else(|| panic!("{origin} {name}: no command"))
                .to_owned();
            let args = match e.get("args") {
                None => Vec::new(),
                Some(a) => a
                    .as_array()
                    .unwrap_or_else(|| panic!("{origin} {name}: args is not an array"))
                    .iter()
                    .map(|a| {
                        a.as_str()
                            .unwrap_or_else(|| panic!("{origin} {name}: non-string arg {a}"))
                            .to_owned()
                    })
                    .collect(),
            };
            let env = match e.get("env") {
                None => BTreeMap::new(),
                Some(m) => m
                    .as_object()
                    .unwrap_or_else(|| panic!("{origin} {name}: env is not an object"))
                    .iter()
                    .map(|(k, v)| {
                        let v = v
                            .as_str()
                            .unwrap_or_else(|| panic!("{origin} {name}: env {k} is not a string"));
                        (k.clone(), v.to_owned())
                    })
                    .collect(),
            };
            Entry {
                origin: origin.to_owned(),
                name: name.clone(),
                command,
                args,
                env,
            }
        })
        .collect()
}

/// The program a command names, as installed by `cargo install`: `/Users/you/.cargo/bin/aws-s3-mcp`,
/// `C:\...\aws-s3-mcp.exe` and `aws-s3-mcp` are all `aws-s3-mcp`.
fn program_of(command: &str) -> &str {
    let base = command.rsplit(['/', '\\']).next().unwrap_or(command);
    base.strip_suffix(".exe").unwrap_or(base)
}

/// The long options `aws-mcp-proxy` accepts: from its `--help` when built, else its clap source.
fn proxy_flags() -> BTreeSet<String> {
    let help = server_bin_dir().join("aws-mcp-proxy");
    let text = if help.exists() {
        let out = std::process::Command::new(&help)
            .arg("--help")
            .output()
            .expect("aws-mcp-proxy --help");
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        // Not built in this run: the clap definition, `field: ...` names and `long = "..."`.
        let src = std::fs::read_to_string(repo_root().join("proxy/src/main.rs")).expect("proxy/src/main.rs");
        let mut flags = String::new();
        let mut long_next = false;
        for line in src.lines().map(str::trim) {
            if line.starts_with("#[arg(") && line.contains("long") {
                if let Some(explicit) = line.split("long = \"").nth(1).and_then(|r| r.split('"').next()) {
                    flags.push_str(&format!(" --{explicit} "));
                } else {
                    long_next = true;
                }
            } else if long_next && !line.starts_with("#[") && !line.starts_with("///") {
                if let Some(field) = line.split(':').next() {
                    flags.push_str(&format!(" --{} ", field.trim().replace('_', "-")));
                }
                long_next = false;
            }
        }
        flags
    };
    text.split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '[' || c == '<')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_owned)
        .collect()
}

fn server_bin_dir() -> PathBuf {
    server_bin("aws-s3-mcp").parent().expect("bin dir").to_path_buf()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_install_snippets_start_and_answer_as_each_client_would() {
    let section = install_section();
    // The section names every client's file and the install paths the issue asks for.
    for must in [
        "claude_desktop_config.json",
        "~/Library/Application Support/Claude/",
        "%APPDATA%\\Claude\\",
        "~/.config/Claude/",
        "~/.kiro/settings/mcp.json",
        "~/.aws/amazonq/mcp.json",
        "claude mcp add",
        ".mcp.json",
        ".vscode/mcp.json",
        "aws-mcp-proxy",
        "packaging/mcpb/build.sh",
    ] {
        assert!(section.contains(must), "the install section does not mention {must}");
    }

    // `cargo install --path <dir>`: the directory is a crate whose binary is the one named.
    let mut installed = BTreeSet::new();
    for (_, block) in code_blocks(&section, "sh") {
        for line in block.lines() {
            let words = shell_words(line);
            if words.starts_with(&["cargo".into(), "install".into()]) {
                let dir = words
                    .iter()
                    .position(|w| w == "--path")
                    .and_then(|i| words.get(i + 1))
                    .unwrap_or_else(|| panic!("`{line}` has no --path"));
                let manifest = std::fs::read_to_string(repo_root().join(dir).join("Cargo.toml"))
                    .unwrap_or_else(|e| panic!("`{line}`: {dir}/Cargo.toml: {e}"));
                let name = manifest
                    .lines()
                    .find_map(|l| l.strip_prefix("name = \""))
                    .and_then(|r| r.split('"').next())
                    .unwrap_or_else(|| panic!("{dir}/Cargo.toml has no name"));
                installed.insert(name.to_owned());
            }
        }
    }
    for (bin, _, _) in SERVERS {
        assert!(
            installed.contains(*bin),
            "the install section has no `cargo install --path` for {bin}"
        );
    }

    // Every entry of every snippet.
    let mut entries = Vec::new();
    for (i, (heading, block)) in code_blocks(&section, "json").iter().enumerate() {
        entries.extend(json_entries(
            heading,
            block,
            &format!("JSON snippet {} ({heading})", i + 1),
        ));
    }
    for (i, (_, block)) in code_blocks(&section, "sh").iter().enumerate() {
        for line in block.lines() {
            let words = shell_words(line);
            if words.starts_with(&["claude".into(), "mcp".into(), "add".into()]) {
                let origin = format!("sh snippet {} `{line}`", i + 1);
                entries.push(parse_claude_mcp_add(&words[3..], &origin).unwrap_or_else(|e| panic!("{e}")));
            }
        }
    }
    assert!(
        entries.len() >= 6,
        "too few entries in the install section: {entries:?}"
    );

    // Proxy entries: the URL and the flags must be what aws-mcp-proxy takes; not started (they
    // need a deployed function).
    let flags = proxy_flags();
    let mut targets = Vec::new();
    let mut expected = Vec::new();
    let mut started = BTreeSet::new();
    for e in &entries {
        let program = program_of(&e.command);
        if program == "aws-mcp-proxy" {
            let url = e
                .args
                .first()
                .unwrap_or_else(|| panic!("{} {}: the proxy needs the URL first", e.origin, e.name));
            assert!(
                url.starts_with("https://") && url.ends_with("/mcp"),
                "{} {}: the proxy URL {url} is not https://.../mcp",
                e.origin,
                e.name
            );
            for a in e.args.iter().filter(|a| a.starts_with("--")) {
                let flag = a.split('=').next().unwrap_or(a);
                assert!(
                    flags.contains(flag),
                    "{} {}: aws-mcp-proxy has no {flag} (it has {flags:?})",
                    e.origin,
                    e.name
                );
            }
            continue;
        }
        assert!(
            SERVERS.iter().any(|(b, _, _)| *b == program),
            "{} {}: unknown command {}",
            e.origin,
            e.name,
            e.command
        );
        // As the client starts it: the entry's args and env, plus what points the server at the
        // emulators (endpoints, dummy credentials, no AWS files). The entry's own region and
        // profile stay.
        let mut env = server_env(program);
        for (k, v) in &e.env {
            env.insert(k.clone(), Value::String(v.clone()));
        }
        for (k, v) in aws_env(&emulator_endpoints(services_of(program)), NOWHERE) {
            if k.starts_with("AWS_ENDPOINT_URL") || k.contains("ACCESS_KEY") || k.ends_with("_FILE") {
                env.insert(k, Value::String(v));
            }
        }
        let label = format!("{} {}", e.origin, e.name);
        targets.push(target(&label, program, &server_bin(program), &e.args, env, ""));
        started.insert(program);
        expected.push(Expected {
            label,
            bin: program,
            transport: "stdio",
            mode: "auto",
            protocol: MODERN,
        });
    }
    for (bin, _, _) in SERVERS {
        assert!(started.contains(*bin), "no README entry starts {bin}");
    }
    let plan = json!({ "targets": targets, "transports": ["stdio"], "modes": ["auto"] });
    let reports = run_client(&python(), "py_client.py", &plan).await;
    let lines = check_reports(&reports, &expected);
    print_summary("README entries", &reports, &lines);
}

// ---- MCP Bundles -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_bundles_validate_with_mcpb_and_start_as_claude_desktop_would() {
    node();
    let out_dir = std::env::temp_dir().join(unique("mcpb"));
    let status = tokio::process::Command::new(repo_root().join("packaging/mcpb/build.sh"))
        .args(["--no-pack", "--link", "--bin-dir"])
        .arg(server_bin_dir())
        .arg("--out")
        .arg(&out_dir)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("packaging/mcpb/build.sh");
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "build.sh failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&status.stderr)
    );
    // `mcpb validate` ran once per bundle and passed.
    assert_eq!(
        stdout.matches("Manifest schema validation passes").count(),
        SERVERS.len(),
        "mcpb validate output:\n{stdout}"
    );

    let workspace = std::fs::read_to_string(repo_root().join("Cargo.toml")).expect("Cargo.toml");
    let version = workspace
        .split("[workspace.package]")
        .nth(1)
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("version = \"")))
        .and_then(|r| r.split('"').next())
        .expect("workspace version");
    for (bin, _, _) in SERVERS {
        let m: Value =
            serde_json::from_slice(&std::fs::read(out_dir.join(bin).join("manifest.json")).expect("manifest"))
                .expect("manifest JSON");
        assert_eq!(m["name"], *bin);
        assert_eq!(m["version"], version, "{bin}: the bundle's version is the workspace's");
        assert_eq!(m["server"]["type"], "binary", "{bin}");
        assert_eq!(
            m["user_config"]["aws_region"]["required"], true,
            "{bin}: the region must be asked for"
        );
        assert!(m["user_config"]["aws_profile"].is_object(), "{bin}: a profile setting");
    }

    // The configuration Claude Desktop derives from each manifest (the mcpb library's own
    // function), with only the required setting given: defaults fill the rest.
    let user_config = json!({ "aws_region": region() }).to_string();
    let out = tokio::process::Command::new("node")
        .current_dir(clients_dir())
        .arg(clients_dir().join("mcpb_config.mjs"))
        .arg(&out_dir)
        .arg(&user_config)
        .output()
        .await
        .expect("mcpb_config.mjs");
    assert!(
        out.status.success(),
        "mcpb_config.mjs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let configs: Value = serde_json::from_slice(&out.stdout).expect("mcpb_config.mjs JSON");

    let mut targets = Vec::new();
    let mut expected = Vec::new();
    for (bin, _, _) in SERVERS {
        let c = &configs[*bin];
        let command = PathBuf::from(
            c["command"]
                .as_str()
                .unwrap_or_else(|| panic!("{bin}: no command in {c}")),
        );
        assert!(
            command.starts_with(out_dir.join(bin)) && command.exists(),
            "{bin}: the bundle's command {} is not its own binary",
            command.display()
        );
        let args: Vec<String> = c["args"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let mut env = server_env(bin);
        let bundle_env = c["env"].as_object().cloned().unwrap_or_default();
        for (k, v) in &bundle_env {
            assert!(
                !v.as_str().unwrap_or_default().contains("${"),
                "{bin}: {k}={v} was not substituted"
            );
            env.insert(k.clone(), v.clone());
        }
        let label = format!("bundle {bin}");
        targets.push(target(&label, bin, &command, &args, env, ""));
        expected.push(Expected {
            label,
            bin,
            transport: "stdio",
            mode: "auto",
            protocol: MODERN,
        });
    }
    let plan = json!({ "targets": targets, "transports": ["stdio"], "modes": ["auto"] });
    let reports = run_client(&python(), "py_client.py", &plan).await;
    let lines = check_reports(&reports, &expected);
    // The default allowlist (`*`) hides nothing.
    for r in &reports {
        let text = r["call"]["text"].as_str().unwrap_or_default();
        assert!(
            !text.contains("hidden_by_allowlist"),
            "{}: the default allowlist hid something: {text}",
            r["server"]
        );
    }
    print_summary("MCP bundles", &reports, &lines);
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn shell_words_and_claude_mcp_add_parse_like_a_shell_and_claude_code() {
    assert_eq!(
        shell_words(r#"claude mcp add x -e 'A=b c' -- cmd "--flag=v w" \* # comment"#),
        [
            "claude",
            "mcp",
            "add",
            "x",
            "-e",
            "A=b c",
            "--",
            "cmd",
            "--flag=v w",
            "*"
        ]
    );
    let words: Vec<String> = [
        "aws-s3",
        "--scope",
        "user",
        "-e",
        "A=1",
        "B=2",
        "--",
        "aws-s3-mcp",
        "--bucket",
        "r-*",
    ]
    .map(String::from)
    .to_vec();
    let e = parse_claude_mcp_add(&words, "t").expect("a valid line");
    assert_eq!((e.name.as_str(), e.command.as_str()), ("aws-s3", "aws-s3-mcp"));
    assert_eq!(e.args, ["--bucket", "r-*"]);
    assert_eq!(e.env.len(), 2);
    // Claude Code's own trap: a name after --env is taken as a variable.
    let trap: Vec<String> = ["-e", "A=1", "aws-s3", "--", "aws-s3-mcp"].map(String::from).to_vec();
    let err = parse_claude_mcp_add(&trap, "t").expect_err("Claude Code refuses it");
    assert!(err.contains("Invalid environment variable format: aws-s3"), "{err}");
    assert_eq!(
        code_blocks("### Kiro CLI\n```json\n{}\n```\n```sh\nx\n```\n", "json"),
        [("Kiro CLI".to_owned(), "{}\n".to_owned())]
    );
    assert_eq!(program_of(r"C:\Users\you\.cargo\bin\aws-s3-mcp.exe"), "aws-s3-mcp");
    assert_eq!(program_of("/Users/you/.cargo/bin/aws-s3-mcp"), "aws-s3-mcp");
}

/// Every server here is in `emulators::SERVERS`, which gives the services its endpoints are set for.
#[test]
fn every_server_here_is_registered_with_the_emulators() {
    for (bin, _, _) in SERVERS {
        assert!(
            emulators::SERVERS.iter().any(|(b, _)| b == bin),
            "{bin} missing from emulators::SERVERS"
        );
    }
}
