//! `whoami`, `assume_role`, `get_access_key_info`, `decode_authorization_message`.

use rmcp::{handler::server::wrapper::Parameters, schemars, tool, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::{Output, ToolError, ToolResult, aws::call, context};

use crate::{DECODE_MESSAGE, GET_ACCESS_KEY_INFO, GET_CALLER_IDENTITY, StsServer, tools::expiry};

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct AccessKeyParams {
    /// Access key id (AKIA… or ASIA…).
    pub access_key_id: String,
}

#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct DecodeParams {
    /// The encoded message of an AccessDenied error, unchanged.
    pub encoded_message: String,
}

/// Longest encoded message STS accepts.
const MAX_ENCODED: usize = 10_240;

#[tool_router(router = identity_tools, vis = "pub(crate)")]
impl StsServer {
    /// Caller identity of the server's credentials, or with `account` the identity through that account's role.
    #[tool(annotations(
        title = "Who am I",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn whoami(&self) -> ToolResult {
        let call = context::current();
        let sessions = &self.inner.sessions;
        let region = sessions.region_for(call.account.as_ref(), call.region.as_deref());
        let mut out = json!({});
        if let Some(a) = &call.account {
            let info = sessions.session(a).await.ensure().await?;
            out = json!({ "via": a.alias, "role_arn": a.role_arn, "session": expiry(info.expires) });
        } else {
            out["via"] = json!("server credentials");
        }
        let c = sessions.clients(call.account.as_ref(), &region).await;
        let id = call_identity(&c).await?;
        out["account"] = json!(id.account());
        out["arn"] = json!(id.arn());
        out["user_id"] = json!(id.user_id());
        Ok(Output(out))
    }

    /// Assume `account`'s role (or reuse its live session): the assumed identity and the session's expiry. Credentials stay in the server.
    #[tool(annotations(
        title = "Assume an account's role",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn assume_role(&self) -> ToolResult {
        let call = context::current();
        let Some(a) = call.account else {
            return Err(ToolError::invalid(
                "account",
                "name the account whose role to assume; list_accounts shows them",
            ));
        };
        let sessions = &self.inner.sessions;
        let session = sessions.session(&a).await;
        let before = session.info().started;
        let info = session.ensure().await?;
        let region = sessions.region_for(Some(&a), call.region.as_deref());
        let c = sessions.clients(Some(&a), &region).await;
        let id = call_identity(&c).await?;
        let mut out = json!({
            "account": a.alias,
            "account_id": a.id,
            "role_arn": a.role_arn,
            "assumed_arn": id.arn(),
            "session": expiry(info.expires),
            "new_session": info.started > before,
        });
        if id.account().is_some_and(|got| got != a.id) {
            out["warning"] = json!(format!(
                "the role's session is in account {}, not {} as the accounts file says",
                id.account().unwrap_or_default(),
                a.id
            ));
        }
        Ok(Output(out))
    }

    /// The AWS account an access key id belongs to.
    #[tool(annotations(
        title = "Account of an access key",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn get_access_key_info(&self, Parameters(p): Parameters<AccessKeyParams>) -> ToolResult {
        let key = p.access_key_id.trim();
        if !(16..=128).contains(&key.len()) || !key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
            return Err(ToolError::invalid(
                "access_key_id",
                "must be an access key id: 16 to 128 upper-case letters and digits, like AKIAIOSFODNN7EXAMPLE",
            ));
        }
        let c = self.current_clients().await?;
        let out = call(
            GET_ACCESS_KEY_INFO,
            &c.target("STS", "sts"),
            c.sts().get_access_key_info().access_key_id(key).send(),
        )
        .await?;
        Ok(Output(json!({ "access_key_id": key, "account": out.account() })))
    }

    /// Decode an AccessDenied error's encoded message: the action, resource and conditions that failed. Use the account it came from.
    #[tool(annotations(
        title = "Decode an authorization message",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn decode_authorization_message(&self, Parameters(p): Parameters<DecodeParams>) -> ToolResult {
        let msg = p.encoded_message.trim();
        if msg.is_empty() || msg.len() > MAX_ENCODED {
            return Err(ToolError::invalid(
                "encoded_message",
                format!("must be the encoded message of the error (1 to {MAX_ENCODED} characters), unchanged"),
            ));
        }
        let c = self.current_clients().await?;
        let out = call(
            DECODE_MESSAGE,
            &c.target("STS", "sts"),
            c.sts().decode_authorization_message().encoded_message(msg).send(),
        )
        .await?;
        let text = out.decoded_message().unwrap_or_default();
        Ok(Output(decoded(text)))
    }
}

async fn call_identity(
    c: &crate::sessions::Clients,
) -> Result<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput, ToolError> {
    call(
        GET_CALLER_IDENTITY,
        &c.target("STS", "sts"),
        c.sts().get_caller_identity().send(),
    )
    .await
}

impl StsServer {
    /// The clients of the current call's account (its session made sure of) and region.
    pub(crate) async fn current_clients(&self) -> Result<crate::sessions::Clients, ToolError> {
        let call = context::current();
        let sessions = &self.inner.sessions;
        if let Some(a) = &call.account {
            sessions.session(a).await.ensure().await?;
        }
        let region = sessions.region_for(call.account.as_ref(), call.region.as_deref());
        Ok(sessions.clients(call.account.as_ref(), &region).await)
    }
}

/// The decoded message, with what failed pulled to the top: the action, the resource, the
/// principal, whether an explicit deny matched, and the request's conditions as key → values.
fn decoded(text: &str) -> Value {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return json!({ "decoded_text": text });
    };
    let ctx = &v["context"];
    let mut conditions = serde_json::Map::new();
    for item in ctx["conditions"]["items"].as_array().into_iter().flatten() {
        let Some(key) = item["key"].as_str() else { continue };
        let values: Vec<Value> = item["values"]["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x["value"].as_str().map(|s| json!(s)))
            .collect();
        conditions.insert(key.to_owned(), Value::Array(values));
    }
    json!({
        "allowed": v["allowed"],
        "explicit_deny": v["explicitDeny"],
        "action": ctx["action"],
        "resource": ctx["resource"],
        "principal": ctx["principal"]["arn"],
        "conditions": conditions,
        "matched_statements": v["matchedStatements"]["items"],
        "failures": v["failures"]["items"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_messages_put_what_failed_first() {
        let msg = r#"{"allowed":false,"explicitDeny":true,"matchedStatements":{"items":[{"statementId":"Deny1"}]},
          "failures":{"items":[]},"context":{"principal":{"id":"AROA:x","arn":"arn:aws:sts::111111111111:assumed-role/R/x"},
          "action":"ec2:RunInstances","resource":"arn:aws:ec2:us-east-1:111111111111:instance/*",
          "conditions":{"items":[{"key":"aws:Region","values":{"items":[{"value":"us-east-1"}]}}]}}}"#;
        let d = decoded(msg);
        assert_eq!(d["action"], "ec2:RunInstances");
        assert_eq!(d["explicit_deny"], true);
        assert_eq!(d["conditions"]["aws:Region"], json!(["us-east-1"]));
        assert_eq!(d["principal"], "arn:aws:sts::111111111111:assumed-role/R/x");
        assert_eq!(decoded("not json")["decoded_text"], "not json");
    }
}
