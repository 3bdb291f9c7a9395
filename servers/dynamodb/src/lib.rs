pub mod item;
pub mod partiql;
