//! Functions as MCP tools (`--function-tools`), compatible with Amazon Bedrock AgentCore Gateway's
//! Lambda targets in both directions:
//!
//! - Tool definitions use the Gateway's format (`{"inlinePayload": [{"name", "description",
//!   "inputSchema"}]}` or the bare array), read from the S3 object named by the function's
//!   `mcp:tool-schema` tag (`s3://bucket/key.json`) or from `--tool-schemas FILE`; one function may
//!   define several tools. Without either, a function is one tool taking its event as `event`.
//! - A call sends the bare arguments as the payload and the tool's name in the client context as
//!   the Gateway does (`custom.bedrockAgentCoreToolName = "<function>___<tool>"`), so a function
//!   written for the Gateway works here unchanged.
//! - MCP names are `<function>___<tool>` (the Gateway's own naming; a default tool is just the
//!   function's name), cleaned to `[A-Za-z0-9_-]` and at most 64 characters with a stable hash
//!   suffix; a collision is resolved the same way, in a fixed order, and logged.
//! - `mcp:read-only=true` gives read-only annotations; anything else is annotated as possibly
//!   destructive. `--expose-tag-only` keeps only functions tagged `mcp:expose=true`.
//! - The set is re-read every `--tools-refresh-secs`; when it changes, connected clients get
//!   `notifications/tools/list_changed`.
//!
//! Function tools run in the server's own account and region, where they were discovered.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::Path,
    sync::{Arc, RwLock},
    time::Duration,
};

use aws_sdk_s3::error::SdkError;
use base64::Engine;
use futures::StreamExt;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};
use shared::{Allowlist, ClientPool, Core, Output, ToolError, ToolResult, aws::call};

use crate::{
    LIST_TAGS, LambdaServer, S3_GET_OBJECT,
    invoke::{InvocationType, Request, payload_value},
    names::{self, FunctionRef},
    scan,
};

/// Most functions one refresh looks at, and AWS pages it reads.
const MAX_FUNCTIONS: usize = 2_000;
const MAX_PAGES: usize = 60;
/// Concurrent ListTags / S3 reads during a refresh.
const CONCURRENCY: usize = 8;
/// Largest tool-definition file read from S3.
const MAX_SCHEMA_BYTES: usize = 1024 * 1024;
/// Longest tool description kept.
const MAX_DESCRIPTION: usize = 1_000;
/// `bedrockAgentCoreMessageVersion`, as the Gateway sends it.
const MESSAGE_VERSION: &str = "1.0";

pub(crate) const TAG_SCHEMA: &str = "mcp:tool-schema";
pub(crate) const TAG_EXPOSE: &str = "mcp:expose";
pub(crate) const TAG_READ_ONLY: &str = "mcp:read-only";

/// One tool definition in the Gateway's format.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Definition {
    pub name: String,
    pub description: Option<String>,
    pub input_schema: JsonObject,
}

/// Definitions per function name (from `--tool-schemas`).
pub(crate) type SchemaFile = BTreeMap<String, Vec<Definition>>;

pub(crate) struct Settings {
    pub allow: Allowlist,
    pub expose_tag_only: bool,
    pub schemas: SchemaFile,
    /// The static tools' names, which function tools must not take.
    pub reserved: BTreeSet<String>,
    pub refresh: Duration,
}

/// Where a listed tool goes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Route {
    pub function: String,
    pub arn: String,
    /// The tool's own name (the part after `___` in the Gateway's naming).
    pub tool: String,
    /// A default tool: the payload is the `event` argument, not the bare arguments.
    pub default: bool,
}

impl Route {
    /// The Gateway's client context, base64 JSON.
    pub(crate) fn client_context(&self) -> String {
        let ctx = json!({ "custom": {
            "bedrockAgentCoreToolName": format!("{}___{}", self.function, self.tool),
            "bedrockAgentCoreMessageVersion": MESSAGE_VERSION,
        }});
        base64::engine::general_purpose::STANDARD.encode(ctx.to_string())
    }
}

#[derive(Default)]
struct State {
    tools: Vec<Tool>,
    routes: HashMap<String, Route>,
}

pub(crate) struct Catalog {
    settings: Settings,
    lambda: ClientPool<aws_sdk_lambda::Client>,
    s3: ClientPool<aws_sdk_s3::Client>,
    state: RwLock<Arc<State>>,
}

/// Emulators and S3-compatible stores behind an endpoint override need path-style URLs.
fn s3_client(sdk: &aws_types::SdkConfig, region: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(shared::aws::endpoint_override(sdk, "S3").is_some())
        .region(aws_sdk_s3::config::Region::new(region.to_owned()));
    aws_sdk_s3::Client::from_conf(conf.build())
}

