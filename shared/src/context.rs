//! What the current tool call is about, set once by the dispatch ([`crate::Core::call_tool`]) and
//! read where it matters: the tool's name (cursors are bound to it), the account and region the
//! caller chose (clients, cursors and cache keys are scoped by them). A task-local, so tools do not
//! pass it around and cannot forget it.

use std::sync::Arc;

use crate::accounts::Account;

/// The scope of one tool call.
#[derive(Clone, Debug, Default)]
pub struct Call {
    pub tool: String,
    /// The account chosen with `account`; `None` is the server's own credentials.
    pub account: Option<Arc<Account>>,
    /// The region chosen with `region`; `None` is the account's (or the server's) default.
    pub region: Option<String>,
}

tokio::task_local! {
    static CALL: Call;
}

/// Run `fut` as the call `call`.
pub async fn scope<F: std::future::Future>(call: Call, fut: F) -> F::Output {
    CALL.scope(call, fut).await
}

/// The current call, or an empty one outside a tool call (resources, completions, tests).
pub fn current() -> Call {
    CALL.try_with(Call::clone).unwrap_or_default()
}

/// The current tool's name ("" outside a call).
pub fn tool() -> String {
    CALL.try_with(|c| c.tool.clone()).unwrap_or_default()
}

/// A cache key for `key` scoped to the current account and region, so the same bucket or table
/// name in two accounts never shares an entry.
pub fn scoped(key: &str) -> String {
    let c = current();
    format!(
        "{}\u{0}{}\u{0}{key}",
        c.account.as_ref().map_or("", |a| a.alias.as_str()),
        c.region.as_deref().unwrap_or("")
    )
}

/// What a cursor is bound to besides the tool and its arguments.
pub(crate) fn binding() -> String {
    let c = current();
    format!(
        "{}|{}",
        c.account.as_ref().map_or("", |a| a.alias.as_str()),
        c.region.as_deref().unwrap_or("")
    )
}
