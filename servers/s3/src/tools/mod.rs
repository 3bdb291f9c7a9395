//! Tool families; each is a `#[tool_router]` block merged in `S3Server::new`.

pub(crate) mod buckets;
pub(crate) mod objects;
pub(crate) mod read;
pub(crate) mod write;
