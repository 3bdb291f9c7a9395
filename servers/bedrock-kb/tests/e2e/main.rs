//! `aws-bedrock-kb-mcp` end to end: the real binary over stdio. The control plane is moto's server
//! (through the pass-through in `rig`, which also serves ListDataSources), the runtime a fake
//! endpoint speaking the service's REST-JSON wire format over a fixed corpus. One module per topic;
//! the checks every server shares are generated in `contract.rs` and `cli.rs`.

mod accounts;
mod cli;
mod contract;
mod discovery;
mod errors;
mod generate;
mod retrieve;
mod rig;

use aws_mcp_tests::Mcp;
use serde_json::{Value, json};

pub const BIN: &str = "aws-bedrock-kb-mcp";

/// A knowledge base with the corpus behind it and a server allowed to use it.
pub struct Setup {
    pub rig: rig::Rig,
    pub kb: String,
    pub mcp: Mcp,
}

/// One knowledge base (data sources DS1..DS4) and a server limited to it, with `args`.
pub async fn setup(args: &[&str]) -> Setup {
    let rig = rig::Rig::start().await;
    let p = rig::prefix("kb");
    let kb = rig
        .kb(
            &p,
            &[],
            &[
                ("DS1", "search-docs"),
                ("DS2", "billing-web"),
                ("DS3", "infra"),
                ("DS4", "archive"),
            ],
        )
        .await;
    let pattern = format!("{p}*");
    let mcp = rig.server(BIN).args(&["--kb", &pattern]).args(args).start().await;
    Setup { rig, kb, mcp }
}

/// `retrieve` arguments for `kb`, merged with `more`.
pub fn args(kb: &str, more: Value) -> Value {
    let mut a = json!({"knowledge_base_id": kb, "query": "how does it work"});
    if let (Some(a), Some(m)) = (a.as_object_mut(), more.as_object()) {
        a.extend(m.clone());
    }
    a
}
