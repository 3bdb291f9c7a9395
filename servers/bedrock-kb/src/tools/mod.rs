//! Tool families, each a `#[tool_router]` block merged in `BedrockKbServer::all_tools`.

pub(crate) mod bases;
pub(crate) mod retrieve;