/// A function found by a refresh, with what its tags say.
struct Candidate {
    function: String,
    arn: String,
    description: Option<String>,
    read_only: bool,
    definitions: Option<Vec<Definition>>,
}

impl Catalog {
    pub(crate) fn new(core: &Core, lambda: ClientPool<aws_sdk_lambda::Client>, settings: Settings) -> Self {
        Self {
            settings,
            lambda,
            s3: ClientPool::new(core, "S3", "s3", s3_client),
            state: RwLock::default(),
        }
    }

    /// Refresh now and then every `refresh`, telling clients when the set changes.
    pub(crate) fn start(self: &Arc<Self>, core: Core) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                match me.refresh().await {
                    Ok(true) => core.notify_tools_changed().await,
                    Ok(false) => {}
                    Err(e) => tracing::warn!("function tools: refresh failed, the previous set stays: {e}"),
                }
                tokio::time::sleep(me.settings.refresh).await;
            }
        });
    }

    fn current(&self) -> Arc<State> {
        self.state.read().map(|s| Arc::clone(&s)).unwrap_or_default()
    }

    pub(crate) fn tools(&self) -> Vec<Tool> {
        self.current().tools.clone()
    }

    pub(crate) fn route(&self, name: &str) -> Option<Route> {
        self.current().routes.get(name).cloned()
    }

    /// Re-read the functions; whether the tool set changed.
    pub(crate) async fn refresh(&self) -> Result<bool, ToolError> {
        let candidates = self.discover().await?;
        let next = build(candidates, &self.settings.reserved);
        let old = self.current();
        let same = old.routes == next.routes
            && serde_json::to_value(&old.tools).ok() == serde_json::to_value(&next.tools).ok();
        if same {
            return Ok(false);
        }
        tracing::info!(tools = next.tools.len(), "function tools changed");
        if let Ok(mut s) = self.state.write() {
            *s = Arc::new(next);
        }
        Ok(true)
    }

    async fn discover(&self) -> Result<Vec<Candidate>, ToolError> {
        let (client, target) = self.lambda.get().await?;
        let allow = &self.settings.allow;
        let found = scan::functions(&client, &target, scan::Pos::default(), MAX_FUNCTIONS, MAX_PAGES, |f| {
            allow.allows(f.function_name().unwrap_or_default())
        })
        .await?;
        if !found.finished || found.items.len() > MAX_FUNCTIONS {
            tracing::warn!(
                looked_at = found.scanned,
                "function tools: the function list was not read to the end (at most {MAX_FUNCTIONS} functions, \
                 {MAX_PAGES} pages); narrow --function"
            );
        }
        let functions: Vec<(String, String, Option<String>)> = found
            .items
            .iter()
            .take(MAX_FUNCTIONS)
            .filter_map(|(_, c)| {
                Some((
                    c.function_name()?.to_owned(),
                    c.function_arn()?.to_owned(),
                    c.description().filter(|d| !d.is_empty()).map(str::to_owned),
                ))
            })
            .collect();
        let (client, target) = (&client, &target);
        let candidates: Vec<Option<Candidate>> = futures::stream::iter(functions)
            .map(|(function, arn, description)| async move {
                let req = client.list_tags().resource(&arn).send();
                let tags = match call(LIST_TAGS, target, req).await {
                    Ok(out) => out.tags().cloned().unwrap_or_default(),
                    Err(e) => {
                        tracing::warn!(function, "function tools: skipped, its tags cannot be read: {e}");
                        return None;
                    }
                };
                let is_true = |k: &str| tags.get(k).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
                if self.settings.expose_tag_only && !is_true(TAG_EXPOSE) {
                    return None;
                }
                let definitions = match (self.settings.schemas.get(&function), tags.get(TAG_SCHEMA)) {
                    (Some(defs), _) => Some(defs.clone()),
                    (None, Some(uri)) => match self.read_schema(uri).await {
                        Ok(defs) => Some(defs),
                        Err(e) => {
                            tracing::warn!(
                                function,
                                "function tools: skipped, its {TAG_SCHEMA} cannot be used: {e}"
                            );
                            return None;
                        }
                    },
                    (None, None) => None,
                };
                Some(Candidate {
                    read_only: is_true(TAG_READ_ONLY),
                    function,
                    arn,
                    description,
                    definitions,
                })
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        Ok(candidates.into_iter().flatten().collect())
    }

    /// The definitions in `s3://bucket/key` (in the bucket's own region when it is not ours).
    async fn read_schema(&self, uri: &str) -> Result<Vec<Definition>, String> {
        let (bucket, key) = parse_s3_uri(uri)?;
        let (client, target) = self.s3.get().await.map_err(|e| e.to_string())?;
        let get = |c: aws_sdk_s3::Client| async move { c.get_object().bucket(bucket).key(key).send().await };
        let out = match get(client).await {
            Ok(out) => out,
            Err(SdkError::ServiceError(e)) => {
                let region = e.raw().headers().get("x-amz-bucket-region").map(str::to_owned);
                match region.filter(|r| *r != target.region) {
                    Some(region) => {
                        let (client, target) = self.s3.get_in(&region).await.map_err(|e| e.to_string())?;
                        call(S3_GET_OBJECT, &target, get(client))
                            .await
                            .map_err(|e| e.to_string())?
                    }
                    None => {
                        return Err(ToolError::from_sdk(S3_GET_OBJECT, &target, SdkError::ServiceError(e)).to_string());
                    }
                }
            }
            Err(e) => return Err(ToolError::from_sdk(S3_GET_OBJECT, &target, e).to_string()),
        };
        if out.content_length().is_some_and(|n| n > MAX_SCHEMA_BYTES as i64) {
            return Err(format!("{uri} is larger than {MAX_SCHEMA_BYTES} bytes"));
        }
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| format!("reading {uri}: {e}"))?
            .into_bytes();
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{uri} is not JSON: {e}"))?;
        parse_definitions(&value).map_err(|e| format!("{uri}: {e}"))
    }
}

