//! Tool families, each a `#[tool_router]` block merged in `LogsServer::all_tools`.

pub(crate) mod events;
pub(crate) mod groups;
pub(crate) mod insights;
