//! `--confirm-destructive`: before a tool annotated destructive runs, the user is asked through
//! MCP elicitation, with the tool, the account and the exact arguments. Only an explicit yes lets
//! the call run; a decline, a cancel, a timeout or a client that cannot ask is a tool error and
//! nothing changes.

use std::time::Duration;

use rmcp::{Peer, RoleServer, model::JsonObject, service::ElicitationError};

use crate::{ToolError, accounts::Account};

/// How long the user has to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(300);

/// The form the user fills in: one checkbox.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct Confirm {
    /// Tick to let the change go ahead.
    pub confirm: bool,
}

rmcp::elicit_safe!(Confirm);

/// Ask the user to confirm `tool` with `args`; `Ok` only on an explicit yes.
pub(crate) async fn ask(
    peer: &Peer<RoleServer>,
    tool: &str,
    args: &JsonObject,
    account: Option<&Account>,
) -> Result<(), ToolError> {
    let mut shown = serde_json::to_string(args).unwrap_or_default();
    if shown.len() > 2_000 {
        let cut = (0..=2_000).rev().find(|&i| shown.is_char_boundary(i)).unwrap_or(0);
        shown.truncate(cut);
        shown.push('…');
    }
    let place = account
        .map(|a| format!(" in account {}", a.label()))
        .unwrap_or_default();
    let message = format!("{tool} will change or delete AWS data{place} with these arguments: {shown}. Allow it?");
    match peer.elicit_with_timeout::<Confirm>(message, Some(ANSWER_TIMEOUT)).await {
        Ok(Some(Confirm { confirm: true })) => Ok(()),
        Ok(_)
        | Err(ElicitationError::UserDeclined)
        | Err(ElicitationError::UserCancelled)
        | Err(ElicitationError::NoContent) => Err(ToolError::Declined(format!(
            "{tool} was declined by the user; nothing was changed"
        ))),
        Err(ElicitationError::CapabilityNotSupported) => Err(ToolError::Declined(format!(
            "{tool} needs the user's confirmation (the server runs with --confirm-destructive), but this client \
             cannot ask (no elicitation support); nothing was changed. The operator can restart the server \
             without --confirm-destructive to run destructive tools unconfirmed"
        ))),
        Err(e) => Err(ToolError::Declined(format!(
            "{tool} could not be confirmed ({e}); nothing was changed"
        ))),
    }
}