/// `s3://bucket/key` → (bucket, key).
pub(crate) fn parse_s3_uri(uri: &str) -> Result<(&str, &str), String> {
    let rest = uri
        .trim()
        .strip_prefix("s3://")
        .ok_or_else(|| format!("`{uri}` is not an s3://bucket/key URI"))?;
    match rest.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok((b, k)),
        _ => Err(format!("`{uri}` is not an s3://bucket/key URI")),
    }
}

/// Tool definitions in the Gateway's format: `{"inlinePayload": [...]}` or the bare array.
pub(crate) fn parse_definitions(v: &Value) -> Result<Vec<Definition>, String> {
    let list = match v {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("inlinePayload") {
            Some(Value::Array(a)) => a,
            _ => return Err("expected {\"inlinePayload\": [tool definitions]} or an array of them".into()),
        },
        _ => return Err("expected {\"inlinePayload\": [tool definitions]} or an array of them".into()),
    };
    let mut seen = BTreeSet::new();
    let mut defs = Vec::new();
    for (i, d) in list.iter().enumerate() {
        let name = d
            .get("name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("tool definition {i} has no name"))?;
        if !seen.insert(name.to_owned()) {
            return Err(format!("tool `{name}` is defined twice"));
        }
        let input_schema = match d.get("inputSchema") {
            None | Some(Value::Null) => JsonObject::new(),
            Some(Value::Object(s)) => s.clone(),
            Some(_) => return Err(format!("tool `{name}`: inputSchema must be a JSON object")),
        };
        if input_schema.get("type").is_some_and(|t| t != "object") {
            return Err(format!("tool `{name}`: inputSchema must have type object"));
        }
        defs.push(Definition {
            name: name.to_owned(),
            description: d.get("description").and_then(Value::as_str).map(str::to_owned),
            input_schema,
        });
    }
    if defs.is_empty() {
        return Err("no tool definitions".into());
    }
    Ok(defs)
}

/// `--tool-schemas FILE`: `{"function": {"inlinePayload": [...]}}` or `{"function": [...]}`.
pub(crate) fn load_schema_file(path: &Path) -> Result<SchemaFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let Value::Object(map) = v else {
        return Err(format!(
            "{} must map function names to tool definitions",
            path.display()
        ));
    };
    map.iter()
        .map(|(function, defs)| {
            parse_definitions(defs)
                .map(|d| (function.clone(), d))
                .map_err(|e| format!("{}: function `{function}`: {e}", path.display()))
        })
        .collect()
}

