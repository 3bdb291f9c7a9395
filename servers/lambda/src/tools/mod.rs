//! The static tools, one file per noun.

mod access;
mod functions;
mod invoke;
mod versions;
