//! Hostile input, generated from a server's live `tools/list` (issue 13): for every tool and every
//! argument, the values a confused or malicious model sends — wrong JSON types, missing required
//! arguments, empty, 1 MB, control-character, right-to-left and combining strings, `../`, `*`, `%`,
//! spaces and 2,000-character names, negative, zero, huge and fractional numbers, 20,000-item arrays and
//! 10,000-key objects, unknown arguments, forged and truncated cursors, contradictory pairs — and, as raw
//! JSON-RPC lines, invalid UTF-16 escapes, 10,000-level nesting and arguments that are not an object.
//!
//! [`run`] sends every [`Case`] to one server process (one for value cases over rmcp's client, one
//! for raw lines over a [`RawSession`]), each within [`DEADLINE`], then makes a normal call to the
//! same process to show it still serves; a process that stops answering is recorded and restarted
//! so one defect does not hide the rest. [`table`] prints the outcomes.
//!
//! What counts as an answer ([`Expect`]): a result, or a tool error whose `structuredContent.error`
//! has a `kind` (and a `field` when the kind is `invalid_argument`); never kind `internal` (a caught
//! panic), never JSON-RPC `-32603`, never silence. Raw lines may also get a JSON-RPC error.

//!
//! | module | what |
//! |---|---|
//! | `cases` | the cases per tool and argument, from `tools/list` ([`tool_cases`], [`cases`], [`real_cursor_cases`]) |
//! | `contradictions` | argument pairs valid alone but contradictory together, per server ([`contradictions`]) |
//! | `run` | sending them to one server, judging each answer, the outcome table ([`run`], [`table`]) |

mod cases;
mod contradictions;
mod run;

use std::time::Duration;

use serde_json::{Map, Value, json};

pub use cases::{cases, real_cursor_cases, tool_cases};
pub use contradictions::contradictions;
pub use run::{Report, judge_raw, judge_result, run, table};

/// How long one case (and the normal call after it) may take.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Stands for a value spliced into a raw line after serialization (a private-use character, so
/// serde_json writes it verbatim).
const SPLICE: &str = "\u{e000}SPLICE\u{e000}";

/// What is sent.
#[derive(Clone, Debug)]
pub enum Body {
    /// `tools/call` arguments, sent through rmcp's client.
    Args(Map<String, Value>),
    /// One whole JSON-RPC line, written as is; its `id` is [`Case::raw_id`].
    Raw(String),
}

/// What a case must get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// A result, or a named tool error.
    Answer,
    /// A named tool error: the input must not be accepted (a forged cursor, say).
    Refusal,
    /// A tool error of kind `invalid_argument` naming this argument (or a path under it).
    Invalid(String),
    /// Raw line: a JSON-RPC error other than -32603 carrying the request id (or null), or an
    /// [`Expect::Answer`].
    Protocol,
}

/// One hostile call.
#[derive(Clone, Debug)]
pub struct Case {
    pub tool: String,
    /// What is hostile about it, for the failure list.
    pub what: String,
    pub body: Body,
    pub expect: Expect,
}

impl Case {
    fn args(tool: &str, what: impl Into<String>, args: Map<String, Value>, expect: Expect) -> Self {
        Self {
            tool: tool.to_owned(),
            what: what.into(),
            body: Body::Args(args),
            expect,
        }
    }

    /// A raw `tools/call` line: `args` serialized, then the [`SPLICE`] string (quotes included)
    /// replaced by `splice`.
    fn raw(tool: &str, what: impl Into<String>, args: &Value, splice: &str) -> Self {
        let line = json!({"jsonrpc": "2.0", "id": RAW_ID, "method": "tools/call", "params": {"name": tool, "arguments": args}})
            .to_string()
            .replace(&format!("\"{SPLICE}\""), splice);
        Self {
            tool: tool.to_owned(),
            what: what.into(),
            body: Body::Raw(line),
            expect: Expect::Protocol,
        }
    }

    /// The id every raw line carries (one raw request is in flight at a time).
    pub fn raw_id() -> &'static str {
        RAW_ID
    }
}

const RAW_ID: &str = "hostile";