fn annotations(title: String, read_only: bool) -> ToolAnnotations {
    let a = ToolAnnotations::new().open_world(true);
    let mut a = if read_only {
        a.read_only(true).destructive(false).idempotent(true)
    } else {
        a.read_only(false).destructive(true).idempotent(false)
    };
    a.title = Some(title);
    a
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_DESCRIPTION) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// The tool set for `candidates`: names assigned in a fixed order (function, then tool), so the
/// same functions always give the same names.
fn build(mut candidates: Vec<Candidate>, reserved: &BTreeSet<String>) -> State {
    candidates.sort_by(|a, b| a.function.cmp(&b.function));
    let mut used: BTreeSet<String> = reserved.clone();
    let mut state = State::default();
    for c in candidates {
        let defs: Vec<(Definition, bool)> = match &c.definitions {
            Some(defs) => defs.iter().cloned().map(|d| (d, false)).collect(),
            None => {
                // An open object: the arguments are the event, as the Gateway sends them.
                let schema = json!({"type": "object", "properties": {}, "additionalProperties": true});
                let description = c
                    .description
                    .clone()
                    .unwrap_or_else(|| format!("Runs the Lambda function {}.", c.function));
                vec![(
                    Definition {
                        name: c.function.clone(),
                        description: Some(description),
                        input_schema: schema.as_object().cloned().unwrap_or_default(),
                    },
                    true,
                )]
            }
        };
        for (def, default) in defs {
            let candidate = if default {
                c.function.clone()
            } else {
                format!("{}___{}", c.function, def.name)
            };
            let key = format!("{}\u{0}{}", c.function, def.name);
            let mut name = names::tool_name(&candidate, &key);
            if used.contains(&name) {
                let mut n = 0u32;
                let mut renamed = names::with_suffix(&name, &key);
                while used.contains(&renamed) {
                    n += 1;
                    renamed = names::with_suffix(&name, &format!("{key}\u{0}{n}"));
                }
                tracing::warn!(
                    tool = candidate,
                    listed_as = renamed,
                    "function tools: name collision resolved"
                );
                name = renamed;
            }
            for shadowed in ["region", "account"] {
                if def
                    .input_schema
                    .get("properties")
                    .and_then(|p| p.get(shadowed))
                    .is_some()
                {
                    tracing::warn!(
                        tool = name,
                        "function tools: the `{shadowed}` property is the server's own argument here; rename it in the definition"
                    );
                }
            }
            used.insert(name.clone());
            let mut schema = def.input_schema.clone();
            schema.entry("type").or_insert_with(|| json!("object"));
            let description = def
                .description
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .map(clip)
                .unwrap_or_else(|| format!("{} (Lambda function {}).", def.name, c.function));
            let title = if default {
                format!("Lambda {}", c.function)
            } else {
                format!("{} ({})", def.name, c.function)
            };
            let tool = Tool::new(name.clone(), description, Arc::new(schema))
                .with_annotations(annotations(title, c.read_only));
            state.tools.push(tool);
            state.routes.insert(
                name,
                Route {
                    function: c.function.clone(),
                    arn: c.arn.clone(),
                    tool: def.name.clone(),
                    default,
                },
            );
        }
    }
    state.tools.sort_by(|a, b| a.name.cmp(&b.name));
    state
}

