//! Tool families; each is a `#[tool_router]` block merged in `S3Server::new`.

mod buckets;
mod objects;
mod read;
mod write;