impl LambdaServer {
    /// Run a function tool: the bare arguments (a default tool: its `event`) as the payload, the
    /// Gateway's client context, a function error as a tool error.
    pub(crate) async fn call_function_tool(&self, route: &Route, args: JsonObject) -> ToolResult {
        let call = shared::context::current();
        if call.account.is_some() {
            return Err(ToolError::invalid(
                "account",
                "function tools run in the server's own account; use invoke_function for other accounts",
            ));
        }
        let home = self
            .inner
            .clients
            .base()
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default();
        if let Some(region) = call.region.filter(|r| *r != home) {
            return Err(ToolError::invalid(
                "region",
                format!(
                    "function tools run in {home}, where they were found, not {region}; use invoke_function for other regions"
                ),
            ));
        }
        self.inner.allow.check(&route.function)?;
        let payload = Value::Object(args);
        let payload = serde_json::to_vec(&payload).map_err(|e| ToolError::Other(format!("payload: {e}")))?;
        let f = FunctionRef {
            name: route.function.clone(),
            id: route.arn.clone(),
        };
        let inv = self
            .invoke(Request {
                function: &f,
                qualifier: None,
                payload: &payload,
                kind: InvocationType::RequestResponse,
                log_tail: true,
                timeout_secs: None,
                client_context: Some(route.client_context()),
            })
            .await?;
        if inv.function_error.is_some() {
            return Err(ToolError::Other(self.failure(&route.function, &inv).text()));
        }
        let (result, format) = payload_value(&inv.payload);
        let mut out = json!({ "result": result });
        if format != "json" {
            out["result_format"] = json!(format);
        }
        Ok(Output(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(function: &str, defs: Option<Vec<Definition>>) -> Candidate {
        Candidate {
            function: function.into(),
            arn: format!("arn:aws:lambda:us-east-1:1:function:{function}"),
            description: None,
            read_only: false,
            definitions: defs,
        }
    }

    fn def(name: &str) -> Definition {
        Definition {
            name: name.into(),
            description: Some(format!("does {name}")),
            input_schema: JsonObject::new(),
        }
    }

    #[test]
    fn definitions_in_both_gateway_shapes() {
        let inline = json!({"inlinePayload": [{"name": "a", "description": "A", "inputSchema": {"type": "object", "properties": {"x": {"type": "string"}}}}]});
        let defs = parse_definitions(&inline).unwrap();
        assert_eq!(defs[0].name, "a");
        assert!(defs[0].input_schema.contains_key("properties"));
        assert_eq!(parse_definitions(&json!([{"name": "b"}])).unwrap()[0].name, "b");
        for bad in [
            json!({}),
            json!([]),
            json!([{"description": "x"}]),
            json!([{"name": "a"}, {"name": "a"}]),
            json!([{"name": "a", "inputSchema": {"type": "string"}}]),
            json!("x"),
        ] {
            assert!(parse_definitions(&bad).is_err(), "{bad}");
        }
        assert_eq!(parse_s3_uri("s3://b/k/t.json").unwrap(), ("b", "k/t.json"));
        assert!(parse_s3_uri("s3://b").is_err() && parse_s3_uri("https://b/k").is_err());
    }

    #[test]
    fn names_follow_the_gateway_and_collisions_resolve_the_same_way_every_time() {
        let reserved: BTreeSet<String> = ["list_functions".to_owned()].into();
        let make = || {
            vec![
                candidate("weather", Some(vec![def("get_forecast"), def("get_alerts")])),
                candidate("list_functions", None),
                candidate("a.b", Some(vec![def("x")])),
                candidate("a_b", Some(vec![def("x")])),
            ]
        };
        let state = build(make(), &reserved);
        let names: Vec<&str> = state.tools.iter().map(|t| t.name.as_ref()).collect();
        assert!(names.contains(&"weather___get_forecast") && names.contains(&"weather___get_alerts"));
        assert!(
            !names.contains(&"list_functions"),
            "a static name is never taken: {names:?}"
        );
        assert!(names.iter().any(|n| n.starts_with("list_functions-")));
        // `a.b` and `a_b` both clean to `a_b___x`: the first in order keeps it.
        assert!(names.contains(&"a_b___x"));
        assert_eq!(state.routes["a_b___x"].function, "a.b");
        assert_eq!(names.len(), 5);
        let again = build(make().into_iter().rev().collect(), &reserved);
        assert_eq!(again.routes, state.routes, "order of discovery does not matter");
        assert_eq!(state.routes["weather___get_forecast"].tool, "get_forecast");
    }

    #[test]
    fn client_context_is_the_gateways() {
        let route = Route {
            function: "weather".into(),
            arn: "arn".into(),
            tool: "get_forecast".into(),
            default: false,
        };
        let raw = base64::engine::general_purpose::STANDARD
            .decode(route.client_context())
            .unwrap();
        let ctx: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(ctx["custom"]["bedrockAgentCoreToolName"], "weather___get_forecast");
        assert_eq!(ctx["custom"]["bedrockAgentCoreMessageVersion"], "1.0");
        // What a Rust function built on lambda_runtime sees (Lambda hands it the decoded JSON).
        use lambda_http::{
            http::{HeaderMap, HeaderValue},
            lambda_runtime::{Config, Context},
        };
        let mut headers = HeaderMap::new();
        let json = String::from_utf8(raw).unwrap();
        headers.insert("lambda-runtime-client-context", HeaderValue::from_str(&json).unwrap());
        headers.insert("lambda-runtime-deadline-ms", HeaderValue::from_static("0"));
        let seen = Context::new("r", Arc::new(Config::default()), &headers).unwrap();
        assert_eq!(
            seen.client_context.unwrap().custom["bedrockAgentCoreToolName"],
            "weather___get_forecast"
        );
    }

    #[test]
    fn read_only_tag_decides_the_annotations() {
        let ro = annotations("t".into(), true);
        assert_eq!((ro.read_only_hint, ro.destructive_hint), (Some(true), Some(false)));
        let rw = annotations("t".into(), false);
        assert_eq!(
            (rw.read_only_hint, rw.destructive_hint, rw.open_world_hint),
            (Some(false), Some(true), Some(true))
        );
    }
}
